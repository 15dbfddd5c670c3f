# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_netem_global_optspecs
    string join \n n/namespace= context= kubeconfig= cluster= user= request-timeout= s/server= certificate-authority= insecure-skip-tls-verify= token= as= as-group= h/help V/version
end

function __fish_kubectl_netem_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_netem_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_netem_using_subcommand
    set -l cmd (__fish_kubectl_netem_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -s n -l namespace -d 'Namespace to use (default: the context\'s namespace, else "default")' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l request-timeout -d 'Time limit for each request to the API server, like kubectl\'s (e.g. 30s, 1m, or a number of seconds; 0 = none)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -s s -l server -d 'The API server\'s address (overrides the kubeconfig cluster\'s server)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l certificate-authority -d 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig\'s)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure; drops the kubeconfig\'s CA)' -r -f -a "true\t''
false\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l token -d 'Bearer token for the API server (replaces the kubeconfig user\'s credentials)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l as -d 'User to impersonate for the operation' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -l as-group -d 'Group to impersonate (repeatable); needs --as, as in kubectl' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -f -a "inject" -d 'Add the netem agent container to a TidbCluster\'s components (or a StatefulSet), or to a TiDB Operator v2 cluster\'s groups'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -f -a "eject" -d 'Remove the netem agent container again, leaving the rest of the spec as it was'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -f -a "delay" -d 'Set network impairment (delay, loss, ...) on pods that carry the agent'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -f -a "partition" -d 'Cut pods off from others: 100 % loss to and from them (a rule, both directions)'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -f -a "clear" -d 'Remove the network impairment from pods that carry the agent'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -f -a "status" -d 'Show the netem settings in force on pods that carry the agent'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, powershell)'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -f -a "__complete" -d 'Answer kubectl\'s plugin completion: `kubectl_complete-netem ARGS... PARTIAL` runs this'
complete -c kubectl-netem -n "__fish_kubectl_netem_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -s f -l filename -d 'Write this manifest (a file, or - for standard input) to standard output with the change made to every TidbCluster, StatefulSet and v2 group in it, instead of changing the cluster: `kubectl netem inject -f basic.yaml | kubectl apply -f -` creates pods that have the agent from the first one' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -s l -l selector -d 'With --ephemeral: only pods matching this label selector' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l component -d 'Only these components (comma separated), e.g. pd,tikv: TidbCluster components, or the components of a v2 cluster\'s groups' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l timeout -d 'How long --wait waits' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l image -d 'Agent image; the nodes must be able to pull it (build it from agent/Containerfile, push or load it, see "The agent image" in the README)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -s n -l namespace -d 'Namespace to use (default: the context\'s namespace, else "default")' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l request-timeout -d 'Time limit for each request to the API server, like kubectl\'s (e.g. 30s, 1m, or a number of seconds; 0 = none)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -s s -l server -d 'The API server\'s address (overrides the kubeconfig cluster\'s server)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l certificate-authority -d 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig\'s)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure; drops the kubeconfig\'s CA)' -r -f -a "true\t''
false\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l token -d 'Bearer token for the API server (replaces the kubeconfig user\'s credentials)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l as -d 'User to impersonate for the operation' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l as-group -d 'Group to impersonate (repeatable); needs --as, as in kubectl' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l ephemeral -d 'Add the agent to the running pods as an ephemeral container (Kubernetes 1.25+): no pod restarts and no change to the TidbCluster or StatefulSet (eject: stop it). TARGET may then also be a pod (NAME or pod/NAME); --component and -l narrow group targets'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -s y -l yes -d 'Do not ask for confirmation before pods are restarted (or, with --wait after eject, before a pod stuck on the old spec is deleted)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l dry-run -d 'Print the exact patch and change nothing (server-side dry run where supported)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l wait -d 'Wait until every targeted pod runs (inject) or no longer runs (eject) the agent; a pod that cannot become ready for 20s stops the wait, naming why'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l force -d 'Patch a StatefulSet even though an operator manages it (it may undo the change)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -l expose -d 'Also make the agent listen on the pod IP, port 2332, and declare the port, so `curl POD_IP:2332/latency/20ms` works from inside the cluster. Anyone who can reach the pod network can then change the pod\'s network; the default is loopback only, reached through the API server\'s port-forward (RBAC on pods/portforward)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand inject" -s V -l version -d 'Print version'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -s f -l filename -d 'Write this manifest (a file, or - for standard input) to standard output with the change made to every TidbCluster, StatefulSet and v2 group in it, instead of changing the cluster: `kubectl netem inject -f basic.yaml | kubectl apply -f -` creates pods that have the agent from the first one' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -s l -l selector -d 'With --ephemeral: only pods matching this label selector' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l component -d 'Only these components (comma separated), e.g. pd,tikv: TidbCluster components, or the components of a v2 cluster\'s groups' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l timeout -d 'How long --wait waits' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -s n -l namespace -d 'Namespace to use (default: the context\'s namespace, else "default")' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l request-timeout -d 'Time limit for each request to the API server, like kubectl\'s (e.g. 30s, 1m, or a number of seconds; 0 = none)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -s s -l server -d 'The API server\'s address (overrides the kubeconfig cluster\'s server)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l certificate-authority -d 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig\'s)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure; drops the kubeconfig\'s CA)' -r -f -a "true\t''
false\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l token -d 'Bearer token for the API server (replaces the kubeconfig user\'s credentials)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l as -d 'User to impersonate for the operation' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l as-group -d 'Group to impersonate (repeatable); needs --as, as in kubectl' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l ephemeral -d 'Add the agent to the running pods as an ephemeral container (Kubernetes 1.25+): no pod restarts and no change to the TidbCluster or StatefulSet (eject: stop it). TARGET may then also be a pod (NAME or pod/NAME); --component and -l narrow group targets'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -s y -l yes -d 'Do not ask for confirmation before pods are restarted (or, with --wait after eject, before a pod stuck on the old spec is deleted)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l dry-run -d 'Print the exact patch and change nothing (server-side dry run where supported)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l wait -d 'Wait until every targeted pod runs (inject) or no longer runs (eject) the agent; a pod that cannot become ready for 20s stops the wait, naming why'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -l force -d 'Patch a StatefulSet even though an operator manages it (it may undo the change)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -s h -l help -d 'Print help'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand eject" -s V -l version -d 'Print version'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l jitter -d 'Random variation around the delay' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l correlation -d 'How much each packet\'s jitter depends on the previous one (percent)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l distribution -d 'Shape of the jitter' -r -f -a "normal\t''
pareto\t''
paretonormal\t''
uniform\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l loss -d 'Drop this share of packets (e.g. 1%, 0.5)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l duplicate -d 'Duplicate this share of packets' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l corrupt -d 'Corrupt one bit in this share of packets' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l reorder -d 'Send this share of packets at once, reordering them (needs a delay)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l gap -d 'With --reorder: reorder every GAP-th packet' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l rate -d 'Limit the bandwidth (tc spelling: 100kbit, 10mbit, 1gbit, 125kbps)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l limit -d 'Queue limit in packets' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l for -d 'Let the agent clear the setting by itself after this long (e.g. 10m)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l component -d 'Narrow tidb-cluster/, cluster/, group and statefulset/ targets (and status\'s default) to these components (comma separated), e.g. pd,tikv' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -s l -l selector -d 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l parallel -d 'How many pods to talk to at once' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l pod-timeout -d 'Time limit for each pod (port-forward and the agent\'s answer)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l to -d 'Only traffic to these (repeat or comma separate): pods (NAME, pod/NAME), tidb-cluster/NAME, statefulset/NAME. Their IPs are resolved now' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l to-component -d 'Only traffic to these components (comma separated): of the --to groups, or without --to, of the sources\' TidbCluster' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l to-selector -d 'Only traffic to pods matching this label selector (narrows the --to groups, or without --to, any pod of the namespace)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l to-cidr -d 'Only traffic to these networks, IPv4 or IPv6 (10.0.0.0/16, fd00::/64, 10.0.0.7)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l to-port -d 'Only traffic to these ports (TCP and UDP), alone or with any of the above' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l direction -d 'With destinations: impair what the sources send them (to), what they send the sources (from: set on their agents), or both' -r -f -a "to\t'What the sources send to the destinations (the sources\' agents)'
from\t'What the destinations send to the sources (the destination pods\' agents)'
both\t'Both (the agents on both sides)'"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -s n -l namespace -d 'Namespace to use (default: the context\'s namespace, else "default")' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l request-timeout -d 'Time limit for each request to the API server, like kubectl\'s (e.g. 30s, 1m, or a number of seconds; 0 = none)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -s s -l server -d 'The API server\'s address (overrides the kubeconfig cluster\'s server)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l certificate-authority -d 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig\'s)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure; drops the kubeconfig\'s CA)' -r -f -a "true\t''
false\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l token -d 'Bearer token for the API server (replaces the kubeconfig user\'s credentials)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l as -d 'User to impersonate for the operation' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -l as-group -d 'Group to impersonate (repeatable); needs --as, as in kubectl' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand delay" -s V -l version -d 'Print version'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l for -d 'Let the agents lift the partition by themselves after this long (e.g. 5m)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l component -d 'Narrow tidb-cluster/, cluster/, group and statefulset/ targets (and status\'s default) to these components (comma separated), e.g. pd,tikv' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -s l -l selector -d 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l parallel -d 'How many pods to talk to at once' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l pod-timeout -d 'Time limit for each pod (port-forward and the agent\'s answer)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l from -d 'Cut off from these (repeat or comma separate): pods (NAME, pod/NAME), tidb-cluster/NAME, statefulset/NAME' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l from-component -d 'From these components (comma separated): of the --from groups, or without --from, of the sources\' TidbCluster' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l from-selector -d 'From pods matching this label selector (narrows the --from groups, or without --from, any pod of the namespace)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l from-cidr -d 'From these networks (with --one-way only: addresses carry no agent to cut the way back)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l from-port -d 'Only these ports of theirs (TCP and UDP; with --one-way only)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -s n -l namespace -d 'Namespace to use (default: the context\'s namespace, else "default")' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l request-timeout -d 'Time limit for each request to the API server, like kubectl\'s (e.g. 30s, 1m, or a number of seconds; 0 = none)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -s s -l server -d 'The API server\'s address (overrides the kubeconfig cluster\'s server)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l certificate-authority -d 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig\'s)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure; drops the kubeconfig\'s CA)' -r -f -a "true\t''
false\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l token -d 'Bearer token for the API server (replaces the kubeconfig user\'s credentials)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l as -d 'User to impersonate for the operation' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l as-group -d 'Group to impersonate (repeatable); needs --as, as in kubectl' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -l one-way -d 'Cut only what the targets send (their agents alone); the way back stays open'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand partition" -s V -l version -d 'Print version'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l to -d 'Only traffic to these (repeat or comma separate): pods (NAME, pod/NAME), tidb-cluster/NAME, statefulset/NAME. Their IPs are resolved now' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l to-component -d 'Only traffic to these components (comma separated): of the --to groups, or without --to, of the sources\' TidbCluster' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l to-selector -d 'Only traffic to pods matching this label selector (narrows the --to groups, or without --to, any pod of the namespace)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l to-cidr -d 'Only traffic to these networks, IPv4 or IPv6 (10.0.0.0/16, fd00::/64, 10.0.0.7)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l to-port -d 'Only traffic to these ports (TCP and UDP), alone or with any of the above' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l direction -d 'With destinations: remove the sources\' rule (to), the destinations\' reverse rule (from), or both; by default both, the reverse where the destinations\' agents have it' -r -f -a "to\t'What the sources send to the destinations (the sources\' agents)'
from\t'What the destinations send to the sources (the destination pods\' agents)'
both\t'Both (the agents on both sides)'"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l component -d 'Narrow tidb-cluster/, cluster/, group and statefulset/ targets (and status\'s default) to these components (comma separated), e.g. pd,tikv' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -s l -l selector -d 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l parallel -d 'How many pods to talk to at once' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l pod-timeout -d 'Time limit for each pod (port-forward and the agent\'s answer)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -s n -l namespace -d 'Namespace to use (default: the context\'s namespace, else "default")' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l request-timeout -d 'Time limit for each request to the API server, like kubectl\'s (e.g. 30s, 1m, or a number of seconds; 0 = none)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -s s -l server -d 'The API server\'s address (overrides the kubeconfig cluster\'s server)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l certificate-authority -d 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig\'s)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure; drops the kubeconfig\'s CA)' -r -f -a "true\t''
false\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l token -d 'Bearer token for the API server (replaces the kubeconfig user\'s credentials)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l as -d 'User to impersonate for the operation' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l as-group -d 'Group to impersonate (repeatable); needs --as, as in kubectl' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l all -d 'Every pod with the agent in the namespace'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -l force -d 'Also remove a root qdisc that is not netem (the agent leaves those alone by default)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand clear" -s V -l version -d 'Print version'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
wide\t'The table plus node, pod IP and agent image'
json\t'JSON, for scripts'
yaml\t'YAML, for scripts'"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l component -d 'Narrow tidb-cluster/, cluster/, group and statefulset/ targets (and status\'s default) to these components (comma separated), e.g. pd,tikv' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -s l -l selector -d 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l parallel -d 'How many pods to talk to at once' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l pod-timeout -d 'Time limit for each pod (port-forward and the agent\'s answer)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -s n -l namespace -d 'Namespace to use (default: the context\'s namespace, else "default")' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l request-timeout -d 'Time limit for each request to the API server, like kubectl\'s (e.g. 30s, 1m, or a number of seconds; 0 = none)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -s s -l server -d 'The API server\'s address (overrides the kubeconfig cluster\'s server)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l certificate-authority -d 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig\'s)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure; drops the kubeconfig\'s CA)' -r -f -a "true\t''
false\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l token -d 'Bearer token for the API server (replaces the kubeconfig user\'s credentials)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l as -d 'User to impersonate for the operation' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -l as-group -d 'Group to impersonate (repeatable); needs --as, as in kubectl' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -s A -l all-namespaces -d 'Look in every namespace'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand status" -s V -l version -d 'Print version'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -s n -l namespace -d 'Namespace to use (default: the context\'s namespace, else "default")' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l request-timeout -d 'Time limit for each request to the API server, like kubectl\'s (e.g. 30s, 1m, or a number of seconds; 0 = none)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -s s -l server -d 'The API server\'s address (overrides the kubeconfig cluster\'s server)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l certificate-authority -d 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig\'s)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure; drops the kubeconfig\'s CA)' -r -f -a "true\t''
false\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l token -d 'Bearer token for the API server (replaces the kubeconfig user\'s credentials)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l as -d 'User to impersonate for the operation' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -l as-group -d 'Group to impersonate (repeatable); needs --as, as in kubectl' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -s h -l help -d 'Print help'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand completions" -s V -l version -d 'Print version'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -s n -l namespace -d 'Namespace to use (default: the context\'s namespace, else "default")' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l request-timeout -d 'Time limit for each request to the API server, like kubectl\'s (e.g. 30s, 1m, or a number of seconds; 0 = none)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -s s -l server -d 'The API server\'s address (overrides the kubeconfig cluster\'s server)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l certificate-authority -d 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig\'s)' -r -F
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure; drops the kubeconfig\'s CA)' -r -f -a "true\t''
false\t''"
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l token -d 'Bearer token for the API server (replaces the kubeconfig user\'s credentials)' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l as -d 'User to impersonate for the operation' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -l as-group -d 'Group to impersonate (repeatable); needs --as, as in kubectl' -r
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -s h -l help -d 'Print help'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand __complete" -s V -l version -d 'Print version'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand help; and not __fish_seen_subcommand_from inject eject delay partition clear status completions __complete help" -f -a "inject" -d 'Add the netem agent container to a TidbCluster\'s components (or a StatefulSet), or to a TiDB Operator v2 cluster\'s groups'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand help; and not __fish_seen_subcommand_from inject eject delay partition clear status completions __complete help" -f -a "eject" -d 'Remove the netem agent container again, leaving the rest of the spec as it was'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand help; and not __fish_seen_subcommand_from inject eject delay partition clear status completions __complete help" -f -a "delay" -d 'Set network impairment (delay, loss, ...) on pods that carry the agent'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand help; and not __fish_seen_subcommand_from inject eject delay partition clear status completions __complete help" -f -a "partition" -d 'Cut pods off from others: 100 % loss to and from them (a rule, both directions)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand help; and not __fish_seen_subcommand_from inject eject delay partition clear status completions __complete help" -f -a "clear" -d 'Remove the network impairment from pods that carry the agent'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand help; and not __fish_seen_subcommand_from inject eject delay partition clear status completions __complete help" -f -a "status" -d 'Show the netem settings in force on pods that carry the agent'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand help; and not __fish_seen_subcommand_from inject eject delay partition clear status completions __complete help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, powershell)'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand help; and not __fish_seen_subcommand_from inject eject delay partition clear status completions __complete help" -f -a "__complete" -d 'Answer kubectl\'s plugin completion: `kubectl_complete-netem ARGS... PARTIAL` runs this'
complete -c kubectl-netem -n "__fish_kubectl_netem_using_subcommand help; and not __fish_seen_subcommand_from inject eject delay partition clear status completions __complete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
