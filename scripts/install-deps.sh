#!/usr/bin/env bash
# Install every system package nnlab needs to build, test and plot
# (valgrind, clang and its sanitizer runtimes are for scripts/test.sh;
# python3-sklearn for scripts/make-example-data.py's bundled data sets;
# chromium for tests/e2e_report.py, which opens nnlab report's page in it).
# Debian/Ubuntu only (apt-get). Safe to run twice. Needs root (or sudo).
#   scripts/install-deps.sh          build + test + plotting dependencies
#   scripts/install-deps.sh --bench  also the benchmark-only packages
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libhdf5-dev hdf5-tools
  libyaml-dev
  check
  libopenblas-openmp-dev
  zlib1g-dev
  python3 python3-h5py python3-numpy python3-matplotlib
  python3-sklearn
  valgrind clang-14 libclang-rt-14-dev
  openmpi-bin libopenmpi-dev
  chromium
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(python3-torch dataset-fashion-mnist time libfann-dev)
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
