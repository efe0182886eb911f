#!/usr/bin/env bash
# Installs Debian's libtorch (1.13, CPU, oneDNN) when it is missing, then builds the addon if the npm dependencies
# are installed already (otherwise `npm ci` builds it). Needs root on Debian/Ubuntu; elsewhere it says what to
# install. Without libtorch the project runs on the slower wasm backend.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's libtorch reaches BLAS through the system's libblas.so.3, which is the reference (netlib) BLAS unless an
# optimised one is installed: OpenBLAS (OpenMP build, the threading libtorch uses) makes its matrix products,
# transposed convolutions included, about 30x faster here.
# jemalloc: `sts` runs itself on it when installed (src/engine/allocator.ts); glibc's malloc lets libvips's and
# libtorch's threads grow the process by hundreds of megabytes on large images.
packages=()
if [ -z "${STS_LIBTORCH:-}" ]; then
  [ -f /usr/include/ATen/ATen.h ] || packages+=(libtorch-dev)
  compgen -G "/usr/lib/*/openblas-openmp/libblas.so.3" >/dev/null || packages+=(libopenblas0-openmp)
fi
compgen -G "/usr/lib/*/libjemalloc.so.2" >/dev/null || compgen -G "/usr/lib*/libjemalloc.so.2" >/dev/null || packages+=(libjemalloc2)
if [ ${#packages[@]} -eq 0 ]; then
  :
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[sts] installing ${packages[*]} (the fast torch engine; jemalloc for memory)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
elif [ -f /usr/include/ATen/ATen.h ]; then
  echo "[sts] missing ${packages[*]}: install them (sudo apt-get install -y ${packages[*]}); OpenBLAS makes libtorch's matrix products" >&2
  echo "      about 30x faster than the reference BLAS, jemalloc keeps large images' memory down" >&2
else
  echo "[sts] libtorch is missing: install Debian/Ubuntu's libtorch-dev, libopenblas0-openmp and libjemalloc2 (sudo apt-get install -y libtorch-dev libopenblas0-openmp libjemalloc2)," >&2
  echo "      or set STS_LIBTORCH to a libtorch folder (a libtorch download or pip's site-packages/torch)." >&2
  echo "      Until then the engine uses the slower wasm backend." >&2
  exit 0
fi
if [ -d node_modules ] && [ ! -f native/build/Release/sts_torch.node ]; then npm run build:native; fi
