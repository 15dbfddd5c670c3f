# Guest script: per-destination rules on the real kernel (issue 10, item 7), one boot:
# netem-testcluster with three pods carrying the real agent, A = basic-pd-0, B = basic-tikv-0,
# C = basic-tidb-0 (each a network namespace on the node's bridge), the real kubectl-netem.
#   delay A 20ms --to B             ping B -> A about +20 ms (A's replies to B wait), C -> A not
#   --direction both                B -> A about +40 ms (both ways wait), C -> A not
#   clear A --to B                  back to the baseline, both sides
#   partition A --from B            B <-> A 100 % loss, C <-> A fine, status still reaches A
#   clear A --to B                  restored
#   B restarts with a new IP        status marks A's rule stale naming B; re-running refreshes it
# and `tc -j qdisc` / `tc -j filter` in A's netns agree with the agent's read-back (status -o json).
# Needs in /usr/local/bin: netem-testcluster, kubectl-netem, netem-agent, kubectl; modules
# sch_netem, sch_prio, cls_flower.
set -uo pipefail
. /guest/lib.sh

mkdir -p /tmp/c
netem-testcluster --dir /tmp/c --pods 3 --agent /usr/local/bin/netem-agent >/tmp/kubeconfig.path 2>/tmp/cluster.log &
CLUSTER_PID=$!
for _ in $(seq 150); do grep -q 'pods ready' /tmp/cluster.log && break; sleep 0.2; done
verdict "test cluster up" "$(grep -o '[0-9]* pods ready in [0-9.]*s' /tmp/cluster.log)" grep -q 'pods ready' /tmp/cluster.log
export KUBECONFIG
KUBECONFIG=$(cat /tmp/kubeconfig.path)
kn() { kubectl-netem "$@"; }
pod_ip() { kubectl get pod "$1" -o jsonpath='{.status.podIP}'; }
# pod_ns IP: the network namespace that holds IP (the pod's).
pod_ns() {
    local ns
    for ns in $(ip netns list | awk '{ print $1 }'); do
        ip -n "$ns" -4 -o addr show | grep -q " $1/" && { echo "$ns"; return; }
    done
}
# ping_from NS IP N: "RTT LOSS" of N pings from netns NS to IP: the median RTT in ms (TCG
# stalls now and then; a median ignores them), "none" if no reply came; the loss in %.
ping_from() {
    local out rtt loss
    out=$(ip netns exec "$1" ping -n -c "$3" -i 0.05 -W 1 "$2" 2>/dev/null)
    rtt=$(echo "$out" | grep -o 'time=[0-9.]*' | cut -d= -f2 | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
    loss=$(echo "$out" | grep -o '[0-9.]*% packet loss' | cut -d% -f1)
    echo "${rtt:-none} ${loss:-100}"
}
rtt_from() { ping_from "$@" | cut -d' ' -f1; }
loss_from() { ping_from "$@" | cut -d' ' -f2; }
near() { is "${1/none/-1000} >= $2 - 1.5 && ${1/none/-1000} <= $2 + $2 * 0.1 + 3"; }
# added RTT BASE: RTT - BASE (a large negative number when no reply came).
added() { calc "${1/none/-1000} - $2"; }

# Wait until the agents answer (ready) on all three pods.
for _ in $(seq 100); do kn status >/dev/null 2>&1 && break; sleep 0.2; done
A=basic-pd-0 B=basic-tikv-0 C=basic-tidb-0
IP_A=$(pod_ip $A) IP_B=$(pod_ip $B)
NS_A=$(pod_ns "$IP_A") NS_B=$(pod_ns "$IP_B") NS_C=$(pod_ns "$(pod_ip $C)")
verdict "three pods with agents" "A $A $IP_A ($NS_A), B $B $IP_B ($NS_B), C $C ($NS_C)" \
    [ -n "$NS_A" -a -n "$NS_B" -a -n "$NS_C" ]
rtt_from "$NS_B" "$IP_A" 3 >/dev/null
BASE_BA=$(rtt_from "$NS_B" "$IP_A" 20)
BASE_CA=$(rtt_from "$NS_C" "$IP_A" 20)
verdict "baseline B -> A, C -> A" "B->A $BASE_BA ms, C->A $BASE_CA ms" [ "$BASE_BA" != none -a "$BASE_CA" != none ]

# tc_agrees: A's kernel (tc -j) holds what the agent reports: one netem qdisc per rule and one
# for the default band (pass-through when there is no default), with the same delay and loss,
# and flower filters matching exactly the rules' addresses.
tc_agrees() {
    local st qd fl want got want_ips got_ips
    st=$(kn status $A -o json 2>/dev/null)
    qd=$(ip netns exec "$NS_A" tc -j qdisc show dev eth0)
    fl=$(ip netns exec "$NS_A" tc -j filter show dev eth0)
    echo "agent: $(echo "$st" | jq -c '.items[0] | {root_qdisc, netem, rules: [.rules[] | {id, destination, netem}]}')"
    echo "tc qdisc: $(echo "$qd" | jq -c '[.[] | {kind, handle, parent, options}]')"
    echo "tc filter: $(echo "$fl" | jq -c '[.[] | select(.options.keys) | {keys: .options.keys, to: (.options.flowid // .options.classid)}]')"
    # "DELAY_MS/LOSS_PCT" for each netem, sorted: the agent's (rules + default) and the kernel's.
    want=$(echo "$st" | jq -r '.items[0] | [(.rules[].netem), (.netem // {})]
        | map("\((.delay // "0ms") | sub("ms$"; "") | tonumber)/\((.loss // "0%") | sub("%$"; "") | tonumber)")
        | sort | join(" ")')
    got=$(echo "$qd" | jq -r '[.[] | select(.kind == "netem") | .options
        | "\(((.delay.delay // 0) * 1000) | round)/\(((."loss-random".loss // 0) * 100) | round)"]
        | sort | join(" ")')
    want_ips=$(echo "$st" | jq -r '[.items[0].rules[].destination.cidrs[] | sub("/32$"; "")] | unique | join(" ")')
    got_ips=$(echo "$fl" | jq -r '[.[] | .options.keys.dst_ip // empty | sub("/32$"; "")] | unique | join(" ")')
    echo "netem delay/loss: agent [$want] tc [$got]; addresses: agent [$want_ips] tc [$got_ips]"
    [ -n "$want" ] && [ "$want" = "$got" ] && [ "$want_ips" = "$got_ips" ]
}

echo "== delay A 20ms --to B"
kn delay $A 20ms --to $B 2>&1
r=$(rtt_from "$NS_B" "$IP_A" 20); rc=$(rtt_from "$NS_C" "$IP_A" 20)
verdict "B -> A is delayed" "rtt $r ms = baseline $BASE_BA + $(added "$r" "$BASE_BA") ms (want +20)" near "$(added "$r" "$BASE_BA")" 20
verdict "C -> A is not" "rtt $rc ms, baseline $BASE_CA ms" near "$(added "$rc" "$BASE_CA")" 0
out=$(tc_agrees); rc_tc=$?
echo "$out"
verdict "tc in A's netns agrees with the agent's read-back" "" [ $rc_tc -eq 0 ]
st=$(kn status 2>&1); echo "$st"
verdict "status: one line per rule" "" eval 'echo "$st" | grep -E "^$A .*pod/$B .*delay 20ms" >/dev/null'
wide=$(kn status $A -o wide 2>&1); echo "$wide"
verdict "status -o wide: the rule's address" "" eval 'echo "$wide" | grep -F "$IP_B/32" >/dev/null'

echo "== --direction both"
kn delay $A 20ms --to $B --direction both 2>&1
r=$(rtt_from "$NS_B" "$IP_A" 20); rc=$(rtt_from "$NS_C" "$IP_A" 20)
verdict "B -> A is delayed both ways" "rtt $r ms = baseline $BASE_BA + $(added "$r" "$BASE_BA") ms (want +40)" near "$(added "$r" "$BASE_BA")" 40
verdict "C -> A is not" "rtt $rc ms, baseline $BASE_CA ms" near "$(added "$rc" "$BASE_CA")" 0
n=$(kn status $A -o json 2>/dev/null | jq '.items[0].rules | length')
verdict "re-running replaced A's rule (same id)" "$n rule(s) on A" [ "$n" = 1 ]
b=$(kn status $B -o json 2>/dev/null | jq -c '.items[0].rules[0] | {id, to, reverse}')
verdict "B holds the way back, named by the source" "$b" eval \
    'echo "$b" | jq -e ".id == \"to.pod.$A\" and .reverse == true" >/dev/null'

echo "== clear A --to B (both sides)"
kn clear $A --to $B 2>&1
r=$(rtt_from "$NS_B" "$IP_A" 20)
verdict "B -> A back to the baseline" "rtt $r ms, baseline $BASE_BA ms" near "$(added "$r" "$BASE_BA")" 0
n=$(kn status $A $B -o json 2>/dev/null | jq '[.items[].rules[]] | length')
verdict "no rule left on A or B" "$n" [ "$n" = 0 ]

echo "== partition A --from B"
kn partition $A --from $B 2>&1
l1=$(loss_from "$NS_B" "$IP_A" 10); l2=$(loss_from "$NS_A" "$IP_B" 10)
verdict "B <-> A: 100 % loss" "B->A $l1 %, A->B $l2 %" [ "$l1" = 100 -a "$l2" = 100 ]
lc=$(loss_from "$NS_C" "$IP_A" 10); rc=$(rtt_from "$NS_C" "$IP_A" 10)
verdict "C <-> A fine" "C->A loss $lc %, rtt $rc ms" eval '[ "$lc" = 0 ] && near "$(added "$rc" "$BASE_CA")" 0'
st=$(kn status $A 2>&1); rc_st=$?
echo "$st"
verdict "status still reaches A (port-forward rides A's loopback)" "exit $rc_st" eval \
    '[ $rc_st -eq 0 ] && echo "$st" | grep -E "^$A .*pod/$B .*loss 100%" >/dev/null'
out=$(tc_agrees); rc_tc=$?
echo "$out"
verdict "tc agrees during the partition" "" [ $rc_tc -eq 0 ]

echo "== clear undoes the partition"
kn clear $A --to $B 2>&1
l1=$(loss_from "$NS_B" "$IP_A" 10); l2=$(loss_from "$NS_A" "$IP_B" 10)
verdict "B <-> A restored" "B->A $l1 %, A->B $l2 %" [ "$l1" = 0 -a "$l2" = 0 ]

echo "== staleness: B restarts with a new IP"
kn delay $A 20ms --to $B 2>&1
kubectl delete pod $B --wait=true >/dev/null 2>&1
for _ in $(seq 150); do
    NEW_B=$(pod_ip $B 2>/dev/null)
    [ -n "$NEW_B" ] && [ "$NEW_B" != "$IP_B" ] && kn status $B >/dev/null 2>&1 && break
    sleep 0.2
done
verdict "B came back with a new IP" "$IP_B -> $NEW_B" [ -n "$NEW_B" -a "$NEW_B" != "$IP_B" ]
st=$(kn status $A 2>&1); echo "$st"
j=$(kn status $A -o json 2>/dev/null | jq -c '.items[0].rules[0] | {stale, moved}')
verdict "status marks the rule stale and names B" "$j" eval \
    'echo "$st" | grep -F "STALE: $B $IP_B->$NEW_B" >/dev/null && echo "$j" | jq -e ".stale and .moved[0].pod == \"$B\"" >/dev/null'
verdict "and says how to refresh it" "" eval 'echo "$st" | grep -F "note: pod/$A: the rule to pod/$B holds old addresses of $B" >/dev/null'
kn delay $A 20ms --to $B 2>&1
j=$(kn status $A -o json 2>/dev/null | jq -c '.items[0].rules[0] | {stale, destination}')
verdict "re-running the command refreshes it" "$j" eval \
    'echo "$j" | jq -e ".stale == false and .destination.cidrs == [\"$NEW_B/32\"]" >/dev/null'
NS_B=$(pod_ns "$NEW_B")
BASE_NEW=$(calc "$BASE_BA")
r=$(rtt_from "$NS_B" "$IP_A" 20)
verdict "new B -> A is delayed" "rtt $r ms = baseline $BASE_BA + $(added "$r" "$BASE_BA") ms (want +20)" near "$(added "$r" "$BASE_NEW")" 20

echo "== clear --all"
kn clear --all 2>&1
q=$(ip netns exec "$NS_A" tc -j qdisc show dev eth0 | jq -c '[.[] | select(.kind == "netem" or .kind == "prio")] | length')
verdict "nothing left in A's kernel" "$q netem/prio qdiscs" [ "$q" = 0 ]

kill -TERM "$CLUSTER_PID"
for _ in $(seq 100); do kill -0 "$CLUSTER_PID" 2>/dev/null || break; sleep 0.1; done
echo "== test cluster log (tail)"
tail -20 /tmp/cluster.log
summary
