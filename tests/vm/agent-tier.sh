#!/usr/bin/env bash
# Real-kernel tier of netem-agent (issue 2, item 6; issue 10, item 7): build the static agent,
# boot the Debian kernel under qemu TCG and run tests/vm/guest/agent.sh, then
# tests/vm/guest/rules.sh (per-destination rules), then the API docs' examples.
# Exit status 0 iff every check passed. Environment: see build-agent.sh and run.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s)
bin=$("$here/build-agent.sh")
echo "agent-tier: agent $bin ($(stat -c %s "$bin") bytes), built/checked in $(($(date +%s) - start)) s" >&2
NETEM_VM_TIMEOUT=${NETEM_VM_TIMEOUT:-300} "$here/run.sh" "$here/guest/agent.sh" "$bin"
# Second boot: per-destination rules (issue 10): netns a, b, c on a bridge, the agent in a.
NETEM_VM_TIMEOUT=${NETEM_VM_TIMEOUT:-300} "$here/run.sh" "$here/guest/rules.sh" "$bin"
# Third boot: the curl examples of docs/agent-api.md, as written, against a real agent.
examples=$(mktemp)
trap 'rm -f "$examples"' EXIT
"$here/../docs/agent-examples.sh" >"$examples"
NETEM_VM_TIMEOUT=${NETEM_VM_TIMEOUT:-300} "$here/run.sh" "$here/guest/agent-docs.sh" "$bin" \
    "$examples:/guest/agent-examples.sh"
echo "agent-tier: total $(($(date +%s) - start)) s" >&2
