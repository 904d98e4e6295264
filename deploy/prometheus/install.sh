#!/usr/bin/env bash
# Installs `prometheus` and `promtool` (Debian's `prometheus` package) when either is missing.
# Idempotent: with both on PATH it does nothing. The tests run their own prometheus process on a
# loopback port, so the package's system service must not run: it would listen on 0.0.0.0:9090.
#
#   deploy/prometheus/install.sh
set -euo pipefail

log() { printf '[prometheus-install] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else log "need root to run: $*"; exit 1; fi
}

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi

# policy-rc.d answering 101 is Debian's documented way to forbid maintainer scripts from starting
# services (invoke-rc.d and deb-systemd-invoke both honour it). Only add one if none exists, and
# remove only the one we added.
policy=/usr/sbin/policy-rc.d
added_policy=""
if [ ! -e "$policy" ]; then
  as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
  added_policy=yes
fi
cleanup() { if [ -n "$added_policy" ]; then as_root rm -f "$policy"; fi; }
trap cleanup EXIT

log "installing Debian's prometheus package (promtool + prometheus)"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
# No recommends: they pull in node-exporter, another network service we do not want.
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  prometheus >/dev/null

# Belt and braces on machines where the service got started anyway (an existing policy-rc.d
# that allows it): stop it, keep it from starting at boot, and bind it to loopback if it ever does.
if [ -f /etc/default/prometheus ] && ! grep -q 'web.listen-address' /etc/default/prometheus; then
  as_root sh -c "printf '%s\n' 'ARGS=\"--web.listen-address=127.0.0.1:9090\"' >> /etc/default/prometheus"
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
if [ -x /etc/init.d/prometheus ]; then
  as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  if command -v update-rc.d >/dev/null 2>&1; then
    as_root update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
fi

command -v promtool >/dev/null 2>&1 || { log "promtool still missing after install"; exit 1; }
log "installed: $(promtool --version 2>&1 | head -1)"
