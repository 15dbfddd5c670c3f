# Guest script: the newcomer's demo (issue 3, item 6). Walks the original story on a LOCAL
# SANDBOX (netem-testcluster: an API server double whose pods are network namespaces inside
# this VM), printing each command as it runs. Not a Kubernetes cluster.
set -uo pipefail
. /guest/lib.sh

say() { printf '\n### %s\n' "$*"; }
run() { # print a command as typed, then run it
    printf '$ %s\n' "$*"
    "$@" 2>&1
}

say "Starting a local sandbox (netem-testcluster), NOT a real cluster: an API server double"
echo "    with TiDB Operator's 'basic' TidbCluster; each pod is a network namespace in this VM,"
echo "    whose kernel (Debian 6.1) has sch_netem."
mkdir -p /tmp/demo
netem-testcluster --dir /tmp/demo --agent /usr/local/bin/netem-agent >/tmp/kubeconfig.path 2>/tmp/sandbox.log &
SANDBOX=$!
for i in $(seq 150); do grep -q 'pods ready' /tmp/sandbox.log && break; sleep 0.2; done
cat /tmp/sandbox.log
export KUBECONFIG
KUBECONFIG=$(cat /tmp/kubeconfig.path)
NODE=$(ip netns list | awk '/-node/ { print $1; exit }')
# A demo that fails half-way must say so (CI runs it): remember every failing step.
FAILED=()
alias_kubectl_netem() {
    printf '$ kubectl netem %s\n' "$*"
    kubectl-netem "$@" 2>&1 || FAILED+=("kubectl netem $*")
}
ping_pd() {
    local ip
    ip=$(kubectl get pod basic-pd-0 -o jsonpath='{.status.podIP}')
    ip netns exec "$NODE" ping -c 1 -W 1 "$ip" >/dev/null # ARP first, so it does not skew the first reply
    printf '$ ping -c 5 %s    # basic-pd-0, from the node\n' "$ip"
    ip netns exec "$NODE" ping -c 5 -i 0.2 "$ip" | tail -n +2
}

say "The pods, as kubectl sees them"
run kubectl get pods -o wide

say "1. Inject the agent into the TidbCluster (the operator rolls the pods one by one)"
alias_kubectl_netem inject tc/basic --yes --wait
run kubectl get pods

say "2. Ping basic-pd-0 before"
ping_pd

say "3. Add 20 ms of delay to basic-pd-0"
alias_kubectl_netem delay basic-pd-0 20ms

say "4. Ping basic-pd-0 after: about 20 ms more"
ping_pd

say "5. What is in force"
alias_kubectl_netem status

say "6. Clear it, ping again"
alias_kubectl_netem clear basic-pd-0
ping_pd

say "7. Take the agent out again (the spec is as it was)"
alias_kubectl_netem eject tc/basic --yes --wait

say "Stopping the sandbox"
kill -TERM "$SANDBOX"
wait "$SANDBOX"
if ((${#FAILED[@]})); then
    printf 'FAILED: %s\n' "${FAILED[@]}"
    exit 1
fi
echo "done: that was a local sandbox in a VM; on a real cluster the same commands apply (see README)."
