// shell/: strace-syntax language. Knows the engine's types, nothing of drawing.
// The lesson library (assets/lessons/*.vmsh), built into the program.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace vmplay::shell {

struct Lesson {
  std::string_view name;  // "03-guard-page"
  std::string_view text;  // the script: narration (# lines) and statements
};

extern const Lesson kLessons[];
extern const size_t kLessonCount;

// A lesson by number ("3") or name ("03-guard-page" or "guard-page"), or nullptr.
const Lesson* find_lesson(std::string_view word);

// The lesson's title: the first sentence of its opening narration.
std::string lesson_title(const Lesson& l);

}  // namespace vmplay::shell
