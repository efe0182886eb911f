#!/usr/bin/env bash
# Installs Debian's libtorch (1.13, CPU, oneDNN) when it is missing, then builds the addon if the npm dependencies
# are installed already (otherwise `npm ci` builds it). Needs root on Debian/Ubuntu; elsewhere it says what to
# install. Without libtorch the project runs on the slower wasm backend.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's libtorch reaches BLAS through the system's libblas.so.3, which is the reference (netlib) BLAS unless an
# optimised one is installed: OpenBLAS (OpenMP build, the threading libtorch uses) makes its matrix products,
# transposed convolutions included, about 30x faster here.
packages=()
if [ -z "${STS_LIBTORCH:-}" ]; then
  [ -f /usr/include/ATen/ATen.h ] || packages+=(libtorch-dev)
  compgen -G "/usr/lib/*/openblas-openmp/libblas.so.3" >/dev/null || packages+=(libopenblas0-openmp)
fi
if [ ${#packages[@]} -eq 0 ]; then
  :
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[sts] installing ${packages[*]} (the fast torch engine)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
elif [ -f /usr/include/ATen/ATen.h ]; then
  echo "[sts] libtorch runs on the reference BLAS: install OpenBLAS for faster matrix products (sudo apt-get install -y libopenblas0-openmp)" >&2
else
  echo "[sts] libtorch is missing: install Debian/Ubuntu's libtorch-dev and libopenblas0-openmp (sudo apt-get install -y libtorch-dev libopenblas0-openmp)," >&2
  echo "      or set STS_LIBTORCH to a libtorch folder (a libtorch download or pip's site-packages/torch)." >&2
  echo "      Until then the engine uses the slower wasm backend." >&2
  exit 0
fi
if [ -d node_modules ] && [ ! -f native/build/Release/sts_torch.node ]; then npm run build:native; fi
