# Sourced by the scripts: the environment every build step needs.
# Emscripten's JS optimizer needs Debian's acorn, which lives here (toolchain.md).
export NODE_PATH=/usr/share/nodejs
# ccache and Emscripten's own cache live outside the clone so a fresh clone reuses them.
export CCACHE_DIR="${CCACHE_DIR:-${VMPLAY_CACHE:-$HOME/.cache/vmplay}/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-2G}"
# ccache must not hash the compiler's mtime only for em++ (a wrapper script).
export CCACHE_COMPILERCHECK="${CCACHE_COMPILERCHECK:-content}"
