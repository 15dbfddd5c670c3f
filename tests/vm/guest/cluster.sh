# Guest script: the test cluster on the real kernel (issue 3, item 4), the original story end to
# end: netem-testcluster (API server double, operator, kubelet; pods are netns on a bridge in a
# "node" netns) runs the real netem-agent, the real kubectl-netem talks to it, and ping from
# the node to a pod shows the delay the plugin set; then the same on TiDB Operator v2
# (cluster-v2.sh, sourced).
# Needs in /usr/local/bin: netem-testcluster, kubectl-netem, netem-agent, kubectl.
set -uo pipefail
. /guest/lib.sh

mkdir -p /tmp/c
netem-testcluster --dir /tmp/c --agent /usr/local/bin/netem-agent >/tmp/kubeconfig.path 2>/tmp/cluster.log &
CLUSTER_PID=$!
for i in $(seq 150); do grep -q 'pods ready' /tmp/cluster.log && break; sleep 0.2; done
verdict "test cluster up" "$(grep -o '[0-9]* pods ready in [0-9.]*s' /tmp/cluster.log)" grep -q 'pods ready' /tmp/cluster.log
export KUBECONFIG
KUBECONFIG=$(cat /tmp/kubeconfig.path)
NODE=$(ip netns list | awk '/-node/ { print $1; exit }')
k() { kubectl "$@"; }
kn() { kubectl-netem "$@"; }
pod_ip() { k get pod "$1" -o jsonpath='{.status.podIP}'; }
# node_rtt IP N: average RTT in ms of N pings from the node netns (the bridge) to IP.
node_rtt() {
    local out
    out=$(ip netns exec "$NODE" ping -q -n -c "$2" -i 0.05 -W 2 "$1" 2>/dev/null | awk -F/ '/^rtt/ { print $5 }')
    echo "${out:-none}"
}
delay_ok() { is "$1 >= $2 - 1 && $1 <= $2 * 1.1 + 2"; }
# back_to RTT BASE: RTT within 3 ms of the baseline: far from any delay the story sets (20 ms
# and up), wide enough for the TCG guest's own jitter on a busy host (a 20-ping average has
# drifted 1 ms from its baseline with nothing set).
back_to() { is "${1/none/99} - $2 < 3 && $2 - ${1/none/99} < 3"; }

spec_before=$(k get tc basic -o json | jq -cS .spec)
verdict "kubectl sees the cluster" "node netns $NODE, pods: $(k get pods -o name | tr '\n' ' ')" \
    [ -n "$spec_before" ]

echo "== inject"
kn inject tc/basic --yes --wait --timeout 120s 2>&1 | tail -5
with_agent=$(k get pod basic-pd-0 -o json | jq -r '[.spec.containers[].name] | index("netem-agent") != null')
verdict "basic-pd-0 rolled with the agent" "$(k get pods --no-headers | tr -s ' ' | tr '\n' ';')" [ "$with_agent" = true ]
IP=$(pod_ip basic-pd-0)
node_rtt "$IP" 3 >/dev/null
BASE=$(node_rtt "$IP" 20)
verdict "baseline ping node -> basic-pd-0 ($IP)" "rtt $BASE ms" [ "$BASE" != none ]

echo "== delay basic-pd-0 20ms"
kn delay basic-pd-0 20ms 2>&1
r=$(node_rtt "$IP" 20)
added=$(calc "${r/none/-1000} - $BASE")
verdict "ping shows the delay" "rtt $r ms = baseline $BASE + $added ms (want +20 ms)" delay_ok "$added" 20
# The pod's netns is the one holding its IP; its eth0 root qdisc is what the agent set.
PODNS=$(for ns in $(ip netns list | awk '{ print $1 }'); do
    ip -n "$ns" -4 -o addr show | grep -q " $IP/" && echo "$ns"; done | head -1)
q=$(ip netns exec "$PODNS" tc -j qdisc show dev eth0 | jq -c '[.[] | select(.root == true)][0]')
verdict "tc in basic-pd-0's netns ($PODNS)" "$q" eval \
    'echo "$q" | jq -e ".kind == \"netem\" and .options.delay.delay == 0.02" >/dev/null'
other=$(pod_ip basic-tikv-0)
ro=$(node_rtt "$other" 10)
verdict "other pods untouched" "basic-tikv-0 rtt $ro ms" is "${ro/none/99} < $BASE + 2"
st=$(kn status 2>&1)
echo "$st"
verdict "status lists it" "" eval 'echo "$st" | grep -E "^basic-pd-0 .*20ms" >/dev/null'

echo "== clear"
kn clear basic-pd-0 2>&1
r=$(node_rtt "$IP" 20)
verdict "ping back to baseline" "rtt $r ms, baseline $BASE ms" back_to "$r" "$BASE"

# 10 s: long enough for status and ping to run on a loaded TCG guest before it runs out.
echo "== delay basic-pd-0 30ms --for 10s: the agent clears it by itself"
kn delay basic-pd-0 30ms --for 10s 2>&1
st=$(kn status basic-pd-0 -o json 2>/dev/null)
verdict "status shows the time left" "$(echo "$st" | jq -c '.items[0] | {netem, ttl_remaining}' 2>/dev/null)" eval \
    'echo "$st" | jq -e ".items[0].ttl_remaining != null and .items[0].netem.delay == \"30ms\"" >/dev/null'
r=$(node_rtt "$IP" 10)
added=$(calc "${r/none/-1000} - $BASE")
verdict "ping shows the timed delay" "rtt $r ms = baseline $BASE + $added ms (want +30 ms)" delay_ok "$added" 30
# Until the agent reports nothing set (it clears on its own timer; status only reads).
for _ in $(seq 100); do
    kn status basic-pd-0 -o json 2>/dev/null | jq -e '.items[0].netem == null' >/dev/null && break
    sleep 0.2
done
r=$(node_rtt "$IP" 20)
verdict "after --for ran out, ping is back to baseline" "rtt $r ms, baseline $BASE ms" \
    back_to "$r" "$BASE"

echo "== eject"
kn eject tc/basic --yes --wait --timeout 120s 2>&1 | tail -5
spec_after=$(k get tc basic -o json | jq -cS .spec)
verdict "spec exactly as before" "" [ "$spec_before" = "$spec_after" ]
[ "$spec_before" = "$spec_after" ] || diff <(echo "$spec_before" | jq -S .) <(echo "$spec_after" | jq -S .)

kill -TERM "$CLUSTER_PID"
for i in $(seq 100); do kill -0 "$CLUSTER_PID" 2>/dev/null || break; sleep 0.1; done
verdict "test cluster shuts down" "" eval '! kill -0 "$CLUSTER_PID" 2>/dev/null'
echo "== test cluster log"
cat /tmp/cluster.log

# The same story on TiDB Operator v2.
. /guest/cluster-v2.sh
echo "== v2 test cluster log"
cat /tmp/c2/log

# The other ways in: --ephemeral, -f MANIFEST | kubectl apply, --expose.
. /guest/cluster-paths.sh
echo "== paths test cluster log"
cat /tmp/c3/log
summary
