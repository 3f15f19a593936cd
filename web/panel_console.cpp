#include "web/panel_console.h"

#include <algorithm>
#include <cfloat>
#include <cstring>

#include "imgui.h"
#include "imgui_internal.h"  // ImGuiInputTextState: clearing the line while it stays active
#include "shell/lessons.h"
#include "web/app.h"

namespace vmplay::web {

namespace {

using Kind = ConsolePanel::Kind;

ImVec4 rgb(int r, int g, int b) { return ImVec4(static_cast<float>(r) / 255.0f, static_cast<float>(g) / 255.0f, static_cast<float>(b) / 255.0f, 1.0f); }

ImVec4 kind_colour_dark(Kind k) {
  switch (k) {
    case Kind::Input: return rgb(120, 190, 255);
    case Kind::Caret: return rgb(255, 95, 95);
    case Kind::Result: return rgb(225, 228, 235);
    case Kind::Event: return rgb(230, 195, 100);
    case Kind::Signal: return rgb(255, 130, 70);
    case Kind::Text: return rgb(185, 190, 200);
    case Kind::Comment: return rgb(120, 165, 125);
    case Kind::Note: return rgb(190, 160, 240);
    case Kind::Error: return rgb(255, 95, 95);
  }
  return rgb(255, 255, 255);
}

// On the light theme: the same hues, dark enough to read on white.
ImVec4 kind_colour(Kind k, bool light) {
  if (!light) return kind_colour_dark(k);
  switch (k) {
    case Kind::Result: return rgb(25, 27, 32);
    case Kind::Text: return rgb(60, 64, 72);
    case Kind::Input: return rgb(20, 90, 170);
    case Kind::Event: return rgb(150, 100, 0);
    case Kind::Comment: return rgb(40, 110, 50);
    case Kind::Note: return rgb(110, 60, 170);
    default: {
      ImVec4 c = kind_colour_dark(k);
      return ImVec4(c.x * 0.75f, c.y * 0.5f, c.z * 0.5f, 1.0f);
    }
  }
}

Kind from_line_kind(shell::LineKind k) {
  switch (k) {
    case shell::LineKind::Input: return Kind::Input;
    case shell::LineKind::Result: return Kind::Result;
    case shell::LineKind::Event: return Kind::Event;
    case shell::LineKind::Signal: return Kind::Signal;
    case shell::LineKind::Text: return Kind::Text;
    case shell::LineKind::Comment: return Kind::Comment;
    case shell::LineKind::Note: return Kind::Note;
    case shell::LineKind::Error: return Kind::Error;
  }
  return Kind::Text;
}


bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '/';
}

struct CallbackData {
  ConsolePanel* panel;
  const shell::Session* session;
};

void complete(ImGuiInputTextCallbackData* data, ConsolePanel& p, const shell::Session& s) {
  int end = data->CursorPos;
  int start = end;
  while (start > 0 && word_char(data->Buf[start - 1])) --start;
  std::string_view word(data->Buf + start, static_cast<size_t>(end - start));
  if (word.empty()) return;
  // The calls, commands and constants the shell knows, plus the variables.
  static const std::vector<shell::Session::Word> kWords = shell::Session::words();
  std::vector<std::string_view> matches;
  bool call = false;
  for (const auto& w : kWords)
    if (std::string_view(w.text).substr(0, word.size()) == word &&
        std::find(matches.begin(), matches.end(), w.text) == matches.end()) {
      matches.push_back(w.text);
      call = w.is_call;
    }
  for (const auto& [name, value] : s.variables())
    if (std::string_view(name).substr(0, word.size()) == word) matches.push_back(name);
  if (matches.empty()) return;
  // Longest common prefix of the matches, as a shell does.
  size_t common = matches[0].size();
  for (auto m : matches) {
    size_t i = 0;
    while (i < common && i < m.size() && m[i] == matches[0][i]) ++i;
    common = i;
  }
  if (common > word.size()) {
    data->DeleteChars(start, end - start);
    std::string ins(matches[0].substr(0, common));
    data->InsertChars(data->CursorPos, ins.c_str());
  }
  if (matches.size() == 1) {
    data->InsertChars(data->CursorPos, call ? "(" : " ");
  } else if (common == word.size()) {
    std::string list = "completions:";
    for (auto m : matches) {
      list += "  ";
      list += m;
    }
    p.add(Kind::Note, list);
  }
}

int input_callback(ImGuiInputTextCallbackData* data) {
  auto* cb = static_cast<CallbackData*>(data->UserData);
  ConsolePanel& p = *cb->panel;
  if (data->EventFlag == ImGuiInputTextFlags_CallbackAlways) {
    if (p.cursor_to_end) {
      data->CursorPos = data->SelectionStart = data->SelectionEnd = data->BufTextLen;
      p.cursor_to_end = false;
    }
  } else if (data->EventFlag == ImGuiInputTextFlags_CallbackCompletion) {
    complete(data, p, *cb->session);
  } else if (data->EventFlag == ImGuiInputTextFlags_CallbackHistory) {
    const int n = static_cast<int>(p.history.size());
    int pos = p.history_pos;
    if (data->EventKey == ImGuiKey_UpArrow) {
      if (n == 0) return 0;
      if (pos == -1) {
        p.saved_input.assign(data->Buf, static_cast<size_t>(data->BufTextLen));
        pos = n - 1;
      } else if (pos > 0) {
        --pos;
      }
    } else if (data->EventKey == ImGuiKey_DownArrow) {
      if (pos == -1) return 0;
      pos = pos + 1 < n ? pos + 1 : -1;
    }
    if (pos != p.history_pos) {
      p.history_pos = pos;
      const std::string& text = pos == -1 ? p.saved_input : p.history[static_cast<size_t>(pos)];
      data->DeleteChars(0, data->BufTextLen);
      data->InsertChars(0, text.c_str());
    }
  }
  return 0;
}

}  // namespace

