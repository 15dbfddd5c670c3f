# Guest script part, sourced by cluster.sh after the v1 and v2 stories: the three other ways
# the agent gets into pods, on the real kernel, in one more test cluster:
#  (a) inject --ephemeral: the agent joins the running pods of a TidbCluster without the agent;
#      delay basic-pd-0 20ms -> ping from the node shows it, pod UIDs and restart counts
#      unchanged, tc in the pod netns shows the agent's netem (handle 4e45:); eject --ephemeral
#      -> netem gone, ping back to baseline, the ephemeral containers terminated.
#  (b) inject -f MANIFEST | kubectl apply -f -: a new TidbCluster whose pods have the agent from
#      the first one (StatefulSets at generation 1); delay 20ms -> ping shows it.
#  (c) inject --expose: curl POD_IP:2332/latency/20ms from another pod's netns sets the delay
#      (ping shows it), /latency/0 clears it; a default (loopback) agent refuses the same curl.
# Uses lib.sh's helpers and cluster.sh's k, kn, pod_ip, node_rtt, delay_ok, back_to; ~30 s.

echo "== other ways in: netem-testcluster --scenario basic (no agent)"
mkdir -p /tmp/c3
netem-testcluster --dir /tmp/c3 --agent /usr/local/bin/netem-agent \
    >/tmp/c3/kubeconfig.path 2>/tmp/c3/log &
PATHS_PID=$!
for i in $(seq 150); do grep -q 'pods ready' /tmp/c3/log && break; sleep 0.2; done
verdict "paths test cluster up" "$(grep -o '[0-9]* pods ready in [0-9.]*s' /tmp/c3/log)" grep -q 'pods ready' /tmp/c3/log
KUBECONFIG=$(cat /tmp/c3/kubeconfig.path)
NODE=$(ip netns list | awk -v p="ntc${PATHS_PID}-" 'index($1, p) == 1 && /-node/ { print $1; exit }')
# pod_netns IP: the netns holding IP (a pod's).
pod_netns() {
    local ns
    for ns in $(ip netns list | awk '{ print $1 }'); do
        ip -n "$ns" -4 -o addr show | grep -q " $1/" && { echo "$ns"; return 0; }
    done
    return 1
}
# pods_ident [NS]: each pod's name, uid and container restart counts, sorted.
pods_ident() {
    k get pods -n "${1:-default}" -o json |
        jq -cS '[.items[] | {name: .metadata.name, uid: .metadata.uid,
            restarts: [.status.containerStatuses[]?.restartCount]}] | sort_by(.name)'
}
# root_qdisc_of NETNS: the root qdisc of eth0 there, as tc -j reports it ("null" if none).
root_qdisc_of() { ip netns exec "$1" tc -j qdisc show dev eth0 | jq -c '[.[] | select(.root == true)][0]'; }
# secs_since T0: seconds since $EPOCHREALTIME was T0, two decimals.
secs_since() { printf '%.2f' "$(calc "$EPOCHREALTIME - $1")"; }

echo "== (a) inject tc/basic --ephemeral --wait"
no_agent=$(k get pods -o json | jq '[.items[].spec.containers[].name] | index("netem-agent") == null')
verdict "no pod has the agent yet" "$(k get pods --no-headers | tr -s ' ' | tr '\n' ';')" [ "$no_agent" = true ]
ident_before=$(pods_ident)
sts_gen_before=$(k get sts -o json | jq -cS '[.items[] | {name: .metadata.name, generation: .metadata.generation}]')
spec_before=$(k get tc basic -o json | jq -cS .spec)
t0=$EPOCHREALTIME
kn inject tc/basic --ephemeral --wait --timeout 60s 2>&1 | tail -3
took=$(secs_since "$t0")
running=$(k get pods -o json | jq '[.items[] | [.status.ephemeralContainerStatuses[]? |
    select(.name == "netem-agent-1" and .state.running != null)] | length == 1] | all')
