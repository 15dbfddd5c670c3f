#!/usr/bin/env bash
# The demo for a newcomer without a cluster (issue 3, item 6): boots a VM (qemu, Debian's
# kernel with netem) and walks the original story on a LOCAL SANDBOX, the test cluster
# (not a real cluster): inject, ping before, `kubectl netem delay basic-pd-0 20ms`, ping after,
# status, clear, eject, printing each command. Needs root, qemu-system-x86_64, kubectl, apt
# access on the first run (the kernel is cached in .cache/vm). About a minute.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
echo "building the plugin, the sandbox and the agent (first time: a few minutes)..." >&2
agent=$("$here/build-agent.sh")
(cd "$repo" && cargo build -q -p kubectl-netem --bin kubectl-netem -p netem-testcluster --bin netem-testcluster >&2)
bin=${CARGO_TARGET_DIR:-$repo/target}/debug
echo "booting the VM..." >&2
NETEM_VM_TIMEOUT=${NETEM_VM_TIMEOUT:-300} "$here/run.sh" "$here/guest/demo.sh" \
    "$bin/kubectl-netem" "$bin/netem-testcluster" "$agent" "$(command -v kubectl)" |
    grep -v -e '^NETEM-VM-' -e 'reboot: Power down'