void ConsolePanel::add(Kind kind, std::string_view text) {
  // One log entry per visual line, so the list clipper can step by line height.
  size_t b = 0;
  while (true) {
    size_t e = text.find('\n', b);
    std::string_view part = text.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    if (e == std::string_view::npos) {
      if (!part.empty() || b == 0) log.push_back({kind, std::string(part)});
      break;
    }
    log.push_back({kind, std::string(part)});
    b = e + 1;
  }
  if (log.size() > max_lines + max_lines / 8) {
    // The oldest lines go an eighth of the log at a time: erasing the front and laying
    // the rest out again costs the whole log, so not on every line once it is full.
    log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(log.size() - max_lines));
    rows_cols = 0;  // line numbers moved: lay out again
  }
  scroll_to_bottom = true;
}

void ConsolePanel::clear() {
  log.clear();
  rows.clear();
  rows_lines = 0;
}

void ConsolePanel::layout(int cols) {
  cols = std::max(cols, 16);
  if (cols != rows_cols || rows_lines > log.size()) {
    rows.clear();
    rows_lines = 0;
    rows_cols = cols;
  }
  const uint32_t indent = 2;
  for (; rows_lines < log.size(); ++rows_lines) {
    const Line& l = log[rows_lines];
    const auto li = static_cast<uint32_t>(rows_lines);
    const auto size = static_cast<uint32_t>(l.text.size());
    uint32_t off = 0;
    bool caret_done = !l.has_caret;
    do {
      uint32_t width = static_cast<uint32_t>(cols) - (off ? indent : 0);
      uint32_t len = std::min(width, size - off);
      // Break after a space when one is near the end, so numbers stay whole.
      if (off + len < size) {
        for (uint32_t k = len; k > width / 2; --k)
          if (l.text[off + k - 1] == ' ' || l.text[off + k - 1] == ',') {
            len = k;
            break;
          }
      }
      // Never cut a UTF-8 sequence in two.
      while (off + len < size && len > 1 && (static_cast<unsigned char>(l.text[off + len]) & 0xC0) == 0x80) --len;
      rows.push_back({li, off, len, off > 0, false});
      if (!caret_done && (l.caret_begin < off + len || off + len >= size)) {
        rows.push_back({li, off, len, off > 0, true});
        caret_done = true;
      }
      off += len;
    } while (off < size);
  }
}

std::string ConsolePanel::text() const {
  std::string t;
  for (const Line& l : log) t += l.text + "\n";
  return t;
}

void ConsolePanel::record(std::string_view line, const shell::Output& out) {
  add(Kind::Input, std::string("> ") + std::string(line));
  if (!out.ok && out.error_span && line.find('\n') == std::string_view::npos) {
    // A caret under the offending columns of the echoed line ("> " is two columns).
    Line& echo = log.back();
    echo.has_caret = true;
    echo.caret_begin = 2 + out.error_span->begin;
    echo.caret_end = 2 + std::max(out.error_span->end, out.error_span->begin + 1);
  }
  for (const auto& l : out.lines) add(from_line_kind(l.kind), l.text);
}