verdict "inject --ephemeral --wait: netem-agent-1 running in every pod" "${took} s" [ "$running" = true ]
st=$(kn status -o wide 2>&1)
echo "$st"
verdict "status -o wide: KIND ephemeral" "" eval 'echo "$st" | grep -E "^basic-pd-0 .* ephemeral " >/dev/null'
IP=$(pod_ip basic-pd-0)
node_rtt "$IP" 3 >/dev/null
BASE=$(node_rtt "$IP" 20)
verdict "baseline ping node -> basic-pd-0 ($IP)" "rtt $BASE ms" [ "$BASE" != none ]
kn delay basic-pd-0 20ms 2>&1
r=$(node_rtt "$IP" 20)
added=$(calc "${r/none/-1000} - $BASE")
verdict "ephemeral: ping shows the delay" "rtt $r ms = baseline $BASE + $added ms (want +20 ms)" delay_ok "$added" 20
PODNS=$(pod_netns "$IP")
q=$(root_qdisc_of "$PODNS")
verdict "ephemeral: tc in basic-pd-0's netns shows the agent's netem" "$q" eval \
    'echo "$q" | jq -e ".kind == \"netem\" and .handle == \"4e45:\" and .options.delay.delay == 0.02" >/dev/null'
ident_after=$(pods_ident)
verdict "ephemeral: pod UIDs and restart counts unchanged" "$ident_after" [ "$ident_before" = "$ident_after" ]
sts_gen_after=$(k get sts -o json | jq -cS '[.items[] | {name: .metadata.name, generation: .metadata.generation}]')
spec_after=$(k get tc basic -o json | jq -cS .spec)
verdict "ephemeral: TidbCluster spec and StatefulSet generations unchanged" "$sts_gen_after" \
    eval '[ "$spec_before" = "$spec_after" ] && [ "$sts_gen_before" = "$sts_gen_after" ]'

echo "== (a) eject tc/basic --ephemeral --wait"
kn eject tc/basic --ephemeral --wait --timeout 60s 2>&1 | tail -3
q=$(root_qdisc_of "$PODNS")
verdict "ephemeral: netem gone after eject" "$q" eval 'echo "$q" | jq -e ".kind != \"netem\"" >/dev/null'
r=$(node_rtt "$IP" 20)
verdict "ephemeral: ping back to baseline" "rtt $r ms, baseline $BASE ms" back_to "$r" "$BASE"
states=$(k get pods -o json | jq -c '[.items[] | {(.metadata.name): [.status.ephemeralContainerStatuses[]? |
    {(.name): (.state | keys[0]), reason: .state.terminated.reason}]}] | add')
verdict "ephemeral: every netem-agent-1 terminated" "$states" eval \
    'echo "$states" | jq -e "[.[][] | .[\"netem-agent-1\"] == \"terminated\"] | all and length == 3" >/dev/null'
ident_after=$(pods_ident)
verdict "ephemeral: still no pod restarted after eject" "" [ "$ident_before" = "$ident_after" ]

echo "== (b) kubectl netem inject -f manifest.yaml | kubectl apply -f -"
cat >/tmp/c3/manifest.yaml <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: paths
---
# A second basic TidbCluster, applied with the agent already in it.
apiVersion: pingcap.com/v1alpha1
kind: TidbCluster
metadata:
  name: manifest
  namespace: paths
spec:
  version: v8.5.0
  pd:
    baseImage: pingcap/pd
    replicas: 1
  tikv:
    baseImage: pingcap/tikv
    replicas: 1
  tidb:
    baseImage: pingcap/tidb
    replicas: 1
EOF
t0=$EPOCHREALTIME
kn inject -f /tmp/c3/manifest.yaml | k apply -f - 2>&1
# Ready: every pod's containers ready (the agent's readiness is its exec probe).
ready_n() {
    k get pods -n paths -o json 2>/dev/null | jq '[.items[] | select(
        ([.spec.containers[].name] | index("netem-agent") != null) and
        ([.status.containerStatuses[]?.ready] | length > 0 and all))] | length'
}
for i in $(seq 150); do [ "$(ready_n)" = 3 ] && break; sleep 0.2; done
took=$(secs_since "$t0")
verdict "manifest: 3 pods ready with the agent from the first one" "${took} s from inject -f to ready; $(k get pods -n paths --no-headers | tr -s ' ' | tr '\n' ';')" \
    [ "$(ready_n)" = 3 ]
