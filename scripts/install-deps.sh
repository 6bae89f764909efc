#!/usr/bin/env bash
# Installs the Debian packages roofline needs, and only those that are missing.
# Does nothing (and needs no root) when everything is already installed.
#   install-deps.sh [--with-reference] [--with-fuzz]   --with-reference adds what the tests' PyTorch reference
#   needs, --with-fuzz clang with libFuzzer and LLVM's OpenMP (scripts/fuzz.sh)
set -euo pipefail

packages=(
  build-essential cmake
  libeigen3-dev libboost-program-options-dev nlohmann-json3-dev
  libgnuplot-iostream-dev libfmt-dev gnuplot-nox libgtest-dev
  libopenblas-dev  # bench only: the reference BLAS the engine's GEMM and GEMV are compared with
)
for option in "$@"; do
  case "$option" in
    # tests only: scripts/hf_reference.py, transformers' forward pass in plain PyTorch (the hf_parity test)
    --with-reference) packages+=(python3-torch python3-numpy) ;;
    # scripts/fuzz.sh: clang, its libFuzzer and sanitizer runtimes, and the OpenMP the engine links
    --with-fuzz) packages+=(clang libclang-rt-dev libomp-dev) ;;
    *) echo "install-deps: unknown option $option" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
