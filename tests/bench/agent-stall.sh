#!/usr/bin/env bash
# Benchmark of netem-agent under slow and stalled clients (a slowloris), printing figures.
#
# Starts the agent in a fresh network namespace, opens CONNS connections from inside it
# that each send a partial request and then stall (half in their headers, half in a PUT body
# whose Content-Length never arrives), and meanwhile asks /healthz every 0.25 s with a 1 s
# limit. Prints: how many health checks were answered (and the slowest), how many stalled
# connections the agent still held after the burst (it keeps at most 64, evicting the
# oldest idle one for each new one), how long until it had closed them all (headers: 5 s,
# bodies: 10 s), and its memory: VmRSS idle and the peak VmHWM from /proc/PID/status.
# Exit status 0 iff every health check was answered and VmHWM stayed under 32 MiB (the
# container's memory limit).
#
# Needs root (a network namespace), bash, curl. Usage:
#   tests/bench/agent-stall.sh      (CONNS=1000 PROFILE=release|debug AGENT=path)
set -euo pipefail
CONNS=${CONNS:-1000}
PROFILE=${PROFILE:-release}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"
bench_agent
NS=agent-stall-$$
work=$(mktemp -d)
cleanup() {
    [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" "$AGENT" --interface lo --no-state-file 2>"$work/agent.log" &
pid=$!
for _ in $(seq 100); do
    ip netns exec "$NS" "$AGENT" health 2>/dev/null && break
    sleep 0.05
done
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }
rss_idle=$(kib VmRSS)

# The stalled clients: one bash in the namespace holding CONNS sockets via /dev/tcp. It
# opens them in batches of 50 (faster, the listen backlog of 128 overflows and the kernel
# delays handshakes by its SYN-ACK retransmits), then holds them for 12 s and reports how
# many the agent had closed (a read that ends at once) right after the burst, and at the end.
ip netns exec "$NS" bash -c '
    ulimit -n $(( '"$CONNS"' + 64 ))
    fds=()
    for i in $(seq '"$CONNS"'); do
        exec {fd}<>/dev/tcp/127.0.0.1/2332 || continue
        if (( i % 2 )); then
            printf "GET /v1/netem HTTP/1.1\r\nHost: x\r\n" >&$fd
        else
            printf "PUT /v1/netem HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"de" >&$fd
        fi
        fds+=("$fd")
        (( i % 50 )) || sleep 0.02
    done
    count_closed() {
        local n=0 fd
        for fd in "${fds[@]}"; do
            # A closed connection reads EOF (or its 408 answer) at once; an open one times out.
            read -r -t 0.01 -u "$fd" _ 2>/dev/null
            (( $? > 128 )) || n=$((n + 1))
        done
        echo "$n"
    }
    sleep 0.5
    echo "opened ${#fds[@]}, closed by the agent right after the burst: $(count_closed)" >'"$work"'/clients
    sleep 12
    echo "closed by the agent 12 s later: $(count_closed)" >>'"$work"'/clients
' &
clients=$!

ok=0 failed=0 slowest=0 hwm=0
t0=$EPOCHREALTIME
while kill -0 "$clients" 2>/dev/null; do
    t=$EPOCHREALTIME
    if ip netns exec "$NS" curl -s -o /dev/null --max-time 1 -w '' http://127.0.0.1:2332/healthz; then
        ok=$((ok + 1))
        ms=$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN {printf "%d", (b - a) * 1000}')
        (( ms > slowest )) && slowest=$ms
    else
        failed=$((failed + 1))
    fi
    h=$(kib VmHWM)
    (( h > hwm )) && hwm=$h
    sleep 0.25
done
wait "$clients" || true
elapsed=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')
rss_after=$(kib VmRSS)
log_lines=$(wc -l <"$work/agent.log")

echo "agent-stall: $AGENT ($PROFILE), $CONNS stalled connections"
cat "$work/clients"
echo "health: $ok answered, $failed not answered within 1 s, slowest ${slowest} ms (over ${elapsed} s)"
echo "memory: VmRSS idle ${rss_idle} KiB, after ${rss_after} KiB; peak VmHWM ${hwm} KiB (limit 32768)"
echo "log: ${log_lines} lines"
[[ $failed == 0 && $hwm -lt 32768 ]]
