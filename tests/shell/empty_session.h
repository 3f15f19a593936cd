// Shell tests: a session whose pid 1 starts with an empty address space, so the
// addresses stay simple (test_program covers the a.out image).
#pragma once
#include "shell/session.h"

namespace vmplay::shell::testing {

inline const SessionConfig kEmpty = [] {
  SessionConfig c;
  c.program = false;
  return c;
}();

}  // namespace vmplay::shell::testing
