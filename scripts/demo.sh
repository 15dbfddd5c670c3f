#!/usr/bin/env bash
# The main job without a cluster: boots a small VM (Debian's kernel, which has netem) running a
# LOCAL SANDBOX, not a cluster: the project's API server double with TiDB Operator's "basic"
# TidbCluster, whose pods are network namespaces running the real agent. It walks the original
# story, printing each command: inject, ping, `kubectl netem delay basic-pd-0 20ms`, ping,
# status, clear, eject. Needs root; installs qemu and friends if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bash tests/vm/demo.sh
