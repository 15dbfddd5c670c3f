# Guest script: per-destination rules on the real kernel (issue 10, items 4 and 7). One boot.
# Netns a, b, c on a bridge: the agent runs in a (eth0 10.30.0.1, fd00::1); rules on a's egress
# delay or drop what a sends to b or c, so pings b->a and c->a show them. After each step,
# `tc -j qdisc` and `tc -j filter` must agree with GET /v1/rules and GET /v1/netem.
# Needs /usr/local/bin/netem-agent and the modules sch_prio, cls_flower (agent-tier.sh).
set -uo pipefail
. /guest/lib.sh

ip link add br0 type bridge
ip addr add 10.30.0.254/24 dev br0
ip link set br0 up
n=0
for ns in a b c; do
    n=$((n + 1))
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "v$ns" type veth peer name eth0 netns "$ns"
    ip link set "v$ns" master br0 up
    ip -n "$ns" addr add "10.30.0.$n/24" dev eth0
    ip -n "$ns" addr add "fd00::$n/64" dev eth0 nodad
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via 10.30.0.254
done
A=10.30.0.1
jq_ok() { [ "$(echo "$1" | jq -r "$2" 2>/dev/null)" = true ]; }

# rtt_from NS N [DEST]: median RTT (ms) of N pings from NS to a (or DEST), "none" if no reply.
# The median, not the average: a single stall of the emulated CPU (TCG) would move an average.
rtt_from() {
    local out
    out=$(ip netns exec "$1" ping -n -c "$2" -i 0.05 -W 2 "${3:-$A}" 2>/dev/null |
        grep -o 'time=[0-9.]*' | cut -d= -f2 | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
    echo "${out:-none}"
}
# received_from NS N: how many of N pings from NS to a got a reply.
received_from() {
    ip netns exec "$1" ping -q -n -c "$2" -i 0.05 -W 1 "$A" 2>/dev/null | awk '/received/ { print $4 }'
}
delay_ok() { is "$1 >= $2 - 1 && $1 <= $2 * 1.1 + 2"; }
# expect NAME NS WANT_MS [DEST]: the added delay from NS is WANT_MS.
expect() {
    local r added base
    base=$([ "$2" = b ] && echo "$BASE_B" || echo "$BASE_C")
    r=$(rtt_from "$2" 20 "${4:-$A}")
    if [ "$r" = none ]; then fail "$1: no ping reply (want +$3 ms)"; return; fi
    added=$(calc "$r - $base")
    verdict "$1" "rtt $r ms = baseline $base + $added ms (want +$3 ms)" delay_ok "$added" "$3"
}
# ra METHOD PATH [JSON]: the agent API inside a.
ra() {
    local args=(-sS --max-time 20 -o /tmp/api-body -w '%{http_code} %{time_total}' -X "$1" "http://127.0.0.1:2332$2")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    rm -f /tmp/api-body
    local out
    out=$(ip netns exec a curl "${args[@]}" 2>/tmp/api-err) || out=${out:-000 0}
    CODE=${out%% *}
    # The request's own time, as curl measured it (not the start-up of ip netns exec).
    TOOK_MS=$(calc "${out#* } * 1000")
    BODY=$(cat /tmp/api-body 2>/dev/null || true)
}
start_agent() {
    mkdir -p /run/agent
    local state=(--state-file /run/agent/state.json)
    case " $* " in *" --no-state-file "*) state=() ;; esac
    nsenter --net=/run/netns/a netem-agent "${state[@]}" "$@" >>/tmp/agent.log 2>&1 &
    AGENT_PID=$!
    local i
    for i in $(seq 200); do
        ip netns exec a netem-agent health >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    fail "agent did not start"
    cat /tmp/agent.log
    exit 1
}

# The kernel's view, normalized: [{cidrs, ports, delay (ms), loss (%)}] per rule band, sorted,
# and the default band's netem; the same from the agent's answers; they must be equal.
NORM='def ms: if . == null then 0 else (capture("^(?<n>[0-9.]+)(?<u>[a-zµ]+)$")
        | (.n | tonumber) * ({"ns": 0.000001, "us": 0.001, "µs": 0.001, "ms": 1, "s": 1000, "m": 60000}[.u])) end | round;
    def pct: if . == null then 0 else (tostring | rtrimstr("%") | tonumber) end | round;
    def cidr: if test("/") then . elif test(":") then . + "/128" else . + "/32" end;'
