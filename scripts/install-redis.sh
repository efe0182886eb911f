#!/usr/bin/env bash
# The cohort queue's tests start their own redis-server (on 127.0.0.1, a free port). Installs Debian's redis-server
# with apt-get when missing (as root); elsewhere it says what to install, and those tests are skipped.
set -euo pipefail
if command -v redis-server >/dev/null; then exit 0; fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[sts] installing Debian's redis-server (for the cohort queue's tests)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  # The package starts a system service; the tests start their own server and need none.
  (service redis-server stop || true) >/dev/null 2>&1
else
  echo "[sts] redis-server is missing: install it (sudo apt-get install -y redis-server); until then the queue tests are skipped." >&2
fi
