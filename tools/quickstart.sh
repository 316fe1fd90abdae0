#!/bin/sh
# Installs what ward needs, builds it, and runs a real program in the sandbox.
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
echo "--- python3 inside ward:"
build/ward run -- python3 -c 'import os, platform; print("hello from", platform.system(), "pid", os.getpid())'
