# Guest script part, sourced by cluster.sh after its TiDB Operator v1 story: the same story on
# TiDB Operator v2 (core.pingcap.com/v1alpha1, the test cluster's v2 operator model, pods made
# directly from each group's pod overlay): inject cluster/basic -> delay the PD group's pod
# 20ms -> ping from the node shows it -> status -> clear -> eject -> every group spec exactly
# as before. Uses lib.sh's helpers and cluster.sh's node_rtt/delay_ok/back_to; ~20 s.

echo "== TiDB Operator v2: netem-testcluster --scenario basic-v2"
mkdir -p /tmp/c2
netem-testcluster --dir /tmp/c2 --scenario basic-v2 --agent /usr/local/bin/netem-agent \
    >/tmp/c2/kubeconfig.path 2>/tmp/c2/log &
V2_PID=$!
for i in $(seq 150); do grep -q 'pods ready' /tmp/c2/log && break; sleep 0.2; done
verdict "v2 test cluster up" "$(grep -o '[0-9]* pods ready in [0-9.]*s' /tmp/c2/log)" grep -q 'pods ready' /tmp/c2/log
KUBECONFIG=$(cat /tmp/c2/kubeconfig.path)
# The v1 cluster has shut down, so its node netns is gone: the one left is v2's.
NODE=$(ip netns list | awk '/-node/ { print $1; exit }')
groups_json() { k get pdgroup,tikvgroup,tidbgroup -o json | jq -cS '[.items[] | {kind, name: .metadata.name, spec}]'; }
specs_before=$(groups_json)
verdict "kubectl sees the v2 groups" "$(k get pdg,kvg,dbg --no-headers 2>&1 | awk '{ print $1 }' | tr '\n' ' ')" \
    eval '[ "$(echo "$specs_before" | jq length)" = 3 ]'

echo "== inject cluster/basic"
kn inject cluster/basic --yes --wait --timeout 120s 2>&1 | tail -5
PD=$(k get pods -l pingcap.com/component=pd -o jsonpath='{.items[0].metadata.name}')
with_agent=$(k get pod "$PD" -o json | jq -r '[.spec.containers[].name] | index("netem-agent") != null')
verdict "PD pod $PD made with the agent from the group's overlay" "$(k get pods --no-headers | tr -s ' ' | tr '\n' ';')" \
    [ "$with_agent" = true ]
IP=$(pod_ip "$PD")
node_rtt "$IP" 3 >/dev/null
BASE=$(node_rtt "$IP" 20)
verdict "baseline ping node -> $PD ($IP)" "rtt $BASE ms" [ "$BASE" != none ]

echo "== delay pdgroup/pd 20ms"
kn delay pdgroup/pd 20ms 2>&1
r=$(node_rtt "$IP" 20)
added=$(calc "${r/none/-1000} - $BASE")
verdict "v2: ping shows the delay" "rtt $r ms = baseline $BASE + $added ms (want +20 ms)" delay_ok "$added" 20
TIKV=$(k get pods -l pingcap.com/component=tikv -o jsonpath='{.items[0].metadata.name}')
ro=$(node_rtt "$(pod_ip "$TIKV")" 10)
verdict "v2: other pods untouched" "$TIKV rtt $ro ms" is "${ro/none/99} < $BASE + 2"
st=$(kn status cluster/basic 2>&1)
echo "$st"
verdict "v2: status cluster/basic lists it" "" eval 'echo "$st" | grep -E "^$PD .*20ms" >/dev/null'

echo "== clear cluster/basic"
kn clear cluster/basic 2>&1
r=$(node_rtt "$IP" 20)
verdict "v2: ping back to baseline" "rtt $r ms, baseline $BASE ms" back_to "$r" "$BASE"

echo "== eject cluster/basic"
kn eject cluster/basic --yes --wait --timeout 120s 2>&1 | tail -5
specs_after=$(groups_json)
verdict "v2: group specs exactly as before" "" [ "$specs_before" = "$specs_after" ]
[ "$specs_before" = "$specs_after" ] || diff <(echo "$specs_before" | jq -S .) <(echo "$specs_after" | jq -S .)
no_agent=$(k get pods -o json | jq '[.items[].spec.containers[].name] | index("netem-agent") == null')
verdict "v2: no pod runs the agent" "" [ "$no_agent" = true ]

kill -TERM "$V2_PID"
for i in $(seq 100); do kill -0 "$V2_PID" 2>/dev/null || break; sleep 0.1; done
verdict "v2 test cluster shuts down" "" eval '! kill -0 "$V2_PID" 2>/dev/null'
