#!/usr/bin/env bash
# Builds the web page (wasm release) and serves build/wasm/dist on
# http://127.0.0.1:${PORT:-8080}/. The folder is static: any host can serve it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
./scripts/setup.sh
# shellcheck source=/dev/null
. ./scripts/env.sh
PORT="${PORT:-8080}"
cmake --preset wasm >/dev/null
cmake --build --preset wasm --target vmplay_web
echo
echo "vmplay: serving build/wasm/dist at http://127.0.0.1:$PORT/  (Ctrl-C to stop)"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory build/wasm/dist
