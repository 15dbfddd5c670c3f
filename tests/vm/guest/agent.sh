# Guest script: the real-kernel tier of netem-agent (issue 2, item 6). One boot, many checks;
# each prints PASS/FAIL with its figures, the script fails if any check failed.
# Needs /usr/local/bin/netem-agent (tests/vm/agent-tier.sh puts it there).
set -uo pipefail
. /guest/lib.sh
pod_up

# Tolerances. TCG adds its own latency, so every delay is measured against a baseline taken
# in the same boot: added = rtt - baseline, and must be within [want - 1, want * 1.1 + 2] ms.
delay_ok() { is "$1 >= $2 - 1 && $1 <= $2 * 1.1 + 2"; }
# expect_delay NAME WANT_MS: ping and compare the added delay.
expect_delay() {
    local r added
    r=$(rtt 20)
    if [ "$r" = none ]; then fail "$1: no ping reply (want +$2 ms)"; return; fi
    added=$(calc "$r - $BASE")
    verdict "$1" "rtt ${r} ms = baseline ${BASE} + ${added} ms (want +$2 ms)" delay_ok "$added" "$2"
}
# jq_ok JSON FILTER: exit 0 iff the filter yields true. Helpers for filters: `near(a)` compares
# numbers to 1e-6 (tc prints fractions of the kernel's u32 scale), `pct` turns "0.5%" (or null)
# into a number for a tolerant comparison.
JQDEFS='def near($a): ((. - $a) | fabs) < 1e-6;
    def pct: if . == null then 0 else (tostring | rtrimstr("%") | tonumber) end;'
