# Shared helpers for the scripts in this folder (sourced, not run).
# shellcheck shell=bash
step() { printf '\n\033[1;34m==>\033[0m %s\n' "$*"; }
ok()   { printf '\033[32m  ok\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33mWARNING:\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[1;31mERROR:\033[0m %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# Puts the Debian toolchain first on PATH when scripts/setup chose it (see target/.toolchain-path).
use_toolchain() {
  if [ -f target/.toolchain-path ]; then PATH="$(cat target/.toolchain-path):$PATH"; export PATH; fi
}
