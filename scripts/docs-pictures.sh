#!/usr/bin/env bash
# The pictures in README.md and docs/p2pdma.md, drawn again by the tool itself (after a build).
set -euo pipefail
cd "$(dirname "$0")/.."
./peerdma --no-build draw --topology sample -o docs/images/sample-tree.png 03:00.0 05:00.0
./peerdma --no-build draw --topology sample --matrix -o docs/images/sample-matrix.png
./peerdma --no-build draw --topology ../shared/topologies/real/asus-esc8000a-e12-genoa.txt -o docs/images/asus-esc8000a-gpus.png 01:00.0 41:00.0
