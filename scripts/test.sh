#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, lint, unit and root tests, end-to-end tests
# against the test cluster, and the real-kernel tier in a qemu VM.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "set-up"
bash scripts/setup.sh

step "format and lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build (the e2e tests run the agent binary inside pod network namespaces)"
cargo build --workspace --locked

step "unit, root and end-to-end tests"
cargo test --workspace --locked

step "real-kernel tier (qemu, Debian 6.1 with sch_netem)"
bash tests/vm/agent-tier.sh
bash tests/vm/cluster-tier.sh

step "all tests passed"
