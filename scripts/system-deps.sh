#!/usr/bin/env bash
# Debian packages the tests and the screens need: PostgreSQL and Redis servers, Chromium.
# Installs only what is missing; needs root (CI and the dev machines run as root).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The Debian packages start their own servers; the tests start throwaway ones instead.
service redis-server stop >/dev/null 2>&1 || true
