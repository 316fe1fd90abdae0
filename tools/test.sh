#!/bin/sh
# Installs what ward needs, builds it (plain and with ASan/UBSan), and runs every test.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build -j"$jobs" --output-on-failure
if [ "${WARD_SKIP_SANITIZE:-0}" != 1 ]; then
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWARD_SANITIZE=ON >/dev/null
	cmake --build build-asan -j"$jobs"
	ctest --test-dir build-asan -j"$jobs" --output-on-failure
fi