// The Shell window's menu bar: the lesson library and a few lines worth a click.
// Each item runs its line exactly as if typed, so the log shows what it did.
static void draw_menu_bar(ConsolePanel& p, PanelContext& ctx) {
  if (!ImGui::BeginMenuBar()) return;
  std::string run;
  const bool open_lessons = ImGui::BeginMenu("Lessons");
  ctx.app.mark("menu Lessons");
  if (open_lessons) {
    ImGui::TextDisabled("Each runs from a fresh machine, line by line.");
    ImGui::Separator();
    for (size_t i = 0; i < shell::kLessonCount; ++i) {
      std::string label = std::to_string(i + 1) + (i < 9 ? ".  " : ". ") + shell::lesson_title(shell::kLessons[i]);
      if (ImGui::MenuItem(label.c_str())) run = "lesson " + std::to_string(i + 1);
      ctx.app.mark("lesson " + std::to_string(i + 1));
    }
    ImGui::EndMenu();
  }
  const bool open_machine = ImGui::BeginMenu("Machine");
  ctx.app.mark("menu Machine");
  if (open_machine) {
    if (ImGui::MenuItem("Reset", "reset")) run = "reset";
    ctx.app.mark("item Reset");
    if (ImGui::MenuItem("Undo the last step", "undo")) run = "undo";
    ctx.app.mark("item Undo the last step");
    if (ImGui::MenuItem("Redo", "redo")) run = "redo";
    ctx.app.mark("item Redo");
    ImGui::Separator();
    if (ImGui::MenuItem("Processes", "ps")) run = "ps";
    ctx.app.mark("item Processes");
    if (ImGui::MenuItem("Memory use", "free")) run = "free";
    ctx.app.mark("item Memory use");
    if (ImGui::MenuItem("Reclaim and swap counters", "cat /proc/vmstat")) run = "cat /proc/vmstat";
    ctx.app.mark("item Reclaim and swap counters");
    if (ImGui::MenuItem("Address space", "cat /proc/self/maps")) run = "cat /proc/self/maps";
    ctx.app.mark("item Address space");
    ImGui::Separator();
    if (ImGui::MenuItem("Copy the log")) ImGui::SetClipboardText(p.text().c_str());
    ctx.app.mark("item Copy the log");
    if (ImGui::MenuItem("Copy a link to this session")) ctx.app.copy_link();
    ctx.app.mark("item Copy link");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("A link to this page that runs this session's lines again (#script=)");
    if (ImGui::MenuItem("Clear the log")) p.clear();
    ctx.app.mark("item Clear the log");
    ImGui::EndMenu();
  }
  const bool open_view = ImGui::BeginMenu("View");
  ctx.app.mark("menu View");
  if (open_view) {
    // How the page is laid out: not the session's business, so not a shell line.
    const Layout l = ctx.app.layout();
    if (ImGui::MenuItem("Automatic layout", nullptr, l == Layout::Auto)) ctx.app.set_layout(Layout::Auto);
    ctx.app.mark("item Automatic layout");
    if (ImGui::MenuItem("Full layout (1280x800 and up)", nullptr, l == Layout::Full)) ctx.app.set_layout(Layout::Full);
    ctx.app.mark("item Full layout (1280x800 and up)");
    if (ImGui::MenuItem("Compact layout (small windows)", nullptr, l == Layout::Compact))
      ctx.app.set_layout(Layout::Compact);
    ctx.app.mark("item Compact layout (small windows)");
    ImGui::Separator();
    // The views that share a window as tabs, brought to the front (as vmplay.show does).
    for (View v : kAllViews) {
      if (!ctx.app.tabbed(v)) continue;
      if (ImGui::MenuItem(view_title(v))) ctx.app.show(view_name(v));
      ctx.app.mark(std::string("item view ") + view_name(v));
    }
    ImGui::EndMenu();
  }
  const bool open_help = ImGui::BeginMenu("Help");
  ctx.app.mark("menu Help");
  if (open_help) {
    if (ImGui::MenuItem("Everything the shell knows", "help")) run = "help";
    ctx.app.mark("item Everything the shell knows");
    if (ImGui::MenuItem("The expression language", "help expressions")) run = "help expressions";
    ctx.app.mark("item The expression language");
    ImGui::EndMenu();
  }
  ImGui::EndMenuBar();
  if (!run.empty()) {
    ctx.app.exec(run);
    p.scroll_to_bottom = true;
    p.focus_input = true;
  }
}

