// web/: the shell console panel. A scrolling log of what was typed and what the
// kernel did, coloured by kind, and an input line with history (after Dear ImGui's
// demo console). It knows nothing of the engine: it shows text and hands lines to App.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shell/session.h"

namespace vmplay::web {

struct PanelContext;

struct ConsolePanel {
  enum class Kind : uint8_t { Input, Caret, Result, Event, Signal, Text, Comment, Note, Error };
  struct Line {
    Kind kind = Kind::Text;
    std::string text;
    // For a refused input line: the columns of `text` a caret row underlines.
    bool has_caret = false;
    uint32_t caret_begin = 0;
    uint32_t caret_end = 0;
  };
  // A visual row: a slice of a log line wrapped to the panel's width (the font is
  // monospaced, so wrapping is by character count), or the caret row under one.
  struct Row {
    uint32_t line = 0;
    uint32_t offset = 0;
    uint32_t len = 0;
    bool continuation = false;  // not the first row of its line: drawn indented
    bool caret = false;
  };

  std::vector<Line> log;
  std::vector<Row> rows;  // the log laid out; extended as lines come, rebuilt on resize
  size_t rows_lines = 0;  // how many log lines `rows` covers
  int rows_cols = 0;      // the width it was laid out for (0: rebuild)
  std::array<char, 1024> input{};   // the line being edited
  std::vector<std::string> history;
  int history_pos = -1;             // -1: editing a new line; else an index into history
  std::string saved_input;          // the new line while browsing history
  bool focus_input = true;          // give the input keyboard focus on the next frame
  // Text pasted into the page, for the input line. The paste moved the browser's focus
  // away and back, which made the input inactive: it goes into the buffer, and the
  // cursor to its end when the input is active again.
  std::string pending_paste;
  bool cursor_to_end = false;
  bool scroll_to_bottom = true;
  size_t max_lines = 20000;         // oldest lines go beyond this (an eighth more at a time)

  // Logs a line that was run, and its output.
  void record(std::string_view line, const shell::Output& out);
  void add(Kind kind, std::string_view text);  // splits on '\n'
  void clear();
  std::string text() const;  // the whole log, a line each, for copying
  // Wraps lines not yet laid out (all of them when the width changed).
  void layout(int cols);
};

void draw_console(ConsolePanel& p, PanelContext& ctx);

}  // namespace vmplay::web
