#!/usr/bin/env bash
# Build netem-agent as shipped (statically linked, release) and print its path.
# NETEM_AGENT_BIN=PATH skips the build and uses that binary; NETEM_VM_PROFILE=debug builds a
# debug binary instead (faster to build, for iterating on the VM tier).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [[ -n ${NETEM_AGENT_BIN:-} ]]; then
    bin=$NETEM_AGENT_BIN
else
    profile=${NETEM_VM_PROFILE:-release}
    target=x86_64-unknown-linux-gnu
    flags=()
    [[ $profile == release ]] && flags=(--release)
    # With --target, RUSTFLAGS reach only the target's crates, not build scripts.
    (cd "$repo" && RUSTFLAGS="-C target-feature=+crt-static" \
        cargo build -q "${flags[@]+"${flags[@]}"}" -p netem-agent --bin netem-agent --target "$target" >&2)
    bin=${CARGO_TARGET_DIR:-$repo/target}/$target/$profile/netem-agent
fi
[[ -x $bin ]] || { echo "build-agent.sh: no agent binary at $bin" >&2; exit 1; }
# The container image is FROM scratch: the binary must not need a dynamic loader.
if ldd "$bin" 2>&1 | grep -q '=>'; then
    echo "build-agent.sh: $bin is dynamically linked" >&2
    exit 1
fi
echo "$bin"