jq_ok() { [ "$(echo "$1" | jq -r "$JQDEFS $2" 2>/dev/null)" = true ]; }
# tc_is FILTER: the root qdisc (tc -j) satisfies FILTER.
tc_is() { local q; q=$(root_qdisc); jq_ok "$q" "$1"; }
# No impairment besides delay: the attributes a previous set had must be gone.
ONLY_DELAY='(.options["loss-random"] // {loss: 0}).loss == 0 and (.options.duplicate // {duplicate: 0}).duplicate == 0
    and (.options.reorder // {reorder: 0}).reorder == 0 and (.options.corrupt // {corrupt: 0}).corrupt == 0
    and (.options.rate // {rate: 0}).rate == 0 and .options.gap == 0'
netem_delay() { # FILTER for a root netem with delay $1 s, no jitter, limit 1000, nothing else
    echo ".kind == \"netem\" and (.options.delay.delay | near($1)) and .options.delay.jitter == 0
        and .options.limit == 1000 and $ONLY_DELAY"
}
no_root_netem() { ! tc_is '.kind == "netem"'; }
# A veth's root qdisc is noqueue when nothing is set: the agent may call that "none".
CLEAN='(.root_qdisc == "none" or .root_qdisc == "noqueue") and .netem == null'

echo "== start"
agent_start
verdict "agent starts" "healthy after ${AGENT_READY_S:-never} s" kill -0 "$AGENT_PID"
api GET /v1/info
verdict "GET /v1/info" "$CODE $BODY" jq_ok "$BODY" \
    ".interface == \"$POD_IF\" and .netem_available == true and (.version | length > 0)"
api GET /healthz
verdict "GET /healthz" "$CODE" [ "$CODE" = 200 ]
api GET /v1/netem
verdict "GET /v1/netem on a clean interface" "$CODE $BODY" jq_ok "$BODY" "$CLEAN and .managed == false"
api DELETE /v1/netem
verdict "DELETE on a clean interface" "$CODE $BODY" eval '[ "$CODE" = 200 ] && jq_ok "$BODY" "$CLEAN"'

rtt 3 >/dev/null
BASE=$(rtt 20)
echo "baseline rtt ${BASE} ms"
[ "$BASE" != none ] || { fail "baseline ping"; summary; exit 1; }

echo "== GET /latency/20ms (the original call)"
api GET /latency/20ms
verdict "latency 20ms answer" "$CODE $BODY" jq_ok "$BODY" \
    '.root_qdisc == "netem" and .netem.delay == "20ms" and .managed == true'
expect_delay "latency 20ms ping" 20
verdict "latency 20ms tc" "$(root_qdisc)" tc_is "$(netem_delay 0.02)"

echo "== second set: GET /latency/100ms"
api GET /latency/100ms
verdict "latency 100ms answer" "$CODE" jq_ok "$BODY" '.netem.delay == "100ms"'
expect_delay "latency 100ms ping" 100
verdict "latency 100ms tc" "$(root_qdisc)" tc_is "$(netem_delay 0.1)"

echo "== loss 100%"
api PUT /v1/netem '{"loss":"100%"}'
verdict "PUT loss 100%" "$CODE $BODY" [ "$CODE" = 200 ]
out=$(ping -q -n -c 5 -i 0.2 -W 1 "$POD_IP" 2>&1)
verdict "loss 100% ping fails" "$(echo "$out" | grep -o '[0-9]* received.*loss')" \
    eval 'echo "$out" | grep -q " 0 received"'
verdict "loss 100% tc" "$(root_qdisc)" tc_is \
    '.kind == "netem" and .options["loss-random"].loss == 1 and (.options.delay.delay // 0) == 0'

echo "== clear"
api DELETE /v1/netem
verdict "DELETE /v1/netem" "$CODE $BODY" jq_ok "$BODY" "$CLEAN"
verdict "cleared tc" "$(root_qdisc)" no_root_netem
r=$(rtt 20)
verdict "cleared ping back to baseline" "rtt ${r} ms, baseline ${BASE} ms" \
    is "$r - $BASE < 1 && $BASE - $r < 1"

echo "== PUT every knob: tc reports exactly what the agent set, the agent reads it back"
full='{"delay":"50ms","jitter":"10ms","delay_correlation":"25%","distribution":"pareto",
 "loss":"2%","loss_correlation":"10%","duplicate":"1%","duplicate_correlation":"5%",
 "corrupt":"0.5%","corrupt_correlation":"3%","reorder":"5%","reorder_correlation":"50%",
 "gap":5,"rate":"10mbit","limit":2000}'
api PUT /v1/netem "$full"
verdict "PUT full spec" "$CODE $BODY" [ "$CODE" = 200 ]
verdict "full spec tc" "$(root_qdisc)" tc_is '.kind == "netem" and .options.limit == 2000
    and (.options.delay | (.delay | near(0.05)) and (.jitter | near(0.01)) and (.correlation | near(0.25)))
    and (.options["loss-random"] | (.loss | near(0.02)) and (.correlation | near(0.1)))
    and (.options.duplicate | (.duplicate | near(0.01)) and (.correlation | near(0.05)))
    and (.options.corrupt | (.corrupt | near(0.005)) and (.correlation | near(0.03)))
    and (.options.reorder | (.reorder | near(0.05)) and (.correlation | near(0.5)))
    and .options.rate.rate == 1250000 and .options.gap == 5'
api GET /v1/netem
# The kernel does not dump the distribution table, so it cannot be read back.
verdict "full spec read back" "$BODY" jq_ok "$BODY" '.managed == true and
    (.netem | .delay == "50ms" and .jitter == "10ms" and (.delay_correlation | pct | near(25))
    and (.loss | pct | near(2)) and (.loss_correlation | pct | near(10)) and (.duplicate | pct | near(1))
    and (.duplicate_correlation | pct | near(5)) and (.corrupt | pct | near(0.5))
    and (.corrupt_correlation | pct | near(3)) and (.reorder | pct | near(5))
    and (.reorder_correlation | pct | near(50)) and .gap == 5 and .limit == 2000
    and (.rate | ascii_downcase | test("^(10mbit|1250000bps|10000kbit|1\\.25mbps)$")))'
for dist in normal paretonormal uniform; do
    api PUT /v1/netem "{\"delay\":\"30ms\",\"jitter\":\"5ms\",\"distribution\":\"$dist\"}"
    verdict "distribution $dist accepted by the kernel" "$CODE $BODY" tc_is \
        '.kind == "netem" and .options.delay.jitter == 0.005'
done

echo "== a set after the full spec replaces it all (omitted attributes are reset)"
api PUT /v1/netem "$full"
api GET /latency/20ms
verdict "latency 20ms after full spec" "$(root_qdisc)" tc_is "$(netem_delay 0.02)"
api PUT /v1/netem '{"delay":"20ms"}'
api PUT /v1/netem '{"delay":"20ms"}'
verdict "same PUT twice" "$CODE" tc_is "$(netem_delay 0.02)"

echo "== bad input changes nothing"
for bad in '{"delay":"abc"}|delay' '{"delay":"10ms","loss":"150%"}|loss' '{"jitter":"5ms"}|jitter' \
    '{"bogus":1}|' '{"delay":|'; do
    body=${bad%|*} field=${bad##*|}
    api PUT /v1/netem "$body"
    ok_field=true
    [ -z "$field" ] || jq_ok "$BODY" ".field == \"$field\"" || ok_field=false
    verdict "PUT $body -> 400" "$CODE $BODY" eval \
        '[ "$CODE" = 400 ] && $ok_field && jq_ok "$BODY" "(.error | length) > 0" && tc_is "$(netem_delay 0.02)"'
done
api GET /latency/fast
verdict "GET /latency/fast -> 400" "$CODE $BODY" eval '[ "$CODE" = 400 ] && tc_is "$(netem_delay 0.02)"'

echo "== reads what tc set: tc qdisc replace ... netem delay 30ms 5ms 25% loss 1%"
api DELETE /v1/netem
in_pod tc qdisc replace dev "$POD_IF" root netem delay 30ms 5ms 25% loss 1%
api GET /v1/netem
verdict "agent reports tc's netem" "$BODY" jq_ok "$BODY" '.root_qdisc == "netem" and .managed == false
    and (.netem | .delay == "30ms" and .jitter == "5ms" and (.delay_correlation | pct | near(25))
    and (.loss | pct | near(1)) and (.loss_correlation | pct | near(0)) and (.duplicate | pct | near(0))
    and (.corrupt | pct | near(0)) and (.reorder | pct | near(0)) and (.rate == null)
    and (.limit // 1000) == 1000)'
api DELETE /v1/netem
verdict "DELETE removes a netem set by tc" "$CODE" eval '[ "$CODE" = 200 ] && no_root_netem'

echo "== a foreign root qdisc (tbf) is left alone unless forced"
in_pod tc qdisc replace dev "$POD_IF" root tbf rate 1mbit burst 32kbit latency 400ms
api GET /v1/netem
verdict "reports tbf" "$BODY" jq_ok "$BODY" '.root_qdisc == "tbf" and .netem == null'
api DELETE /v1/netem
verdict "DELETE with tbf -> 409" "$CODE $BODY" eval '[ "$CODE" = 409 ] && tc_is ".kind == \"tbf\""'
api DELETE '/v1/netem?force=true'
verdict "DELETE ?force=true removes tbf" "$CODE $(root_qdisc)" eval \
    '[ "$CODE" = 200 ] && ! tc_is ".kind == \"tbf\""'

echo "== concurrent requests are serialized"
pids=()
for i in $(seq 10); do
    in_pod curl -s --max-time 20 -o /dev/null -w '%{http_code}\n' -X PUT -H 'Content-Type: application/json' \
        --data-binary "{\"delay\":\"${i}ms\"}" http://127.0.0.1:2332/v1/netem >/tmp/conc.$i &
    pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the agent is a child too
codes=$(cat /tmp/conc.* | sort | uniq -c | tr -s ' ' | tr '\n' ',')
api GET /v1/netem
tcd=$(root_qdisc | jq -r '.options.delay.delay * 1000 | round | "\(.)ms"')
verdict "10 concurrent PUTs" "codes:$codes agent ${BODY:0:80}... tc $tcd" eval \
    '[ "$(cat /tmp/conc.* | sort -u)" = 200 ] && jq_ok "$BODY" ".netem.delay == \"$tcd\""'

echo "== ttl, SIGKILL and restart: the agent adopts its qdisc and keeps the pending expiry"
api PUT /v1/netem '{"delay":"40ms","ttl":"12s"}'
t_set=$EPOCHREALTIME
expires=$(echo "$BODY" | jq -r .expires_at)
verdict "PUT with ttl 12s" "$CODE expires_at=$expires ttl_remaining=$(echo "$BODY" | jq -r .ttl_remaining)" \
    jq_ok "$BODY" '.expires_at != null and .ttl_remaining != null and .netem.delay == "40ms"'
killed=$AGENT_PID
agent_stop KILL
verdict "SIGKILL leaves the qdisc" "pid $killed gone, $(root_qdisc)" eval \
    '! kill -0 "$killed" 2>/dev/null && tc_is "$(netem_delay 0.04)"'
agent_start
api GET /v1/netem
verdict "restarted agent adopts" "ready in ${AGENT_READY_S} s: $BODY" jq_ok "$BODY" \
    ".managed == true and .expires_at == \"$expires\" and .ttl_remaining != null and .netem.delay == \"40ms\""
expect_delay "adopted delay 40ms ping" 40
cleared=
for i in $(seq 80); do
    if no_root_netem; then cleared=$(calc "$EPOCHREALTIME - $t_set"); break; fi
    sleep 0.25
done
verdict "ttl expiry clears" "cleared ${cleared:-never} s after the PUT (ttl 12s)" \
    is "${cleared:-99} >= 11 && ${cleared:-99} <= 15"
api GET /v1/netem
verdict "after expiry" "$BODY" jq_ok "$BODY" "$CLEAN and .expires_at == null"

echo "== SIGTERM clears what the agent set"
api GET /latency/20ms
agent_stop TERM
verdict "SIGTERM clears" "exit status $AGENT_RC, root $(root_qdisc)" eval \
    '[ "$AGENT_RC" = 0 ] && no_root_netem'
verdict "health fails without an agent" "" eval '! in_pod netem-agent health >/dev/null 2>&1'
agent_start
api GET /latency/30ms
agent_stop INT
verdict "SIGINT clears" "exit status $AGENT_RC, root $(root_qdisc)" eval \
    '[ "$AGENT_RC" = 0 ] && no_root_netem'

echo "== --keep-on-exit keeps it"
agent_start --keep-on-exit
api GET /latency/20ms
agent_stop TERM
verdict "SIGTERM with --keep-on-exit keeps netem" "exit status $AGENT_RC, $(root_qdisc)" \
    tc_is "$(netem_delay 0.02)"
agent_start
api DELETE /v1/netem
verdict "a new agent clears it" "$CODE" eval '[ "$CODE" = 200 ] && no_root_netem'
agent_stop TERM

echo "== own handle (4e45:): a new agent without a state file adopts the qdisc by its handle"
agent_start
api PUT /v1/netem '{"delay":"30ms","ttl":"10m"}'
verdict "the agent's netem has handle 4e45:" "$(root_qdisc)" tc_is \
    '.kind == "netem" and .handle == "4e45:"'
killed=$AGENT_PID
agent_stop KILL
verdict "SIGKILL leaves it" "pid $killed gone, $(root_qdisc)" tc_is "$(netem_delay 0.03)"
agent_start --no-state-file
api GET /v1/netem
verdict "a --no-state-file agent adopts it (no ttl known)" "$BODY" jq_ok "$BODY" \
    '.managed == true and .netem.delay == "30ms" and .expires_at == null'
api DELETE /v1/netem
verdict "and clears it without force" "$CODE $(root_qdisc)" eval '[ "$CODE" = 200 ] && no_root_netem'
in_pod tc qdisc replace dev "$POD_IF" root handle 8001: netem delay 10ms
api GET /v1/netem
verdict "a netem with another handle (tc's) is not the agent's" "$BODY" jq_ok "$BODY" \
    '.managed == false and .root_qdisc == "netem" and .netem.delay == "10ms"'
api GET /latency/20ms
verdict "a set over it makes the agent's own" "$CODE $(root_qdisc)" tc_is \
    "$(netem_delay 0.02) and .handle == \"4e45:\""
agent_stop TERM
verdict "SIGTERM of the --no-state-file agent clears its qdisc" "exit $AGENT_RC, $(root_qdisc)" \
    eval '[ "$AGENT_RC" = 0 ] && no_root_netem'

echo "== values netem cannot hold are refused, not rounded to a clear"
agent_start
api GET /latency/20ms
api PUT /v1/netem '{"loss":"0.0000000001%"}'
verdict "PUT loss 0.0000000001% -> 400" "$CODE $BODY" eval \
    '[ "$CODE" = 400 ] && jq_ok "$BODY" ".field == \"loss\"" && tc_is "$(netem_delay 0.02)"'
api DELETE /v1/netem
agent_stop TERM

echo "== agent log"
cat /tmp/agent.log
summary
