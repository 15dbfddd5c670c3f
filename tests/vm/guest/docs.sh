# Guest script: every `kubectl netem` command of README.md and docs/ (extracted on the host by
# tests/docs/commands.sh into /guest/doc-commands), run in document order against local
# sandboxes on the real kernel; each must succeed. Commands with `-n tidb-cluster` go to a
# sandbox whose TidbCluster lives in that namespace, the others to one using "default".
# Needs in /usr/local/bin: netem-testcluster, kubectl-netem, netem-agent.
set -uo pipefail
. /guest/lib.sh

# start_sandbox DIR NAMESPACE: starts netem-testcluster, prints its kubeconfig path.
start_sandbox() {
    mkdir -p "$1"
    netem-testcluster --dir "$1" --namespace "$2" --agent /usr/local/bin/netem-agent \
        >"$1/kubeconfig.path" 2>"$1/log" &
    for _ in $(seq 150); do grep -q 'pods ready' "$1/log" && break; sleep 0.2; done
    cat "$1/kubeconfig.path"
}
DEFAULT_KC=$(start_sandbox /tmp/docs-default default)
TIDB_KC=$(start_sandbox /tmp/docs-tidb tidb-cluster)
verdict "sandboxes up" "default: $DEFAULT_KC, tidb-cluster: $TIDB_KC" [ -s "$DEFAULT_KC" -a -s "$TIDB_KC" ]

n=0
while IFS=$'\t' read -r where args; do
    n=$((n + 1))
    kc=$DEFAULT_KC
    case " $args " in *" -n tidb-cluster "*) kc=$TIDB_KC ;; esac
    # Word splitting is intended: the docs' commands have no quoting.
    # shellcheck disable=SC2086
    out=$(KUBECONFIG=$kc kubectl-netem $args 2>&1)
    rc=$?
    echo "$out" | sed 's/^/    /'
    verdict "$where: kubectl netem $args" "exit $rc" [ "$rc" -eq 0 ]
done </guest/doc-commands
verdict "the docs show commands" "$n run" [ "$n" -gt 0 ]
summary
