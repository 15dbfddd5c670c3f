# Shared helpers for guest scripts (sourced by bash inside the VM; see tests/vm/initramfs.sh).
#
# Topology made by `pod_up`: network namespace "pod" whose interface `uplink0` (10.20.0.2/24)
# carries its default route, veth-paired with `vpod` (10.20.0.1/24) in the VM's root namespace,
# which plays the node. Pinging 10.20.0.2 from the root namespace crosses the pod's egress, so a
# netem qdisc on uplink0 delays the replies. The interface is deliberately not named eth0: the
# agent must find it through the default route.

POD_IP=10.20.0.2
POD_IF=uplink0
PASSES=0
FAILS=0

pod_up() {
    ip netns add pod
    # A pod's loopback is up (the agent listens on 127.0.0.1 there).
    ip -n pod link set lo up
    ip link add "$POD_IF" netns pod type veth peer name vpod
    ip addr add 10.20.0.1/24 dev vpod
    ip link set vpod up
    ip -n pod addr add "$POD_IP/24" dev "$POD_IF"
    ip -n pod link set "$POD_IF" up
    ip -n pod route add default via 10.20.0.1
}

# in_pod CMD...: run a command inside the pod's network namespace.
in_pod() { ip netns exec pod "$@"; }

pass() { echo "PASS $*"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
# verdict NAME DETAILS CMD...: PASS if CMD exits 0.
verdict() {
    local name=$1 details=$2
    shift 2
    if "$@"; then pass "$name: $details"; else fail "$name: $details"; fi
}
summary() {
    echo "SUMMARY: $PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}

# rtt N: average RTT in ms of N pings node -> pod, or "none" if no reply came back.
rtt() {
    local out
    out=$(ping -q -n -c "$1" -i 0.05 -W 2 "$POD_IP" 2>/dev/null | awk -F/ '/^rtt/ { print $5 }')
    echo "${out:-none}"
}
# calc EXPR: floating point arithmetic through bc.
calc() { echo "$*" | bc -l | sed 's/^\./0./; s/^-\./-0./'; }
# is EXPR: exit 0 iff the bc comparison is true.
is() { [ "$(echo "$*" | bc -l)" = 1 ]; }

# api METHOD PATH [JSON]: call the agent inside the pod; sets CODE (HTTP status) and BODY.
api() {
    local args=(-sS --max-time 20 -o /tmp/api-body -w '%{http_code}' -X "$1" "http://127.0.0.1:2332$2")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    rm -f /tmp/api-body
    CODE=$(in_pod curl "${args[@]}" 2>/tmp/api-err) || CODE=${CODE:-000}
    BODY=$(cat /tmp/api-body 2>/dev/null || true)
}

# root_qdisc: JSON of the root qdisc of the pod interface as `tc -j` reports it ("null" if none).
root_qdisc() {
    in_pod tc -j qdisc show dev "$POD_IF" | jq -c '[.[] | select(.root == true)] | .[0]'
}

# agent_start [ARGS...]: start netem-agent in the pod (state file in /run/agent unless
# --no-state-file is among ARGS), wait for
# `netem-agent health`; sets AGENT_PID and AGENT_READY_S.
agent_start() {
    mkdir -p /run/agent
    local t0=$EPOCHREALTIME i
    # Not through in_pod: a function run in the background is a subshell, and $! must be the
    # agent itself (signals go to it). nsenter execs the agent in the pod's netns.
    # --no-state-file among the arguments: no --state-file (the two conflict).
    local state=(--state-file /run/agent/state.json)
    case " $* " in *" --no-state-file "*) state=() ;; esac
    nsenter --net=/run/netns/pod netem-agent "${state[@]}" "$@" >>/tmp/agent.log 2>&1 &
    AGENT_PID=$!
    for i in $(seq 200); do
        if [ "$(cat /proc/"$AGENT_PID"/comm 2>/dev/null)" = netem-agent ] &&
            in_pod netem-agent health >/dev/null 2>&1; then
            AGENT_READY_S=$(calc "$EPOCHREALTIME - $t0")
            return 0
        fi
        kill -0 "$AGENT_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "agent did not become healthy; its log:"
    cat /tmp/agent.log
    return 1
}
# agent_stop SIGNAL: signal the agent and wait for it to exit (5 s); sets AGENT_RC.
agent_stop() {
    AGENT_RC=
    kill "-$1" "$AGENT_PID" 2>/dev/null || true
    local i
    for i in $(seq 100); do
        kill -0 "$AGENT_PID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$AGENT_PID" 2>/dev/null; then
        AGENT_RC=timeout
        kill -KILL "$AGENT_PID" 2>/dev/null || true
    fi
    wait "$AGENT_PID" 2>/dev/null
    AGENT_RC=${AGENT_RC:-$?}
}
