# Guest script: the curl examples of docs/agent-api.md (extracted on the host by
# tests/docs/agent-examples.sh into /guest/agent-examples.sh), run as written inside a pod
# netns next to a real agent; every curl must get a 2xx answer.
set -uo pipefail
. /guest/lib.sh

pod_up
agent_start || { fail "agent starts"; summary; exit 1; }
rm -f /tmp/doc-curl
# `curl` becomes a function that records each call's status; the examples run unchanged.
in_pod bash -c '
    curl() {
        local code
        code=$(command curl -sS --max-time 20 -o /tmp/doc-body -w "%{http_code}" "$@") || code=000
        printf "%s\t%s\n" "$code" "$*" >>/tmp/doc-curl
        cat /tmp/doc-body; echo
    }
    . /guest/agent-examples.sh
' 2>&1
calls=0
while IFS=$'\t' read -r code args; do
    calls=$((calls + 1))
    verdict "docs: curl $args" "HTTP $code" [ "${code:0:1}" = 2 ]
done </tmp/doc-curl
verdict "the API docs show curl examples" "$calls run" [ "$calls" -ge 5 ]
verdict "the last example (/latency/0) left no qdisc" "$(root_qdisc)" \
    eval '[ "$(root_qdisc | jq -r ".kind // \"none\"")" != netem ]'
agent_stop TERM
summary
