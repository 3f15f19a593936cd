#!/usr/bin/env bash
# Builds everything and runs every test suite:
#   native (debug, -Werror): engine + shell doctest suites, golden transcripts
#   asan (ASan + UBSan):     the same suites
#   wasm:                    engine + shell suites under Node, the web page
#   browser:                 Playwright driving Debian's Chromium against build/wasm/dist
#   fuzz:                    the libFuzzer harnesses' regression inputs, and a few
#                            seconds of fuzzing each (scripts/fuzz.sh)
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

./scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
# shellcheck source=/dev/null
. ./scripts/env.sh

PASSED=0
FAILED=0
LOG_DIR="$ROOT/build/test-logs"
mkdir -p "$LOG_DIR"

stage() { printf '\n== %s\n' "$*"; }

# Runs ctest for a preset and adds its counts.
run_ctest() { # $1 = preset
  local log="$LOG_DIR/ctest-$1.log"
  ctest --preset "$1" 2>&1 | tee "$log"
  local line
  line="$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$log" | tail -n1)"
  if [ -z "$line" ]; then
    echo "ctest ($1) printed no summary"
    FAILED=$((FAILED + 1))
    return
  fi
  local failed total
  failed="$(awk '{print $1}' <<<"$line")"
  total="$(awk '{print $NF}' <<<"$line")"
  PASSED=$((PASSED + total - failed))
  FAILED=$((FAILED + failed))
}

build() { # $1 = preset, rest = extra build args
  local preset="$1"; shift
  if ! { cmake --preset "$preset" >"$LOG_DIR/configure-$preset.log" 2>&1 || { cat "$LOG_DIR/configure-$preset.log"; false; }; } ||
     ! cmake --build --preset "$preset" "$@"; then
    echo "build of preset $preset failed"
    FAILED=$((FAILED + 1))
    return 1
  fi
}

stage "native build and tests"
build native && run_ctest native

stage "asan build and tests"
build asan && run_ctest asan

stage "wasm build and tests (Node)"
build wasm && run_ctest wasm

stage "browser tests (Chromium)"
if [ -f build/wasm/dist/index.html ] && [ -f build/wasm/dist/vmplay.wasm ]; then
  log="$LOG_DIR/browser.log"
  (cd tests/browser && node --test --test-reporter=spec) 2>&1 | tee "$log"
  p="$(grep -Eo '^ℹ pass [0-9]+' "$log" | awk '{print $3}' | tail -n1)"
  f="$(grep -Eo '^ℹ fail [0-9]+' "$log" | awk '{print $3}' | tail -n1)"
  if [ -z "$p" ] || [ -z "$f" ]; then
    echo "browser tests printed no summary"
    FAILED=$((FAILED + 1))
  else
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
  fi
else
  echo "no web build to test"
  FAILED=$((FAILED + 1))
fi

stage "fuzz (short runs)"
# scripts/fuzz.sh ends with its own "N passed, N failed" (replays and runs): added in.
log="$LOG_DIR/fuzz.log"
VMPLAY_SETUP_DONE=1 ./scripts/fuzz.sh "${VMPLAY_FUZZ_SECONDS:-5}" 2>&1 | tee "$log"
line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1)"
if [ -z "$line" ]; then
  echo "fuzz.sh printed no summary"
  FAILED=$((FAILED + 1))
else
  PASSED=$((PASSED + $(awk '{print $1}' <<<"$line")))
  FAILED=$((FAILED + $(awk '{print $3}' <<<"$line")))
fi

echo
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
