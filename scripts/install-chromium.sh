#!/usr/bin/env bash
# The web app's end-to-end tests drive Debian's Chromium (playwright-core never downloads a browser). Installs it
# with apt-get when missing (as root); elsewhere it says what to install, and those tests are skipped.
set -euo pipefail
chromium=${STS_CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ]; then exit 0; fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[sts] installing Debian's chromium (for the web app's end-to-end tests)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "[sts] chromium is missing: install it (sudo apt-get install -y chromium) or set STS_CHROMIUM to a Chromium binary;" >&2
  echo "      until then the web app's end-to-end tests are skipped." >&2
fi
