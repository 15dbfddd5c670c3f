# Guest script: every `kubectl netem` command of README.md and docs/ (extracted on the host by
# tests/docs/commands.sh into /guest/doc-commands), run in document order against local
# sandboxes on the real kernel; each must succeed. Commands with `-n tidb-cluster` go to a
# sandbox whose TidbCluster lives in that namespace; TiDB Operator v2 ones (a cluster/ or group
# target, a group resource) to a v2 sandbox (--scenario basic-v2); the others to one using
# "default".
# Before each command, as a user would, it waits for the TidbCluster to be Ready (the operator
# writes its status while pods roll; a guarded patch made from a stale read would get 409).
# Needs in /usr/local/bin: netem-testcluster, kubectl-netem, netem-agent, kubectl.
set -uo pipefail
. /guest/lib.sh

# start_sandbox DIR NAMESPACE [SCENARIO]: starts netem-testcluster, prints its kubeconfig path.
start_sandbox() {
    mkdir -p "$1"
    netem-testcluster --dir "$1" --namespace "$2" --scenario "${3:-basic}" --agent /usr/local/bin/netem-agent \
        >"$1/kubeconfig.path" 2>"$1/log" &
    for _ in $(seq 150); do grep -q 'pods ready' "$1/log" && break; sleep 0.2; done
    cat "$1/kubeconfig.path"
}
DEFAULT_KC=$(start_sandbox /tmp/docs-default default)
TIDB_KC=$(start_sandbox /tmp/docs-tidb tidb-cluster)
V2_KC=$(start_sandbox /tmp/docs-v2 default basic-v2)
verdict "sandboxes up" "default: $DEFAULT_KC, tidb-cluster: $TIDB_KC, v2: $V2_KC" [ -s "$DEFAULT_KC" -a -s "$TIDB_KC" -a -s "$V2_KC" ]

n=0
cd /tmp
# The manifest the `inject -f basic.yaml` examples read (TiDB Operator's basic example).
cp /guest/basic.yaml /tmp/basic.yaml
while IFS=$'\t' read -r where command; do
    n=$((n + 1))
    export KUBECONFIG=$DEFAULT_KC ns=default
    ready=tidbcluster/basic
    case " $command " in
        *" -n tidb-cluster "*) KUBECONFIG=$TIDB_KC ns=tidb-cluster ;;
        *" cluster/"* | *group* | *" pdg/"* | *" kvg/"* | *" dbg/"*)
            KUBECONFIG=$V2_KC ready="pdgroup/pd tikvgroup/tikv tidbgroup/tidb" ;;
    esac
    # shellcheck disable=SC2086 # $ready is a list of objects
    kubectl wait -n "$ns" --for=condition=Ready $ready --timeout=120s >/dev/null
    # As a shell runs it (redirections included); `kubectl netem` is the plugin.
    if [[ $command == "kubectl netem "* ]]; then
        out=$(eval "kubectl-netem ${command#kubectl netem }" 2>&1 </dev/null)
    else
        out=$(eval "$command" 2>&1 </dev/null)
    fi
    rc=$?
    echo "$out" | sed 's/^/    /'
    verdict "$where: $command" "exit $rc" [ "$rc" -eq 0 ]
done </guest/doc-commands
verdict "the docs show commands" "$n run" [ "$n" -gt 0 ]
summary