void draw_console(ConsolePanel& p, PanelContext& ctx) {
  const ImGuiStyle& style = ImGui::GetStyle();
  draw_menu_bar(p, ctx);
  ctx.app.draw_script_bar();

  // ---- the log ----
  const float footer = style.ItemSpacing.y + ImGui::GetFrameHeightWithSpacing();
  if (ImGui::BeginChild("log", ImVec2(0, -footer), false)) {
    if (ImGui::BeginPopupContextWindow()) {
      if (ImGui::Selectable("Copy the log")) ImGui::SetClipboardText(p.text().c_str());
      if (ImGui::Selectable("Clear the log")) p.clear();
      ImGui::EndPopup();
    }
    const float char_w = ImGui::CalcTextSize("M").x;
    const float avail = ImGui::GetContentRegionAvail().x - style.ScrollbarSize;
    p.layout(static_cast<int>(avail / std::max(char_w, 1.0f)));
    const float indent = 2.0f * char_w;
    std::array<char, 1024> caret{};
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(style.ItemSpacing.x, 1.0f));
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(p.rows.size()));
    while (clipper.Step()) {
      for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
        const ConsolePanel::Row& r = p.rows[static_cast<size_t>(i)];
        const ConsolePanel::Line& l = p.log[r.line];
        if (r.continuation) ImGui::SetCursorPosX(ImGui::GetCursorPosX() + indent);
        if (r.caret) {
          // ^~~~ under the refused columns that fall in the row above.
          size_t n = 0;
          const uint32_t b = l.caret_begin > r.offset ? l.caret_begin - r.offset : 0;
          const uint32_t e = std::min(l.caret_end > r.offset ? l.caret_end - r.offset : 0, r.len + 1);
          for (; n < b && n + 1 < caret.size(); ++n) caret[n] = ' ';
          for (uint32_t c = b; c < std::max(e, b + 1) && n + 1 < caret.size(); ++c) caret[n++] = c == b ? '^' : '~';
          ImGui::PushStyleColor(ImGuiCol_Text, kind_colour(Kind::Caret, ctx.app.light()));
          ImGui::TextUnformatted(caret.data(), caret.data() + n);
        } else {
          ImGui::PushStyleColor(ImGuiCol_Text, kind_colour(l.kind, ctx.app.light()));
          ImGui::TextUnformatted(l.text.data() + r.offset, l.text.data() + r.offset + r.len);
        }
        ImGui::PopStyleColor();
      }
    }
    clipper.End();
    ImGui::PopStyleVar();
    if (p.scroll_to_bottom || ImGui::GetScrollY() >= ImGui::GetScrollMaxY()) ImGui::SetScrollHereY(1.0f);
    p.scroll_to_bottom = false;
  }
  ImGui::EndChild();
  ImGui::Separator();

  // ---- the input line ----
  ImGui::AlignTextToFramePadding();
  ImGui::TextColored(kind_colour(Kind::Input, ctx.app.light()), ">");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-FLT_MIN);
  CallbackData cb{&p, &ctx.session};
  const ImGuiInputTextFlags flags = ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_CallbackHistory |
                                    ImGuiInputTextFlags_CallbackCompletion | ImGuiInputTextFlags_CallbackAlways;
  if (!p.pending_paste.empty()) {
    if (ImGui::GetActiveID() == ImGui::GetID("##input")) {
      ImGui::GetIO().AddInputCharactersUTF8(p.pending_paste.c_str());
    } else {
      const size_t len = std::strlen(p.input.data());
      const size_t room = p.input.size() - 1 - len;
      std::memcpy(p.input.data() + len, p.pending_paste.data(), std::min(room, p.pending_paste.size()));
      p.input[len + std::min(room, p.pending_paste.size())] = '\0';
      p.focus_input = true;
      p.cursor_to_end = true;
    }
    p.pending_paste.clear();
  }
  bool entered = ImGui::InputTextWithHint("##input", "mmap(...), p[0] = 'A', cat /proc/self/maps, help  (Tab completes)",
                                          p.input.data(), p.input.size(), flags, input_callback, &cb);
  ImGui::SetItemDefaultFocus();
  if (entered) {
    std::string line(p.input.data());
    p.input[0] = '\0';
    // io.ConfigInputTextEnterKeepActive keeps the input active after Enter, so keys
    // typed right after it are not lost; its own copy of the text is cleared here.
    if (ImGuiInputTextState* st = ImGui::GetInputTextState(ImGui::GetItemID())) st->ClearText();
    p.history_pos = -1;
    p.saved_input.clear();
    if (line.find_first_not_of(" \t") != std::string::npos) {
      if (p.history.empty() || p.history.back() != line) p.history.push_back(line);
      ctx.app.exec(line);
    }
    // Refocusing an input that is still active would swallow this frame's typing.
    if (!ImGui::IsItemActive()) p.focus_input = true;
  }
  // The console is the only thing that takes keys: whenever nothing else is being used
  // (a click on a table, a scrollbar released), typing goes back to the input line.
  if (p.focus_input || (!ImGui::IsAnyItemActive() &&
                        !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId | ImGuiPopupFlags_AnyPopupLevel))) {
    ImGui::SetKeyboardFocusHere(-1);
    p.focus_input = false;
  }
}

}  // namespace vmplay::web
