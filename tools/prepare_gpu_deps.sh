#!/usr/bin/env bash
# Makes .deps/ for scripts/gpu_check.sh on a GPU machine without network: doctest and Google
# Benchmark from Debian's packages (headers, CMake package files, the benchmark library), unpacked,
# not installed. Run it where apt-get reaches Debian (the CPU machines), then carry ".deps".
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .deps
mkdir -p .deps/debs
packages=(doctest-dev libbenchmark-dev libbenchmark1debian)
(cd .deps/debs && { apt-get download "${packages[@]}" || { apt-get update -qq && apt-get download "${packages[@]}"; }; })
for deb in .deps/debs/*.deb; do dpkg-deb -x "$deb" .deps; done
rm -rf .deps/debs .deps/usr/share/doc .deps/usr/share/lintian
du -sh .deps