gens=$(k get sts -n paths -o json | jq -c '[.items[] | {(.metadata.name): .metadata.generation}] | add')
verdict "manifest: StatefulSets at generation 1 (no rolling restart)" "$gens" eval \
    'echo "$gens" | jq -e "length == 3 and ([.[]] | all(. == 1))" >/dev/null'
restarts=$(pods_ident paths | jq -c '[.[].restarts[]] | add')
verdict "manifest: no container restarted" "restarts $restarts" [ "$restarts" = 0 ]
MIP=$(k get pod manifest-pd-0 -n paths -o jsonpath='{.status.podIP}')
node_rtt "$MIP" 3 >/dev/null
MBASE=$(node_rtt "$MIP" 20)
verdict "baseline ping node -> manifest-pd-0 ($MIP)" "rtt $MBASE ms" [ "$MBASE" != none ]
kn -n paths delay manifest-pd-0 20ms 2>&1
r=$(node_rtt "$MIP" 20)
added=$(calc "${r/none/-1000} - $MBASE")
verdict "manifest: ping shows the delay" "rtt $r ms = baseline $MBASE + $added ms (want +20 ms)" delay_ok "$added" 20
kn -n paths clear manifest-pd-0 2>&1
r=$(node_rtt "$MIP" 20)
verdict "manifest: ping back to baseline after clear" "rtt $r ms, baseline $MBASE ms" back_to "$r" "$MBASE"

echo "== (c) inject tc/basic --component pd --expose --yes --wait"
t0=$EPOCHREALTIME
kn inject tc/basic --component pd --expose --yes --wait --timeout 120s 2>&1 | tail -5
took=$(secs_since "$t0")
exposed=$(k get pod basic-pd-0 -o json | jq -c '.spec.containers[] | select(.name == "netem-agent") | {args, ports}')
verdict "expose: basic-pd-0 rolled with an agent on 0.0.0.0:2332, port declared" "${took} s; $exposed" eval \
    'echo "$exposed" | jq -e "(.args | index(\"0.0.0.0:2332\") != null) and .ports[0].containerPort == 2332" >/dev/null'
IP=$(pod_ip basic-pd-0)
FROM=$(pod_netns "$(pod_ip basic-tikv-0)")
node_rtt "$IP" 3 >/dev/null
BASE=$(node_rtt "$IP" 20)
verdict "baseline ping node -> basic-pd-0 ($IP)" "rtt $BASE ms" [ "$BASE" != none ]
code=$(ip netns exec "$FROM" curl -sS -m 10 -o /tmp/c3/curl.out -w '%{http_code}' "http://$IP:2332/latency/20ms" 2>&1) || true
verdict "expose: curl $IP:2332/latency/20ms from basic-tikv-0's netns" "HTTP $code $(jq -c '{netem, managed}' /tmp/c3/curl.out 2>/dev/null)" [ "$code" = 200 ]
r=$(node_rtt "$IP" 20)
added=$(calc "${r/none/-1000} - $BASE")
verdict "expose: ping shows the delay curl set" "rtt $r ms = baseline $BASE + $added ms (want +20 ms)" delay_ok "$added" 20
code=$(ip netns exec "$FROM" curl -sS -m 10 -o /tmp/c3/curl.out -w '%{http_code}' "http://$IP:2332/latency/0" 2>&1) || true
r=$(node_rtt "$IP" 20)
verdict "expose: curl /latency/0 clears it" "HTTP $code, rtt $r ms, baseline $BASE ms" eval \
    '[ "$code" = 200 ] && back_to "$r" "$BASE"'
# The manifest's pods run the default agent: loopback only.
rc=0
out=$(ip netns exec "$FROM" curl -sS -m 10 -o /dev/null "http://$MIP:2332/latency/20ms" 2>&1) || rc=$?
r=$(node_rtt "$MIP" 20)
verdict "default agent: the same curl to manifest-pd-0 ($MIP) is refused" "curl rc $rc: $out; rtt $r ms, baseline $MBASE ms" \
    eval '[ "$rc" = 7 ] && back_to "$r" "$MBASE"'

kill -TERM "$PATHS_PID"
for i in $(seq 100); do kill -0 "$PATHS_PID" 2>/dev/null || break; sleep 0.1; done
verdict "paths test cluster shuts down" "" eval '! kill -0 "$PATHS_PID" 2>/dev/null'
