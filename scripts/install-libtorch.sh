#!/usr/bin/env bash
# Installs Debian's libtorch (1.13, CPU, oneDNN) when it is missing, then builds the addon if the npm dependencies
# are installed already (otherwise `npm ci` builds it). Needs root on Debian/Ubuntu; elsewhere it says what to
# install. Without libtorch the project runs on the slower wasm backend.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f /usr/include/ATen/ATen.h ] || [ -n "${STS_LIBTORCH:-}" ]; then
  :
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[sts] installing Debian's libtorch-dev (the fast torch engine)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libtorch-dev >/dev/null
else
  echo "[sts] libtorch is missing: install Debian/Ubuntu's libtorch-dev (sudo apt-get install -y libtorch-dev)," >&2
  echo "      or set STS_LIBTORCH to a libtorch folder (a libtorch download or pip's site-packages/torch)." >&2
  echo "      Until then the engine uses the slower wasm backend." >&2
  exit 0
fi
if [ -d node_modules ] && [ ! -f native/build/Release/sts_torch.node ]; then npm run build:native; fi
