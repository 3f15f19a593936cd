#!/usr/bin/env bash
# Builds and runs the benchmarks (docs/performance.md): vmplay-bench natively (with the
# host kernel's rates and the ratios) and as wasm under Node, then the page's UI bench in
# headless Chromium (first interactive frame, frame CPU time with 10,000 VMAs in 65,536
# frames), and prints vmplay.wasm's size raw and gzipped.
#
#   scripts/bench.sh              everything
#   scripts/bench.sh storm fork   only vmplay-bench workloads whose names start so
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
./scripts/setup.sh >/dev/null || { echo "setup failed"; exit 1; }
# shellcheck source=/dev/null
. ./scripts/env.sh
cmake --preset release >/dev/null && cmake --build --preset release --target vmplay-bench >/dev/null || exit 1
cmake --preset wasm >/dev/null && cmake --build --preset wasm >/dev/null || exit 1
echo "== native ($(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r))"
./build/release/bin/vmplay-bench "$@"
echo "== wasm under Node $(node --version)"
node --no-experimental-fetch ./build/wasm/bin/vmplay-bench.js "$@"
if [ "$#" -eq 0 ]; then
  echo "== the page"
  printf 'vmplay.wasm %s bytes, %s gzipped (-9); vmplay.js %s bytes, %s gzipped\n' \
    "$(stat -c %s build/wasm/dist/vmplay.wasm)" "$(gzip -9 -c build/wasm/dist/vmplay.wasm | wc -c)" \
    "$(stat -c %s build/wasm/dist/vmplay.js)" "$(gzip -9 -c build/wasm/dist/vmplay.js | wc -c)"
  (cd tests/browser && VMPLAY_DIST="$ROOT/build/wasm/dist" node ../../bench/ui-perf.mjs)
fi
