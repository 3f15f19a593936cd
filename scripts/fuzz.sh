#!/usr/bin/env bash
# Builds the libFuzzer harnesses (the fuzz preset: clang, ASan + UBSan, in build/fuzz),
# replays the inputs that once crashed them (tests/fuzz/regressions/), then fuzzes each
# harness for SECONDS (default 10):
#
#   scripts/fuzz.sh        # 10 s per harness
#   scripts/fuzz.sh 600    # 10 minutes per harness
#
# Corpora grow in build/fuzz/corpus/<harness>/ (the parser's is seeded with the lessons
# and the strace logs in tests/data; runs under 60 s use a fresh one in corpus/short/). A crash leaves its input in build/fuzz/artifacts/.
# Ends with "N passed, N failed" (the replays and the runs) and exits non-zero on any failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
SECONDS_EACH="${1:-10}"
case "$SECONDS_EACH" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS per harness]" >&2; exit 2 ;; esac

if [ -z "${VMPLAY_SETUP_DONE:-}" ]; then
  ./scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
# shellcheck source=/dev/null
. ./scripts/env.sh

BUILD="$ROOT/build/fuzz"
mkdir -p "$BUILD"
if ! cmake --preset fuzz >"$BUILD/configure.log" 2>&1; then
  cat "$BUILD/configure.log"; echo "configure of preset fuzz failed"; echo "0 passed, 1 failed"; exit 1
fi
if ! cmake --build --preset fuzz; then
  echo "build of preset fuzz failed"; echo "0 passed, 1 failed"; exit 1
fi

PASSED=0
FAILED=0

# The regression inputs, one ctest test per harness.
ctest --preset fuzz 2>&1 | tee "$BUILD/ctest.log"
line="$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$BUILD/ctest.log" | tail -n1)"
if [ -z "$line" ]; then
  echo "ctest (fuzz) printed no summary"; FAILED=$((FAILED + 1))
else
  PASSED=$((PASSED + $(awk '{print $NF - $1}' <<<"$line")))
  FAILED=$((FAILED + $(awk '{print $1}' <<<"$line")))
fi

# Seed corpora (copied once; libFuzzer adds what it finds). Short runs (under a
# minute, as in test.sh) start from the seeds alone: running every input of a corpus
# grown by long runs would take all their time.
CORPUS="$BUILD/corpus"
if [ "$SECONDS_EACH" -lt 60 ]; then CORPUS="$BUILD/corpus/short"; rm -rf "$CORPUS"; fi
mkdir -p "$CORPUS/parser" "$CORPUS/engine" "$BUILD/artifacts"
for f in assets/lessons/*.vmsh tests/data/*.strace; do
  [ -f "$CORPUS/parser/$(basename "$f")" ] || cp "$f" "$CORPUS/parser/"
done

for name in parser engine; do
  log="$BUILD/fuzz_$name.log"
  echo
  echo "== fuzz_$name: ${SECONDS_EACH} s"
  "$BUILD/bin/fuzz_$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$name-" \
    "$CORPUS/$name" "tests/fuzz/regressions/$name" >"$log" 2>&1
  rc=$?
  execs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n1)"
  if [ "$rc" -eq 0 ]; then
    echo "fuzz_$name: ${execs:-?} executions, no crash"
    PASSED=$((PASSED + 1))
  else
    tail -n 40 "$log"
    echo "fuzz_$name: FAILED after ${execs:-?} executions (exit $rc, log $log)"
    grep -E 'Test unit written to|artifact_prefix' "$log" | tail -n1
    FAILED=$((FAILED + 1))
  fi
done

echo
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