kernel_view() {
    local q f
    q=$(ip netns exec a tc -j qdisc show dev eth0)
    f=$(ip netns exec a tc -j filter show dev eth0 parent 4e45: 2>/dev/null || echo '[]')
    jq -cn --argjson q "$q" --argjson f "${f:-[]}" "$NORM"'
        def netem_of: {delay: ((.options.delay.delay // 0) * 1000 | round),
                       loss: ((.options["loss-random"].loss // 0) * 100 | round)};
        ($q | map(select(.root == true)) | .[0]) as $root
        | if $root.kind == "prio" then
            {root: "prio",
             default: ($q | map(select(.parent == "4e45:1" and .kind == "netem")) | .[0] | netem_of
                       | if . == {delay: 0, loss: 0} then null else . end),
             rules: [$q[] | select(.kind == "netem" and (.parent // "" | startswith("4e45:")) and .parent != "4e45:1")
                | .parent as $band
                | netem_of + {cidrs: ([$f[] | select(.options.classid? == $band) | .options.keys.dst_ip // empty | cidr] | unique),
                              ports: ([$f[] | select(.options.classid? == $band) | .options.keys.dst_port // empty] | unique)}]
                | sort}
          elif $root.kind == "netem" then {root: "netem", default: ($root | netem_of), rules: []}
          elif $root == null or $root.handle == "0:" then {root: "none", default: null, rules: []}
          else {root: $root.kind, default: null, rules: []} end'
}
agent_view() {
    ra GET /v1/netem
    local state=$BODY
    ra GET /v1/rules
    jq -cn --argjson s "$state" --argjson r "$BODY" "$NORM"'
        def netem_of: {delay: (.delay | ms), loss: (.loss | pct)};
        {root: (if $s.root_qdisc == "noqueue" then "none" else $s.root_qdisc end),
         default: ($s.netem | if . == null then null else netem_of end),
         rules: ([$r[] | (.netem | netem_of) + {cidrs: ((.to.cidrs // []) | sort), ports: ((.to.ports // []) | sort)}] | sort)}
        | if ($s.rules // []) | map(.id) != ($r | map(.id)) then {error: "GET /v1/netem and /v1/rules disagree"} else . end'
}
agree() { # agree STEP: the kernel and the agent say the same
    local k a
    k=$(kernel_view)
    a=$(agent_view)
    verdict "$1: tc -j agrees with the agent" "tc $k / agent $a" [ "$k" = "$a" ]
}

echo "== start"
start_agent
rtt_from b 3 >/dev/null
rtt_from c 3 >/dev/null
BASE_B=$(rtt_from b 20)
BASE_C=$(rtt_from c 20)
rtt_from b 3 fd00::1 >/dev/null
BASE_B6=$(rtt_from b 20 fd00::1)
echo "baselines: b->a $BASE_B ms, c->a $BASE_C ms, b->a over IPv6 $BASE_B6 ms"
agree "clean"

echo "== a failed change leaves the previous tree (cls_flower unloadable: injected on the real kernel)"
ra PUT /v1/netem '{"delay":"5ms"}'
modprobe_path=$(cat /proc/sys/kernel/modprobe)
rmmod cls_flower && echo /bin/false >/proc/sys/kernel/modprobe
ra PUT /v1/rules/to-b '{"to":{"cidrs":["10.30.0.2/32"]},"netem":{"delay":"20ms"}}'
verdict "PUT rule without cls_flower -> 503 naming it" "$CODE $BODY" eval \
    '[ "$CODE" = 503 ] && echo "$BODY" | grep -q cls_flower && echo "$BODY" | grep -q "previous qdisc tree is back"'
verdict "the previous tree (root netem 4e45: delay 5ms) is back" "$(ip netns exec a tc -j qdisc show dev eth0 root)" eval \
    '[ "$(ip netns exec a tc -j qdisc show dev eth0 root | jq -r ".[0] | \"\(.kind) \(.handle) \(.options.delay.delay)\"")" = "netem 4e45: 0.005" ]'
agree "after the failed change"
echo "$modprobe_path" >/proc/sys/kernel/modprobe
modprobe cls_flower
ra DELETE /v1/netem

echo "== rule to b: delay 20ms"
ra PUT /v1/rules/to-b '{"to":{"cidrs":["10.30.0.2/32"]},"netem":{"delay":"20ms"},"about":{"pods":{"b":"10.30.0.2"}}}'
verdict "PUT /v1/rules/to-b" "$CODE $BODY" jq_ok "$BODY" \
    '.root_qdisc == "prio" and .netem == null and (.rules | length) == 1 and .rules[0].id == "to-b"
     and .rules[0].about.pods.b == "10.30.0.2" and .rules[0].netem.delay == "20ms"
     and .rules[0].to.cidrs == ["10.30.0.2/32"]'
expect "b->a +20ms" b 20
expect "c->a unchanged" c 0
ip netns exec a tc qdisc show dev eth0
ip netns exec a tc filter show dev eth0 parent 4e45:
agree "rule to b"

echo "== rule to c: delay 30ms, loss 10%"
ra PUT /v1/rules/to-c '{"to":{"cidrs":["10.30.0.3/32"]},"netem":{"delay":"30ms","loss":"10%"}}'
verdict "PUT /v1/rules/to-c" "$CODE" jq_ok "$BODY" '(.rules | map(.id)) == ["to-b", "to-c"]'
expect "c->a +30ms" c 30
expect "b->a still +20ms" b 20
agree "rules to b and c"

echo "== change the b rule to 50ms while c pings: c's rule stays in force throughout"
c_leaf() { ip netns exec a tc -s -j qdisc show dev eth0 | jq -c '[.[] | select(.parent == "4e45:3")] | .[0] | {handle, packets}'; }
before=$(c_leaf)
ip netns exec c ping -n -i 0.01 -c 200 -W 1 "$A" >/tmp/cping 2>&1 &
cping=$!
sleep 0.5
ra PUT /v1/rules/to-b '{"to":{"cidrs":["10.30.0.2/32"]},"netem":{"delay":"50ms"}}'
change_ms=$TOOK_MS
wait "$cping"
after=$(c_leaf)
got=$(grep -c 'time=' /tmp/cping)
min=$(grep -o 'time=[0-9.]*' /tmp/cping | cut -d= -f2 | sort -n | head -1)
verdict "PUT to-b 50ms answered" "$CODE in ${change_ms} ms (curl's time_total, under TCG)" [ "$CODE" = 200 ]
verdict "c's replies during the change all delayed (no gap)" \
    "$got of 200 replies, fastest ${min} ms (baseline $BASE_C + 30)" is "$got >= 150 && $min >= $BASE_C + 29"
verdict "c's netem was not re-made (same handle, counters kept growing)" "before $before after $after" \
    jq_ok "{\"b\": $before, \"a\": $after}" '.a.handle == .b.handle and .a.packets > .b.packets'
expect "b->a now +50ms" b 50
agree "b changed to 50ms"

echo "== a port rule (ports 9, any address): ICMP unaffected, TCP to port 9 delayed 100ms"
ra PUT /v1/rules/port-9 '{"to":{"ports":[9]},"netem":{"delay":"100ms"}}'
verdict "PUT /v1/rules/port-9" "$CODE" jq_ok "$BODY" '(.rules | map(.id)) == ["to-b", "to-c", "port-9"] and .rules[2].to == {"ports": [9]}'
expect "b->a ICMP still +50ms" b 50
connect_s() { ip netns exec a curl -s -o /dev/null -w '%{time_total}' --max-time 5 "http://10.30.0.254:$1/" 2>/dev/null; }
# The fastest of 3 tries each (curl's own start-up under TCG varies by tens of ms).
fastest() { local i; for i in 1 2 3; do connect_s "$1"; echo; done | sort -n | head -1; }
t9=$(fastest 9)
t10=$(fastest 10)
verdict "TCP to port 9 delayed ~100ms, port 10 not" "port 9 ${t9}s, port 10 ${t10}s" \
    is "$t9 - $t10 >= 0.09 && $t9 - $t10 <= 0.25"
agree "port rule"

echo "== IPv6: a rule to fd00::2"
ra PUT /v1/rules/to-b6 '{"to":{"cidrs":["fd00::2/128"]},"netem":{"delay":"40ms"}}'
verdict "PUT /v1/rules/to-b6" "$CODE" jq_ok "$BODY" '.rules[3].to.cidrs == ["fd00::2/128"]'
base4=$BASE_B
BASE_B=$BASE_B6
expect "b->a over IPv6 +40ms" b 40 fd00::1
BASE_B=$base4
expect "b->a over IPv4 still +50ms" b 50
agree "IPv6 rule"
ra DELETE /v1/rules/to-b6
ra DELETE /v1/rules/port-9

echo "== partition: loss 100% to b"
ra PUT /v1/rules/to-b '{"to":{"cidrs":["10.30.0.2/32","fd00::2/128"]},"netem":{"loss":"100%"}}'
verdict "PUT to-b loss 100%" "$CODE" [ "$CODE" = 200 ]
got=$(received_from b 10)
verdict "b<->a partitioned" "$got of 10 replies" [ "$got" = 0 ]
expect "c->a still +30ms" c 30
ra GET /healthz
verdict "the agent still answers on 127.0.0.1 in a" "$CODE" [ "$CODE" = 200 ]
agree "partition"

echo "== DELETE one rule"
ra DELETE /v1/rules/to-c
verdict "DELETE /v1/rules/to-c" "$CODE" jq_ok "$BODY" '(.rules | map(.id)) == ["to-b"]'
expect "c->a back to baseline" c 0
verdict "b still partitioned" "" [ "$(received_from b 5)" = 0 ]
ra DELETE /v1/rules/to-c
verdict "DELETE it again -> 404" "$CODE $BODY" [ "$CODE" = 404 ]
agree "one rule deleted"

echo "== the default beside the rules: PUT /v1/netem delay 10ms"
ra PUT /v1/netem '{"delay":"10ms"}'
verdict "PUT /v1/netem with a rule" "$CODE" jq_ok "$BODY" '.netem.delay == "10ms" and .root_qdisc == "prio" and (.rules | length) == 1'
expect "c->a +10ms (the default)" c 10
verdict "b still partitioned" "" [ "$(received_from b 5)" = 0 ]
ra GET /latency/15ms
expect "c->a +15ms (GET /latency/15ms sets the default)" c 15
agree "default and rule"

echo "== adoption: SIGKILL, restart with the state file; then without one"
kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
start_agent
ra GET /v1/rules
verdict "restarted agent knows its rule ids" "$BODY" jq_ok "$BODY" 'map(.id) == ["to-b"]'
agree "adopted with the state file"
kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
start_agent --no-state-file
ra GET /v1/netem
verdict "a --no-state-file agent adopts the tree by its handle" "$BODY" jq_ok "$BODY" \
    '.managed == true and (.rules | map(.id)) == ["band-2"] and .netem.delay == "15ms"'
ra PUT /v1/rules/to-b '{"to":{"cidrs":["10.30.0.2/32","fd00::2/128"]},"netem":{"loss":"100%"}}'
verdict "PUT with the same destination takes band-2 over" "$CODE" jq_ok "$BODY" '(.rules | map(.id)) == ["to-b"]'
agree "adopted without a state file"

echo "== ttl: a rule with ttl 3s clears itself alone"
ra PUT /v1/rules/to-c '{"to":{"cidrs":["10.30.0.3/32"]},"netem":{"delay":"30ms","ttl":"3s"}}'
verdict "PUT to-c with ttl" "$CODE" jq_ok "$BODY" '.rules[1].expires_at != null'
sleep 4
ra GET /v1/rules
verdict "to-c expired, to-b stays" "$BODY" jq_ok "$BODY" 'map(.id) == ["to-b"]'
agree "after the ttl"

echo "== at most 14 rules: the 15th is 422 and changes nothing; DELETE /v1/rules keeps the default"
for i in $(seq 13); do
    ra PUT "/v1/rules/r$i" "{\"to\":{\"cidrs\":[\"10.40.0.$i/32\"],\"ports\":[$((1000 + i))]},\"netem\":{\"delay\":\"${i}ms\"}}"
    [ "$CODE" = 200 ] || fail "PUT r$i: $CODE $BODY"
done
ra GET /v1/rules
verdict "14 rules in force" "$(echo "$BODY" | jq -c 'map(.id)')" jq_ok "$BODY" 'length == 14'
ra PUT /v1/rules/r14 '{"to":{"cidrs":["10.40.0.14/32"]},"netem":{"delay":"1ms"}}'
verdict "a 15th rule -> 422" "$CODE $BODY" [ "$CODE" = 422 ]
agree "14 rules"
ra DELETE /v1/rules
verdict "DELETE /v1/rules" "$CODE" jq_ok "$BODY" '.rules == null and .root_qdisc == "netem" and .netem.delay == "15ms"'
expect "c->a +15ms (the default stays)" c 15
agree "rules deleted, default kept"

echo "== DELETE /v1/netem restores everything"
ra DELETE /v1/netem
verdict "DELETE /v1/netem" "$CODE $BODY" jq_ok "$BODY" '.root_qdisc == "none" or .root_qdisc == "noqueue"'
expect "b->a back to baseline" b 0
expect "c->a back to baseline" c 0
agree "all cleared"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null

echo "== agent log"
cat /tmp/agent.log
summary
