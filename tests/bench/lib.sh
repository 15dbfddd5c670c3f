# Sourced by the agent benchmarks: the agent binary to measure, in $AGENT.
# AGENT=path wins; else PROFILE=release (the static build that ships, tests/vm/build-agent.sh)
# or PROFILE=debug (cargo's debug build). Needs ROOT (the repository) set.
bench_agent() {
    local target=${CARGO_TARGET_DIR:-$ROOT/target}
    if [[ -n ${AGENT:-} ]]; then
        return
    fi
    if [[ ${PROFILE:-release} == release ]]; then
        AGENT=$("$ROOT/tests/vm/build-agent.sh")
    else
        (cd "$ROOT" && cargo build -q -p netem-agent --bin netem-agent >&2)
        AGENT=$target/debug/netem-agent
    fi
}
