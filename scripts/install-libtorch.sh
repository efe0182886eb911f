#!/usr/bin/env bash
# Installs Debian's libtorch (1.13, CPU, oneDNN) when it is missing, then builds the addon.
# Needs root on Debian/Ubuntu; elsewhere it says what to install. Without libtorch the project runs on wasm.
set -euo pipefail
if [ -f /usr/include/ATen/ATen.h ] || [ -n "${STS_LIBTORCH:-}" ]; then
  echo "[sts] libtorch present"
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update && apt-get install -y libtorch-dev
else
  echo "[sts] libtorch is missing: install Debian/Ubuntu's libtorch-dev (sudo apt-get install -y libtorch-dev)," >&2
  echo "      or set STS_LIBTORCH to a libtorch folder (a libtorch download or pip's site-packages/torch)." >&2
  echo "      Until then the engine uses the slower wasm backend." >&2
  exit 0
fi
npm run build:native
