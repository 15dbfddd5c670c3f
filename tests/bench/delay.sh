#!/usr/bin/env bash
# Benchmark of `kubectl netem delay`: one command for N pods against the same job done pod
# by pod the way the original was used (one process, one port-forward per pod, in turn).
#
# For each N it starts the project's test cluster (`netem-testcluster --pods N`, an API
# server double over real HTTPS whose pods are network namespaces running the real agent,
# with a per-request latency like a real API server's), then times in the same run:
#   one     `kubectl-netem delay tidb-cluster/<tc> 20ms`           (all N pods, --parallel 32)
#   status  `kubectl-netem status -o json`                          (all N pods, a 200 answer)
#           (each the median of 3 runs, after one untimed warm-up run)
#   by pod  `kubectl-netem delay <pod> 20ms`, one process per pod, one after the other
# and prints the figures, the time per pod and the ratio.
#
# Needs root (network namespaces). On a kernel without netem (this host) every agent
# answers 503 to the change; the command still goes the whole way (API server, WebSocket
# port-forward, HTTP to the agent in the pod and back), which is the path being measured,
# and the script checks that every pod was reached. `status` gets a 200 from every agent.
#
# Latency: LATENCY is added to every API request; KUBELET_LATENCY once more to each
# port-forward's set-up, which on a real cluster goes on from the API server to the kubelet and
# the container runtime (CRI PortForward): two hops a plain GET does not make.
#
# Usage: tests/bench/delay.sh   (SIZES="1 10 50 100" LATENCY=2ms KUBELET_LATENCY=0 PROFILE=release)
set -euo pipefail

SIZES=${SIZES:-"1 10 50 100"}
LATENCY=${LATENCY:-2ms}
KUBELET_LATENCY=${KUBELET_LATENCY:-0}
PROFILE=${PROFILE:-release}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

if [ "$(id -u)" != 0 ]; then
  echo "delay.sh: needs root (the test cluster's pods are network namespaces)" >&2
  exit 1
fi

profile_flag=()
[ "$PROFILE" = release ] && profile_flag=(--release)
echo "building ($PROFILE)..." >&2
(cd "$ROOT" && cargo build -q "${profile_flag[@]}" -p kubectl-netem --bin kubectl-netem \
  -p netem-agent --bin netem-agent -p netem-testcluster --bin netem-testcluster)
BIN=$TARGET/$PROFILE
NETEM=$BIN/kubectl-netem

now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }

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

# Counts the pods a delay run reached: on this host each agent answers 503 ("kernel without
# netem"); on a kernel with netem each answers 200 (one "pod/NAME: delay 20ms" line).
reached() { grep -cE '^(error: pod/[^:]+: kernel without netem|pod/[^:]+: delay 20ms)' "$1" || true; }

rows=()
for n in $SIZES; do
  work=$(mktemp -d)
  "$BIN/netem-testcluster" --dir "$work" --agent "$BIN/netem-agent" --scenario basic \
    --pods "$n" --latency "$LATENCY" --kubelet-latency "$KUBELET_LATENCY" >"$work/stdout" 2>"$work/stderr" &
  cluster_pid=$!
  # The cluster prints its kubeconfig path once it serves.
  for _ in $(seq 600); do
    kubeconfig=$(head -n1 "$work/stdout" 2>/dev/null || true)
    [ -n "$kubeconfig" ] && [ -f "$kubeconfig" ] && break
    kill -0 "$cluster_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
  done
  k=("$NETEM" --kubeconfig "$kubeconfig")
  # Wait until all N agents answer (status exits 0 only when every pod's agent answered).
  for _ in $(seq 1200); do
    count=$("${k[@]}" status -o json 2>/dev/null | jq '[.items[] | select(.state == "ok")] | length' || echo 0)
    [ "$count" = "$n" ] && break
    sleep 0.25
  done
  [ "$count" = "$n" ] || { echo "only $count of $n agents answered" >&2; exit 1; }
  tc=$(kubectl --kubeconfig "$kubeconfig" get tidbclusters -o jsonpath='{.items[0].metadata.name}')
  mapfile -t pods < <("${k[@]}" status -o json 2>/dev/null | jq -r '.items[].pod')

  # Warm-up, untimed: each agent's first change attempt (module probe) is slower than the
  # next; both ways are then timed against agents in the same state.
  "${k[@]}" delay "tidb-cluster/$tc" 20ms >/dev/null 2>&1 || true

  times=()
  for _ in 1 2 3; do
    t0=$(now)
    "${k[@]}" delay "tidb-cluster/$tc" 20ms >"$work/one.out" 2>&1 || true
    t1=$(now)
    times+=("$(secs "$t0" "$t1")")
    got=$(reached "$work/one.out")
    [ "$got" = "$n" ] || { echo "one command reached $got of $n pods:" >&2; cat "$work/one.out" >&2; exit 1; }
  done
  one=$(median "${times[@]}")

  times=()
  for _ in 1 2 3; do
    t0=$(now)
    "${k[@]}" status -o json >"$work/status.out" 2>&1
    t1=$(now)
    times+=("$(secs "$t0" "$t1")")
  done
  status=$(median "${times[@]}")

  : >"$work/bypod.out"
  t0=$(now)
  for pod in "${pods[@]}"; do
    "${k[@]}" delay "$pod" 20ms >>"$work/bypod.out" 2>&1 || true
  done
  t1=$(now)
  bypod=$(secs "$t0" "$t1")
  got=$(reached "$work/bypod.out")
  [ "$got" = "$n" ] || { echo "pod by pod reached $got of $n pods" >&2; exit 1; }

  answer=$(grep -q 'kernel without netem' "$work/one.out" && echo 503 || echo 200)
  rows+=("$(awk -v n="$n" -v one="$one" -v st="$status" -v bp="$bypod" -v a="$answer" 'BEGIN {
    printf "%5d  %9.3f  %9.1f  %9.3f  %11.3f  %9.1f  %7.1fx  %s", n, one, one * 1000 / n, st, bp, bp * 1000 / n, bp / one, a }')")
  cleanup
done

echo
echo "kubectl-netem delay benchmark: test cluster with API latency $LATENCY per request (+$KUBELET_LATENCY per port-forward set-up), $PROFILE build, --parallel 32 (default)"
echo "$(nproc) cores, kernel $(uname -r)"
echo
echo "one cmd / status: median of 3; pod by pod: one process per pod, in turn, once"
echo
echo " pods   one cmd s  ms / pod   status s   pod by pod s  ms / pod    ratio  agent answer"
for row in "${rows[@]}"; do echo "$row"; done
