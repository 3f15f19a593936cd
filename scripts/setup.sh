#!/usr/bin/env bash
# Installs everything vmplay's build and tests need, from Debian's archive and the
# npm registry only. Idempotent: when everything is present it checks and exits in
# well under 5 seconds.
#
#   - Debian packages (emscripten, SDL2, doctest, cmake, ninja, chromium, clang with
#     libclang-rt-14-dev for libFuzzer, ...)
#   - a deb-src entry derived from the machine's own Debian entry
#   - Dear ImGui 1.90.1 (trixie) and SDL2 2.26.5 (bookworm) sources via `apt-get source`
#   - SDL2 built for wasm with emcmake, cached outside the build tree
#   - playwright-core for the browser tests, from tests/browser/package-lock.json
#
# Caches live in ${VMPLAY_CACHE:-~/.cache/vmplay}, keyed by version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${VMPLAY_CACHE:-$HOME/.cache/vmplay}"
IMGUI_VERSION=1.90.1
SDL2_VERSION=2.26.5
SRC="$CACHE/src"
IMGUI_DIR="$SRC/imgui-$IMGUI_VERSION"
SDL2_SRC_DIR="$SRC/SDL2-$SDL2_VERSION"
SDL2_WASM="$CACHE/sdl2-wasm-$SDL2_VERSION"

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config dpkg-dev
  emscripten
  clang libclang-rt-14-dev
  libsdl2-dev libgl-dev doctest-dev libedit-dev
  chromium xvfb xauth
  fonts-jetbrains-mono
  gzip python3
)

log() { printf 'setup: %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing_packages() {
  local out
  out="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)"
  local p
  for p in "${PACKAGES[@]}"; do
    if ! grep -q "^$p ii" <<<"$out"; then echo "$p"; fi
  done
}

APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
}

# 1. Debian packages -------------------------------------------------------------
MISSING="$(missing_packages)"
if [ -n "$MISSING" ]; then
  log "installing Debian packages: $(echo $MISSING)"
  apt_update
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $MISSING >/dev/null
fi

# Node.js may come from Debian (nodejs + npm) or from a vendor build that bundles npm
# and conflicts with Debian's npm package: install only what is missing.
if ! command -v node >/dev/null; then apt_update; $SUDO apt-get install -y -qq nodejs >/dev/null; fi
if ! command -v npm >/dev/null; then apt_update; $SUDO apt-get install -y -qq npm >/dev/null; fi

# 2. deb-src entry derived from the machine's own Debian entry --------------------
SRC_LIST=/etc/apt/sources.list.d/vmplay-src.sources
if [ ! -d "$IMGUI_DIR" ] || [ ! -d "$SDL2_SRC_DIR" ]; then
  if [ ! -f "$SRC_LIST" ]; then
    BASE=/etc/apt/sources.list.d/debian.sources
    if [ ! -f "$BASE" ]; then
      log "cannot find $BASE to derive a deb-src entry from"; exit 1
    fi
    # First stanza whose Suites name a plain release (not -security): its URIs and Signed-By.
    URIS="$(awk '/^URIs:/{u=$2} /^Suites:/{ if ($0 !~ /security/ && u!="") {print u; exit} }' "$BASE")"
    SIGNED="$(awk '/^Signed-By:/{print $2; exit}' "$BASE")"
    if [ -z "$URIS" ]; then log "no URIs found in $BASE"; exit 1; fi
    log "adding deb-src entry ($SRC_LIST)"
    {
      echo "Types: deb-src"
      echo "URIs: $URIS"
      echo "Suites: bookworm trixie"
      echo "Components: main"
      if [ -n "$SIGNED" ]; then echo "Signed-By: $SIGNED"; fi
    } | $SUDO tee "$SRC_LIST" >/dev/null
    APT_UPDATED=0
  fi
  apt_update
fi

# 3. Third-party sources via apt-get source ---------------------------------------
fetch_source() { # $1 = package/suite, $2 = expected dir, $3 = tarball glob
  local spec="$1" dir="$2"
  if [ -d "$dir" ]; then return; fi
  mkdir -p "$SRC"
  local tmp; tmp="$(mktemp -d "$SRC/.fetch.XXXXXX")"
  log "apt-get source $spec"
  (cd "$tmp" && apt-get source --download-only -qq -o APT::Sandbox::User=root "$spec" >/dev/null)
  local orig; orig="$(ls "$tmp"/*.orig.tar.* | head -n1)"
  mkdir -p "$tmp/x"
  tar -xf "$orig" -C "$tmp/x"
  local top; top="$(ls "$tmp/x" | head -n1)"
  mv "$tmp/x/$top" "$dir"
  rm -rf "$tmp"
}
fetch_source "imgui/trixie" "$IMGUI_DIR"
fetch_source "libsdl2/bookworm" "$SDL2_SRC_DIR"
for f in imgui.cpp backends/imgui_impl_sdl2.cpp backends/imgui_impl_opengl3.cpp; do
  [ -f "$IMGUI_DIR/$f" ] || { log "ImGui source incomplete: $IMGUI_DIR/$f missing"; exit 1; }
done

# 4. SDL2 for wasm, cached by version ---------------------------------------------
export NODE_PATH=/usr/share/nodejs
if [ ! -f "$SDL2_WASM/lib/libSDL2.a" ]; then
  log "building SDL2 $SDL2_VERSION for wasm (a few minutes, once) into $SDL2_WASM"
  BLD="$CACHE/.sdl2-wasm-build"
  rm -rf "$BLD"
  emcmake cmake -S "$SDL2_SRC_DIR" -B "$BLD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSDL_SHARED=OFF -DSDL_STATIC=ON -DSDL_TEST=OFF \
    -DCMAKE_INSTALL_PREFIX="$SDL2_WASM" >"$CACHE/sdl2-wasm-build.log" 2>&1 \
    || { log "SDL2 configure failed, see $CACHE/sdl2-wasm-build.log"; exit 1; }
  cmake --build "$BLD" >>"$CACHE/sdl2-wasm-build.log" 2>&1 \
    || { log "SDL2 build failed, see $CACHE/sdl2-wasm-build.log"; exit 1; }
  cmake --install "$BLD" >>"$CACHE/sdl2-wasm-build.log" 2>&1
  rm -rf "$BLD"
fi

# 5. playwright-core for the browser tests ----------------------------------------
BROWSER_DIR="$ROOT/tests/browser"
if [ -f "$BROWSER_DIR/package-lock.json" ]; then
  if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ] || \
     [ "$BROWSER_DIR/package-lock.json" -nt "$BROWSER_DIR/node_modules/.package-lock.json" ]; then
    log "npm ci (tests/browser)"
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi

# Paths the build reads.
mkdir -p "$CACHE"
cat >"$CACHE/paths.env" <<ENV
VMPLAY_IMGUI_DIR=$IMGUI_DIR
VMPLAY_SDL2_WASM=$SDL2_WASM
ENV
