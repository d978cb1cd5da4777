#!/usr/bin/env bash
# The whole test suite, as CI runs it (after scripts/install-deps.sh):
#   1. the Release build and every ctest test (Check suites, end-to-end tests
#      of the CLI and the Python scripts, crash/SIGINT/disk-full tests,
#      valgrind memcheck of a small experiment, the kernels built for each
#      x86-64 instruction set against nnlab's bits);
#   2. the libFuzzer target for the experiment parser, for FUZZ_SECONDS
#      (default 60) from the seed corpus tests/fuzz/corpus/ plus every
#      shipped and malformed experiment file, with the dictionary
#      tests/fuzz/yaml.dict; any crash or sanitizer report fails;
#   3. the AddressSanitizer + UndefinedBehaviorSanitizer build and the whole
#      ctest suite again under it.
# Build folders: build/, build-fuzz/, build-asan/. Tests run JOBS (2) at a time,
# as the builds do. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}

echo "== 1/3 Release build and tests"
cmake -S . -B build && cmake --build build -j "$jobs" && ctest --test-dir build -j "$jobs" --output-on-failure

echo "== 2/3 fuzzing the experiment parser for ${FUZZ_SECONDS:-60} s"
cc=$(command -v clang-14 || command -v clang)
cmake -S . -B build-fuzz -DNNLAB_FUZZ=ON -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-fuzz -j "$jobs"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp tests/fuzz/corpus/* experiments/*.yaml configs/*.yaml tests/bad/*.yaml "$corpus"/
# libFuzzer's progress lines are many; keep the last 40 (a crash report is at the end).
(cd "$corpus" && "$OLDPWD"/build-fuzz/fuzz_cfg -max_total_time="${FUZZ_SECONDS:-60}" -timeout=10 \
    -dict="$OLDPWD/tests/fuzz/yaml.dict" -rss_limit_mb=2048 -artifact_prefix="$OLDPWD/build-fuzz/" "$corpus" < /dev/null 2>&1 | tail -n 40)

echo "== 3/3 AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
cmake -S . -B build-asan -DNNLAB_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j "$jobs" --output-on-failure
