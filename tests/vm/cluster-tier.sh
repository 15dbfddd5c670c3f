#!/usr/bin/env bash
# The test cluster on the real kernel, three boots of netem-testcluster with the real static
# agent, the real kubectl-netem and kubectl: the story inject -> delay basic-pd-0 20ms -> ping
# from the node shows it -> status -> clear -> eject -> spec as before (issue 3, item 4;
# tests/vm/guest/cluster.sh), then the same on TiDB Operator v2 (guest/cluster-v2.sh), then
# the other ways in (guest/cluster-paths.sh): inject --ephemeral with no pod restart, a
# manifest from inject -f applied with the agent in it, and --expose reachable on the pod IP
# while the default agent is not; rules between pods (issue 10, item 7;
# tests/vm/guest/cluster-rules.sh); every command of the docs (tests/vm/guest/docs.sh).
# Exit status 0 iff every check passed.
# Builds the debug plugin and test cluster into ${CARGO_TARGET_DIR:-target}; the agent as
# build-agent.sh does. Environment: see build-agent.sh and run.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
start=$(date +%s)
agent=$("$here/build-agent.sh")
(cd "$repo" && cargo build -q -p kubectl-netem --bin kubectl-netem -p netem-testcluster --bin netem-testcluster >&2)
bin=${CARGO_TARGET_DIR:-$repo/target}/debug
kubectl=$(command -v kubectl) || { echo "cluster-tier: kubectl not found" >&2; exit 1; }
echo "cluster-tier: binaries built/checked in $(($(date +%s) - start)) s" >&2
NETEM_VM_TIMEOUT=${NETEM_VM_TIMEOUT:-300} "$here/run.sh" "$here/guest/cluster.sh" \
    "$bin/kubectl-netem" "$bin/netem-testcluster" "$agent" "$kubectl" \
    "$here/guest/cluster-v2.sh:/guest/cluster-v2.sh" "$here/guest/cluster-paths.sh:/guest/cluster-paths.sh"
# Second boot: per-destination rules (issue 10, item 7): delay --to, --direction both,
# partition, clear, staleness; ping between pods and tc in a pod's netns agree with status.
NETEM_VM_TIMEOUT=${NETEM_VM_TIMEOUT:-300} "$here/run.sh" "$here/guest/cluster-rules.sh" \
    "$bin/kubectl-netem" "$bin/netem-testcluster" "$agent" "$kubectl"
# Third boot: every `kubectl netem` command the README and docs show must work as written.
commands=$(mktemp)
trap 'rm -f "$commands"' EXIT
"$repo/tests/docs/commands.sh" >"$commands"
NETEM_VM_TIMEOUT=${NETEM_VM_TIMEOUT:-300} "$here/run.sh" "$here/guest/docs.sh" \
    "$bin/kubectl-netem" "$bin/netem-testcluster" "$agent" "$kubectl" "$commands:/guest/doc-commands" \
    "$repo/src/manifest/testdata/basic.yaml:/guest/basic.yaml"
echo "cluster-tier: total $(($(date +%s) - start)) s" >&2
