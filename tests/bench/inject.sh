#!/usr/bin/env bash
# Benchmark of the time from `inject ... --wait` to the agents answering on N pods: the agent
# joining the running pods as ephemeral containers against the rolling restart that puts it
# in the pod template.
#
# For each N and each run it starts a fresh test cluster (`netem-testcluster --pods N
# --no-agents`: a TidbCluster "basic" of N pods, pd 1, tidb 1, tikv N-2, none with the agent;
# an API server double over real HTTPS whose pods are network namespaces, see
# tests/cluster/README.md), waits until its N pods are Ready, then times one of
#   ephemeral  `kubectl-netem inject tc/basic --ephemeral --wait`
#   rolling    `kubectl-netem inject tc/basic --yes --wait`
# (`--wait` returns once every targeted agent answers through port-forward), and checks the
# outcome: every one of the N agents answers `status`; the ephemeral run left every pod UID
# as it was, the rolling one replaced every pod. The two kinds alternate, RUNS times each,
# and min / median / max are printed with the median ratio.
#
# What the double's rolling restart costs is its own, not a real cluster's: see
# docs/benchmarks-inject.md.
#
# Needs root (network namespaces). The host kernel needs no netem: nothing is delayed here.
#
# Usage: tests/bench/inject.sh   (SIZES="10 30" RUNS=3 LATENCY=0 KUBELET_LATENCY=0 PROFILE=release)
set -euo pipefail

SIZES=${SIZES:-"10 30"}
RUNS=${RUNS:-3}
LATENCY=${LATENCY:-0}
KUBELET_LATENCY=${KUBELET_LATENCY:-0}
PROFILE=${PROFILE:-release}
TIMEOUT=${TIMEOUT:-600s}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

if [ "$(id -u)" != 0 ]; then
    echo "inject.sh: needs root (the test cluster's pods are network namespaces)" >&2
    exit 1
fi

profile_flag=()
[ "$PROFILE" = release ] && profile_flag=(--release)
echo "building ($PROFILE)..." >&2
(cd "$ROOT" && cargo build -q "${profile_flag[@]}" -p kubectl-netem --bin kubectl-netem \
    -p netem-agent --bin netem-agent -p netem-testcluster --bin netem-testcluster)
BIN=$TARGET/$PROFILE
NETEM=$BIN/kubectl-netem

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
minimum() { printf '%s\n' "$@" | sort -n | head -n1; }
maximum() { printf '%s\n' "$@" | sort -n | tail -n1; }

cluster_pid=
work=
cleanup() {
    if [ -n "$cluster_pid" ]; then
        kill -TERM "$cluster_pid" 2>/dev/null || true
        wait "$cluster_pid" 2>/dev/null || true
        cluster_pid=
    fi
    [ -n "$work" ] && rm -rf "$work"
    work=
}
trap cleanup EXIT

# start_cluster N: a fresh test cluster of N pods without the agent, all Ready; sets
# kubeconfig.
start_cluster() {
    work=$(mktemp -d)
    "$BIN/netem-testcluster" --dir "$work" --agent "$BIN/netem-agent" --pods "$1" --no-agents \
        --latency "$LATENCY" --kubelet-latency "$KUBELET_LATENCY" >"$work/stdout" 2>"$work/stderr" &
    cluster_pid=$!
    for _ in $(seq 1200); do
        grep -q 'pods ready' "$work/stderr" && break
        kill -0 "$cluster_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
        sleep 0.1
    done
    grep -q 'pods ready' "$work/stderr" || { echo "the test cluster's pods never got ready" >&2; exit 1; }
    kubeconfig=$(head -n1 "$work/stdout")
}

# uids: every pod's uid, sorted.
uids() { kubectl --kubeconfig "$kubeconfig" get pods -o json | jq -c '[.items[].metadata.uid] | sort'; }

# one_run N KIND: times one inject of KIND (ephemeral|rolling) on a fresh cluster of N pods,
# checks its outcome and sets TOOK (seconds). Not in a subshell: the cluster is cleaned up by
# the EXIT trap if a check fails.
one_run() {
    local n=$1 kind=$2 args t0 t1 before after answering
    start_cluster "$n"
    before=$(uids)
    [ "$(echo "$before" | jq length)" = "$n" ] || { echo "expected $n pods, got $before" >&2; exit 1; }
    case $kind in
    ephemeral) args=(--ephemeral) ;;
    rolling) args=(--yes) ;;
    esac
    t0=$EPOCHREALTIME
    if ! "$NETEM" --kubeconfig "$kubeconfig" inject tc/basic "${args[@]}" --wait --timeout "$TIMEOUT" \
        >"$work/inject.out" 2>&1; then
        echo "inject ($kind, $n pods) failed:" >&2
        cat "$work/inject.out" >&2
        exit 1
    fi
    t1=$EPOCHREALTIME
    answering=$("$NETEM" --kubeconfig "$kubeconfig" status -o json 2>/dev/null |
        jq '[.items[] | select(.state == "ok")] | length' || echo 0)
    [ "$answering" = "$n" ] || { echo "$kind: only $answering of $n agents answer" >&2; exit 1; }
    after=$(uids)
    case $kind in
    ephemeral)
        [ "$before" = "$after" ] || { echo "ephemeral: pods were replaced" >&2; exit 1; } ;;
    rolling)
        [ "$(jq -n --argjson a "$before" --argjson b "$after" '$a - $b | length')" = "$n" ] ||
            { echo "rolling: not every pod was replaced" >&2; exit 1; } ;;
    esac
    cleanup
    TOOK=$(secs "$t0" "$t1")
}

rows=()
for n in $SIZES; do
    eph=()
    roll=()
    for r in $(seq "$RUNS"); do
        one_run "$n" ephemeral
        eph+=("$TOOK")
        one_run "$n" rolling
        roll+=("$TOOK")
        echo "N=$n run $r: ephemeral ${eph[-1]} s, rolling ${roll[-1]} s" >&2
    done
    em=$(median "${eph[@]}")
    rm_=$(median "${roll[@]}")
    rows+=("$(awk -v n="$n" -v emin="$(minimum "${eph[@]}")" -v em="$em" -v emax="$(maximum "${eph[@]}")" \
        -v rmin="$(minimum "${roll[@]}")" -v rm="$rm_" -v rmax="$(maximum "${roll[@]}")" 'BEGIN {
        printf "%5d  %6.2f %6.2f %6.2f   %6.2f %6.2f %6.2f   %6.1fx", n, emin, em, emax, rmin, rm, rmax, rm / em }')")
done

echo
echo "kubectl-netem inject --wait benchmark: ephemeral agents vs rolling restart, test cluster (a double)"
echo "API latency $LATENCY per request (+$KUBELET_LATENCY per port-forward set-up), $PROFILE build, $RUNS runs each, fresh cluster per run"
echo "$(nproc) cores, kernel $(uname -r)"
echo
echo "seconds from inject to every agent answering: min median max"
echo " pods      ephemeral --wait        rolling --yes --wait    median ratio"
for row in "${rows[@]}"; do echo "$row"; done
