#!/usr/bin/env bash
# The agent's footprint, as docs/footprint.md reports it: binary size, CPU idle (over
# IDLE_S seconds, watchdog on at its default 15 s), CPU per request (N requests of each kind
# over one keep-alive connection), and memory (VmRSS idle, VmHWM after the requests).
# CPU is utime + stime from /proc/PID/stat (clock ticks, see `getconf CLK_TCK`).
#
# Needs root (a network namespace), curl. Usage:
#   tests/bench/agent-footprint.sh      (IDLE_S=60 N=2000 PROFILE=release|debug AGENT=path)
set -euo pipefail
IDLE_S=${IDLE_S:-60}
N=${N:-2000}
PROFILE=${PROFILE:-release}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"
bench_agent
NS=agent-footprint-$$
work=$(mktemp -d)
cleanup() {
    [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" addr add 10.77.0.1/24 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
ip -n "$NS" route add default via 10.77.0.2
ip netns exec "$NS" "$AGENT" --no-state-file 2>"$work/agent.log" &
pid=$!
for _ in $(seq 100); do
    ip netns exec "$NS" "$AGENT" health 2>/dev/null && break
    sleep 0.05
done
tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }
ms() { awk -v t="$1" -v h="$tck" 'BEGIN {printf "%.0f", t * 1000 / h}'; }

echo "agent-footprint: $AGENT ($PROFILE)"
echo "binary: $(stat -c %s "$AGENT") bytes"
before=$(cpu_ticks)
sleep "$IDLE_S"
idle=$(( $(cpu_ticks) - before ))
echo "idle: $(ms "$idle") ms CPU in ${IDLE_S} s ($(awk -v t="$idle" -v h="$tck" -v s="$IDLE_S" \
    'BEGIN {printf "%.4f", t / h / s * 100}') % of a core); VmRSS $(kib VmRSS) KiB"

# N requests over one curl (one keep-alive connection): curl's own CPU is not the agent's.
per_request() { # NAME METHOD PATH
    local cfg=$work/requests.curl i
    : >"$cfg"
    for i in $(seq "$N"); do
        printf 'url = "http://127.0.0.1:2332%s"\nrequest = "%s"\noutput = "/dev/null"\n' "$3" "$2" >>"$cfg"
    done
    local t0 b
    b=$(cpu_ticks)
    t0=$EPOCHREALTIME
    ip netns exec "$NS" curl -s -K "$cfg"
    local used=$(( $(cpu_ticks) - b ))
    echo "$1: $N requests in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}') s," \
        "$(ms "$used") ms CPU, $(awk -v t="$used" -v h="$tck" -v n="$N" \
        'BEGIN {printf "%.3f", t * 1000 / h / n}') ms CPU per request"
}
per_request "GET /healthz" GET /healthz
per_request "GET /v1/netem (3 netlink round trips)" GET /v1/netem
per_request "DELETE /v1/netem (nothing set)" DELETE /v1/netem
echo "memory after the requests: VmRSS $(kib VmRSS) KiB, VmHWM $(kib VmHWM) KiB"
