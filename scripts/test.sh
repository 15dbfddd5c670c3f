#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, lint, unit and root tests, end-to-end tests
# against the test cluster, and the real-kernel tier in a qemu VM.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

# Every test must run here: a missing prerequisite (root, kubectl, ...) fails the run
# instead of letting a test skip (tests/harness).
export NETEM_TEST_STRICT=1

step "set-up"
bash scripts/setup.sh

step "format and lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build (the e2e tests run the agent binary inside pod network namespaces)"
cargo build --workspace --locked

step "unit, root and end-to-end tests"
cargo test --workspace --locked

step "cargo install from this checkout, as README says; then \`kubectl netem\` finds it"
# A plain install builds the plugin alone (no test-only crates unifying features), which is
# how a missing TLS crypto provider once slipped past `cargo test`.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
CARGO_TARGET_DIR=target/install cargo install --quiet --locked --debug --path . --root "$root"
version=$(cargo pkgid -p kubectl-netem | sed 's/.*[#@]//')
"$root/bin/kubectl-netem" --version | grep -x "kubectl-netem $version"
# README's completion install line, into the same directory: kubectl then completes the plugin.
install -m 0755 completions/kubectl_complete-netem "$root/bin/"
if command -v kubectl >/dev/null; then
    PATH="$root/bin:$PATH" kubectl netem --version | grep -x "kubectl-netem $version"
    PATH="$root/bin:$PATH" kubectl __complete netem de | grep -x delay
fi

step "real-kernel tier (qemu, Debian 6.1 with sch_netem)"
bash tests/vm/agent-tier.sh
bash tests/vm/cluster-tier.sh

step "the newcomer's demo (scripts/demo.sh), as README gives it"
bash scripts/demo.sh

step "all tests passed"
