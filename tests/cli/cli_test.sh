#!/usr/bin/env bash
# The vmplay CLI's options and exit codes. Usage: cli_test.sh PATH/TO/vmplay TESTS_DIR
set -u
VMPLAY="$1"
TESTS="$2"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fails=0
check() { # description, then a command that must succeed
  local what="$1"; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}

out="$("$VMPLAY" --version)"; rc=$?
check "--version prints the version" test "$rc" = 0 -a "${out#vmplay }" != "$out"
"$VMPLAY" --bogus >/dev/null 2>&1; rc=$?
check "an unknown option is a usage error (2)" test "$rc" = 2
"$VMPLAY" --ram 3 - </dev/null >/dev/null 2>&1; rc=$?
check "--ram out of range is a usage error (2)" test "$rc" = 2

printf 'getpid()\nmunmap(1, 2, 3)\ngetpid()\n' > "$TMP/bad.vmsh"
err="$("$VMPLAY" "$TMP/bad.vmsh" 2>&1 >/dev/null)"; rc=$?
check "a refused line stops the script with status 1" test "$rc" = 1
check "the error names file, line and column" grep -q "bad.vmsh:2:1: error: munmap takes 2 arguments, got 3" <<<"$err"

printf 'p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\np[0] = 1\n' > "$TMP/segv.vmsh"
"$VMPLAY" "$TMP/segv.vmsh" >/dev/null 2>&1; rc=$?
check "a simulated SIGSEGV is a result, not a failure (0)" test "$rc" = 0

"$VMPLAY" "$TMP/segv.vmsh" > "$TMP/segv.out"
"$VMPLAY" --expect "$TMP/segv.out" "$TMP/segv.vmsh"; rc=$?
check "--expect with the same transcript succeeds" test "$rc" = 0
sed 's/SEGV_ACCERR/SEGV_MAPERR/' "$TMP/segv.out" > "$TMP/segv.wrong"
diff_out="$("$VMPLAY" --expect "$TMP/segv.wrong" "$TMP/segv.vmsh" 2>&1)"; rc=$?
check "--expect with a different transcript fails (1)" test "$rc" = 1
check "--expect shows the differing lines" grep -q '^+--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR' <<<"$diff_out"

summary="$("$VMPLAY" --replay "$TESTS/data/fork-mmap.strace" | tail -n1)"; rc=$?
check "--replay of the captured log matches every call" \
  test "$summary" = "replayed 39 lines: 34 calls as recorded, 0 different, 0 skipped"

json="$(echo 'getpid()' | "$VMPLAY" --json - | tail -n1)"
check "--json ends with the state" grep -q '^{"current_pid":1,' <<<"$json"

quiet="$(printf 'p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\np[0] = 1\n' | "$VMPLAY" --verbosity quiet -q -)"
check "--verbosity quiet leaves fault lines out" test "$(wc -l <<<"$quiet")" = 1

aslr1="$(echo 'cat /proc/self/maps' | "$VMPLAY" -q --seed 5 -)"
aslr2="$(echo 'cat /proc/self/maps' | "$VMPLAY" -q --seed 5 -)"
plain="$(echo 'cat /proc/self/maps' | "$VMPLAY" -q -)"
check "--seed gives one layout per seed, not the plain one" test "$aslr1" = "$aslr2" -a "$aslr1" != "$plain"

help="$("$VMPLAY" --help)"; rc=$?
check "--help prints the usage and succeeds (0)" test "$rc" = 0
check "--help lists every option" grep -q -- '--follow-recorded' <<<"$help"

printf 'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f3a1c000000\nmprotect(0x7f3a1c000000, 4096, PROT_READ) = 0\n' > "$TMP/other.log"
summary="$("$VMPLAY" --replay "$TMP/other.log" | tail -n1)"
check "--replay counts a call placed elsewhere as different" \
  test "$summary" = "replayed 2 lines: 0 calls as recorded, 2 different, 0 skipped"
summary="$("$VMPLAY" --replay "$TMP/other.log" --follow-recorded | tail -n1)"
check "--follow-recorded places the mapping where the log says" \
  test "$summary" = "replayed 2 lines: 2 calls as recorded, 0 different, 0 skipped"

ram="$(echo 'config' | "$VMPLAY" -q --ram 2048 - | head -n1)"
check "--ram sets the machine's frames" test "$ram" = "ram 2048 frames (8192 kB)"

swaps="$(echo 'cat /proc/swaps' | "$VMPLAY" -q --swap 1M - | tail -n1)"
check "--swap adds a swap file (1 MiB: 255 slots after the header)" \
  test "$swaps" = "$(printf '/swapfile                               file\t\t1020\t\t0\t\t-2')"
"$VMPLAY" --swap 3K - </dev/null >/dev/null 2>&1; rc=$?
check "--swap with a size that is not whole pages is a usage error (2)" test "$rc" = 2
mode="$(echo 'cat /proc/sys/vm/overcommit_memory' | "$VMPLAY" -q --overcommit 2 -)"
check "--overcommit sets vm.overcommit_memory" test "$mode" = 2
"$VMPLAY" --overcommit 3 - </dev/null >/dev/null 2>&1; rc=$?
check "--overcommit 3 is a usage error (2)" test "$rc" = 2

empty="$(echo 'cat /proc/self/maps' | "$VMPLAY" -q --empty -)"
check "--empty starts pid 1 with no mappings" test -z "$empty"

printf 'p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\np[0] = 1\n' > "$TMP/ok.vmsh"
"$VMPLAY" --check "$TMP/ok.vmsh" >/dev/null 2>&1; rc=$?
check "--check runs a script whose invariants hold (0)" test "$rc" = 0

piped="$(echo 'getpid()' | "$VMPLAY")"
check "no arguments with piped input runs the lines like -" test "$piped" = "$(printf '> getpid()\ngetpid() = 1')"
if command -v script >/dev/null; then
  repl="$(printf 'getpid()\nmunmpa(1, 2)\n' | script -qc "$VMPLAY" /dev/null 2>&1)"
  check "no arguments on a terminal starts the prompt" grep -q "vmplay> " <<<"$repl"
  check "the prompt answers, and a typo gets a suggestion" grep -q "did you mean munmap?" <<<"$repl"
fi

echo "$fails failed"
test "$fails" = 0
