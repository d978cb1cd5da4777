#!/usr/bin/env bash
# Benchmarks of nnlab against what its users would otherwise use, measured
# side by side in one run on this machine (docs/performance.md). Prints a
# table and writes results/bench.json. Needs the benchmark-only packages
# (libfann-dev, python3-torch, python3-sklearn, dataset-fashion-mnist, time)
# and chromium: installs them with scripts/install-deps.sh --bench when run
# as root (or with sudo), else says which are missing. About 15 minutes on
# the idle 2-core development machine, more when it is busy (the first run
# also builds the merge-time baseline); --quick (fewer pairs and rounds, the
# JSON marked quick) saves about a third. Each step is announced on stderr,
# with the seconds since the start. Builds in build/, or in NNLAB_BUILD_DIR.
#
#   scripts/bench/run.sh [--quick] [bench.py options: --repeat N, --rounds N, ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${NNLAB_PYTHON:-/usr/bin/python3}

missing=()
"$py" -c "import torch" 2>/dev/null || missing+=(python3-torch)
"$py" -c "import sklearn" 2>/dev/null || missing+=(python3-sklearn)
[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || missing+=(dataset-fashion-mnist)
[ -x /usr/bin/time ] || missing+=(time)
[ -e /usr/include/floatfann.h ] || missing+=(libfann-dev)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; then
    echo "bench: installing ${missing[*]}"
    scripts/install-deps.sh --bench
  else
    echo "bench: missing packages: ${missing[*]} (run scripts/install-deps.sh --bench as root)" >&2
    exit 1
  fi
fi

build=${NNLAB_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j 2 --target nnlab > /dev/null
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L scripts/bench/sgemm_bench.c $(pkg-config --cflags --libs openblas) \
  -o "$build/sgemm_bench"
# Every contender on one thread.
# Section 8's merge time is set against nnlab at the commit before one copy of every run (results.h5
# then copied each run), built once into $build/merge-baseline.
base_commit=2086a01^
if [ ! -x "$build/merge-baseline/nnlab" ]; then
  echo "bench: building nnlab at $base_commit (before one copy of every run) for the merge-time baseline" >&2
  rm -rf "$build/merge-baseline-src"
  mkdir -p "$build/merge-baseline-src"
  git archive "$base_commit" | tar -x -C "$build/merge-baseline-src"
  cmake -S "$build/merge-baseline-src" -B "$build/merge-baseline" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$build/merge-baseline" -j 2 --target nnlab > /dev/null
fi
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec "$py" scripts/bench/bench.py --nnlab "$build/nnlab" --sgemm "$build/sgemm_bench" \
  --merge-baseline "$build/merge-baseline/nnlab" --out results/bench.json "$@"
