# Guest script: measure netem-agent (issue 2, item 7) on the real kernel, in one boot:
# binary size, idle RSS, and the time to apply a netem change through the agent against
# `tc qdisc replace ... netem delay` for the same changes. Prints `BENCH name value unit` lines
# and a markdown table. Every change alternates 20ms/21ms so each one really changes the qdisc.
# N (default 50) changes per method; set with `-e BENCH_N=...` (run.sh).
set -uo pipefail
. /guest/lib.sh
N=${BENCH_N:-50}
pod_up
BIN=/usr/local/bin/netem-agent
ROWS=()
bench() { # bench NAME VALUE UNIT NOTE
    echo "BENCH $1 $2 $3"
    ROWS+=("| $1 | $2 $3 | $4 |")
}
# stats FILE NAME NOTE: median, p10, p90 of the µs figures in FILE (one per line).
stats() {
    local med p10 p90 n
    n=$(wc -l <"$1")
    med=$(sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
    p10=$(sort -n "$1" | awk -v n="$n" '{ a[NR] = $1 } END { i = int(n * 0.1); if (i < 1) i = 1; print a[i] }')
    p90=$(sort -n "$1" | awk -v n="$n" '{ a[NR] = $1 } END { i = int(n * 0.9 + 0.5); if (i > n) i = n; print a[i] }')
    bench "$2" "$(calc "$med / 1000" | xargs printf '%.2f')" ms "$3 (n=$n, p10 $(calc "$p10 / 1000" | xargs printf '%.2f'), p90 $(calc "$p90 / 1000" | xargs printf '%.2f') ms)"
}
check_last() { # the qdisc holds the last value set: the timed calls really applied
    local want got
    want=$(calc "(20 + $N % 2) / 1000")
    got=$(root_qdisc | jq -r .options.delay.delay)
    if is "$got == $want"; then pass "$1 applied: last delay $got s"; else fail "$1 applied: delay $got s, want $want s"; fi
}

bench "binary size" "$(stat -c %s $BIN)" bytes "$(calc "$(stat -c %s $BIN) / 1048576" | xargs printf '%.2f') MiB, static, release profile"
agent_start
sleep 2
bench "idle RSS" "$(awk '/^VmRSS/ { print $2 }' /proc/"$AGENT_PID"/status)" kB "VmRSS 2 s after start, no request served yet"
bench "startup to healthy" "$(calc "$AGENT_READY_S * 1000" | xargs printf '%.0f')" ms "spawn to first successful \`netem-agent health\` (includes that probe's own exec)"

# Everything timed runs inside the pod's netns in one bash, so `ip netns exec` costs nothing.
# Times are microseconds from bash's EPOCHREALTIME around each command.
in_pod tc qdisc del dev "$POD_IF" root 2>/dev/null
in_pod bash -c "for i in \$(seq $N); do d=\$((20 + i % 2)); s=\${EPOCHREALTIME/./}
    tc qdisc replace dev $POD_IF root netem delay \${d}ms; e=\${EPOCHREALTIME/./}; echo \$((e - s)); done" >/tmp/tc.us
check_last "tc"
stats /tmp/tc.us "tc qdisc replace (process)" "one \`tc qdisc replace dev $POD_IF root netem delay 20ms|21ms\` per change: exec + netlink"

# tc -batch: one process, N changes, so the per-change figure is tc's netlink path alone.
in_pod tc qdisc del dev "$POD_IF" root 2>/dev/null
for i in $(seq "$N"); do echo "qdisc replace dev $POD_IF root netem delay $((20 + i % 2))ms"; done >/tmp/tc.batch
in_pod bash -c "s=\${EPOCHREALTIME/./}; tc -batch /tmp/tc.batch; e=\${EPOCHREALTIME/./}; echo \$(((e - s) / $N))" >/tmp/tcb.us
check_last "tc -batch"
bench "tc -batch, per change" "$(calc "$(cat /tmp/tcb.us) / 1000" | xargs printf '%.2f')" ms "$N changes in one \`tc -batch\` process, total / $N"

# What starting a process costs here (no netlink): the floor under the per-process figures.
in_pod bash -c "for i in \$(seq $N); do s=\${EPOCHREALTIME/./}; tc -V >/dev/null; e=\${EPOCHREALTIME/./}; echo \$((e - s)); done" >/tmp/tcv.us
stats /tmp/tcv.us "tc -V (process, no netlink)" "exec of tc alone (dynamic, 10 libraries): the process part of the row above"

# The agent, one busybox wget process per change (static, so its exec is cheap).
in_pod tc qdisc del dev "$POD_IF" root 2>/dev/null
in_pod bash -c "for i in \$(seq $N); do d=\$((20 + i % 2)); s=\${EPOCHREALTIME/./}
    busybox wget -q -O /dev/null http://127.0.0.1:2332/latency/\${d}ms || echo FAILED >&2
    e=\${EPOCHREALTIME/./}; echo \$((e - s)); done" >/tmp/wget.us
check_last "agent via wget per change"
stats /tmp/wget.us "agent, busybox wget per change (process)" "one \`busybox wget 127.0.0.1:2332/latency/20ms|21ms\` per change: exec + HTTP + netlink"

# The agent, one curl process per change: the original \`curl pod-ip:2332/latency/20ms\` usage.
in_pod tc qdisc del dev "$POD_IF" root 2>/dev/null
in_pod bash -c "for i in \$(seq $N); do d=\$((20 + i % 2)); s=\${EPOCHREALTIME/./}
    curl -sf -o /dev/null http://127.0.0.1:2332/latency/\${d}ms || echo FAILED >&2
    e=\${EPOCHREALTIME/./}; echo \$((e - s)); done" >/tmp/curl.us
check_last "agent via curl per change"
stats /tmp/curl.us "agent, curl per change (process)" "one \`curl 127.0.0.1:2332/latency/20ms|21ms\` per change: exec + HTTP + netlink"

# HTTP round trips on one kept-alive connection (curl's own timer): what a client like the
# plugin pays per change once connected.
urls() { # curl arguments for N requests to PATH ({d} becomes 20 or 21), bodies discarded
    for i in $(seq "$N"); do echo "-o /dev/null http://127.0.0.1:2332${1/\{d\}/$((20 + i % 2))}"; done
}
rt() { # rt PATH FILE: per-request time_total in µs on one connection
    # shellcheck disable=SC2046
    in_pod curl -sf -w '%{time_total}\n' $(urls "$1") | awk '{ printf "%d\n", $1 * 1000000 }' >"$2"
}
in_pod tc qdisc del dev "$POD_IF" root 2>/dev/null
rt "/latency/{d}ms" /tmp/lat.us
check_last "agent keep-alive"
stats /tmp/lat.us "agent GET /latency (HTTP round trip)" "kept-alive connection: HTTP + netlink change + netlink read-back"
rt /healthz /tmp/health.us
stats /tmp/health.us "agent GET /healthz (HTTP only)" "same connection: the HTTP part alone"
rt /v1/netem /tmp/read.us
stats /tmp/read.us "agent GET /v1/netem (read)" "HTTP + netlink dump + decode"
lat=$(sort -n /tmp/lat.us | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
hl=$(sort -n /tmp/health.us | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
bench "agent change minus HTTP" "$(calc "($lat - $hl) / 1000" | xargs printf '%.2f')" ms "median /latency - median /healthz: the agent's netlink work per change"

bench "RSS after load" "$(awk '/^VmRSS/ { print $2 }' /proc/"$AGENT_PID"/status)" kB "VmRSS after $((N * 5)) requests (VmHWM $(awk '/^VmHWM/ { print $2 }' /proc/"$AGENT_PID"/status) kB)"
agent_stop TERM

echo
echo "| measure | value | how |"
echo "|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "guest: $(uname -r), $(nproc) vCPU qemu TCG ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), N=$N"
summary
