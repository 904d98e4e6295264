#!/usr/bin/env bash
# Installs Debian's `chromium` and `chromium-driver` for the console's browser tests
# (tests/integration/test_console_browser.py) when either is missing. Idempotent: with both on
# PATH it does nothing. Debian's packages, not a browser download: the tests must run on a
# machine that reaches only package registries.
#
#   deploy/console/install-browser.sh
set -euo pipefail

log() { printf '[browser-install] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else log "need root to run: $*"; exit 1; fi
}

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi

log "installing Debian's chromium and chromium-driver"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver >/dev/null

command -v chromedriver >/dev/null 2>&1 || { log "chromedriver still missing after install"; exit 1; }
log "installed: $(chromium --version 2>/dev/null | head -1)"
