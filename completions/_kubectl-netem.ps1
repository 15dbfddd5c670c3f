
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-netem' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-netem'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kubectl-netem' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Kubeconfig user to use')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each request to the API server, like kubectl''s (e.g. 30s, 1m, or a number of seconds; 0 = none)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig''s)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not verify the API server''s certificate (insecure; drops the kubeconfig''s CA)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server (replaces the kubeconfig user''s credentials)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'User to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable); needs --as, as in kubectl')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('inject', 'inject', [CompletionResultType]::ParameterValue, 'Add the netem agent container to a TidbCluster''s components (or a StatefulSet), or to a TiDB Operator v2 cluster''s groups')
            [CompletionResult]::new('eject', 'eject', [CompletionResultType]::ParameterValue, 'Remove the netem agent container again, leaving the rest of the spec as it was')
            [CompletionResult]::new('delay', 'delay', [CompletionResultType]::ParameterValue, 'Set network impairment (delay, loss, ...) on pods that carry the agent')
            [CompletionResult]::new('partition', 'partition', [CompletionResultType]::ParameterValue, 'Cut pods off from others: 100 % loss to and from them (a rule, both directions)')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Remove the network impairment from pods that carry the agent')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the netem settings in force on pods that carry the agent')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell)')
            [CompletionResult]::new('__complete', '__complete', [CompletionResultType]::ParameterValue, 'Answer kubectl''s plugin completion: `kubectl_complete-netem ARGS... PARTIAL` runs this')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netem;inject' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Write this manifest (a file, or - for standard input) to standard output with the change made to every TidbCluster, StatefulSet and v2 group in it, instead of changing the cluster: `kubectl netem inject -f basic.yaml | kubectl apply -f -` creates pods that have the agent from the first one')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Write this manifest (a file, or - for standard input) to standard output with the change made to every TidbCluster, StatefulSet and v2 group in it, instead of changing the cluster: `kubectl netem inject -f basic.yaml | kubectl apply -f -` creates pods that have the agent from the first one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'With --ephemeral: only pods matching this label selector')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'With --ephemeral: only pods matching this label selector')
            [CompletionResult]::new('--component', '--component', [CompletionResultType]::ParameterName, 'Only these components (comma separated), e.g. pd,tikv: TidbCluster components, or the components of a v2 cluster''s groups')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long --wait waits')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Agent image; the nodes must be able to pull it (build it from agent/Containerfile, push or load it, see "The agent image" in the README)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Kubeconfig user to use')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each request to the API server, like kubectl''s (e.g. 30s, 1m, or a number of seconds; 0 = none)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig''s)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not verify the API server''s certificate (insecure; drops the kubeconfig''s CA)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server (replaces the kubeconfig user''s credentials)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'User to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable); needs --as, as in kubectl')
            [CompletionResult]::new('--ephemeral', '--ephemeral', [CompletionResultType]::ParameterName, 'Add the agent to the running pods as an ephemeral container (Kubernetes 1.25+): no pod restarts and no change to the TidbCluster or StatefulSet (eject: stop it). TARGET may then also be a pod (NAME or pod/NAME); --component and -l narrow group targets')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation before pods are restarted (or, with --wait after eject, before a pod stuck on the old spec is deleted)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation before pods are restarted (or, with --wait after eject, before a pod stuck on the old spec is deleted)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the exact patch and change nothing (server-side dry run where supported)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until every targeted pod runs (inject) or no longer runs (eject) the agent; a pod that cannot become ready for 20s stops the wait, naming why')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Patch a StatefulSet even though an operator manages it (it may undo the change)')
            [CompletionResult]::new('--expose', '--expose', [CompletionResultType]::ParameterName, 'Also make the agent listen on the pod IP, port 2332, and declare the port, so `curl POD_IP:2332/latency/20ms` works from inside the cluster. Anyone who can reach the pod network can then change the pod''s network; the default is loopback only, reached through the API server''s port-forward (RBAC on pods/portforward)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netem;eject' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Write this manifest (a file, or - for standard input) to standard output with the change made to every TidbCluster, StatefulSet and v2 group in it, instead of changing the cluster: `kubectl netem inject -f basic.yaml | kubectl apply -f -` creates pods that have the agent from the first one')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Write this manifest (a file, or - for standard input) to standard output with the change made to every TidbCluster, StatefulSet and v2 group in it, instead of changing the cluster: `kubectl netem inject -f basic.yaml | kubectl apply -f -` creates pods that have the agent from the first one')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'With --ephemeral: only pods matching this label selector')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'With --ephemeral: only pods matching this label selector')
            [CompletionResult]::new('--component', '--component', [CompletionResultType]::ParameterName, 'Only these components (comma separated), e.g. pd,tikv: TidbCluster components, or the components of a v2 cluster''s groups')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long --wait waits')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Kubeconfig user to use')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each request to the API server, like kubectl''s (e.g. 30s, 1m, or a number of seconds; 0 = none)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig''s)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not verify the API server''s certificate (insecure; drops the kubeconfig''s CA)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server (replaces the kubeconfig user''s credentials)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'User to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable); needs --as, as in kubectl')
            [CompletionResult]::new('--ephemeral', '--ephemeral', [CompletionResultType]::ParameterName, 'Add the agent to the running pods as an ephemeral container (Kubernetes 1.25+): no pod restarts and no change to the TidbCluster or StatefulSet (eject: stop it). TARGET may then also be a pod (NAME or pod/NAME); --component and -l narrow group targets')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation before pods are restarted (or, with --wait after eject, before a pod stuck on the old spec is deleted)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation before pods are restarted (or, with --wait after eject, before a pod stuck on the old spec is deleted)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the exact patch and change nothing (server-side dry run where supported)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until every targeted pod runs (inject) or no longer runs (eject) the agent; a pod that cannot become ready for 20s stops the wait, naming why')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Patch a StatefulSet even though an operator manages it (it may undo the change)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netem;delay' {
            [CompletionResult]::new('--jitter', '--jitter', [CompletionResultType]::ParameterName, 'Random variation around the delay')
            [CompletionResult]::new('--correlation', '--correlation', [CompletionResultType]::ParameterName, 'How much each packet''s jitter depends on the previous one (percent)')
            [CompletionResult]::new('--distribution', '--distribution', [CompletionResultType]::ParameterName, 'Shape of the jitter')
            [CompletionResult]::new('--loss', '--loss', [CompletionResultType]::ParameterName, 'Drop this share of packets (e.g. 1%, 0.5)')
            [CompletionResult]::new('--duplicate', '--duplicate', [CompletionResultType]::ParameterName, 'Duplicate this share of packets')
            [CompletionResult]::new('--corrupt', '--corrupt', [CompletionResultType]::ParameterName, 'Corrupt one bit in this share of packets')
            [CompletionResult]::new('--reorder', '--reorder', [CompletionResultType]::ParameterName, 'Send this share of packets at once, reordering them (needs a delay)')
            [CompletionResult]::new('--gap', '--gap', [CompletionResultType]::ParameterName, 'With --reorder: reorder every GAP-th packet')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Limit the bandwidth (tc spelling: 100kbit, 10mbit, 1gbit, 125kbps)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Queue limit in packets')
            [CompletionResult]::new('--for', '--for', [CompletionResultType]::ParameterName, 'Let the agent clear the setting by itself after this long (e.g. 10m)')
            [CompletionResult]::new('--component', '--component', [CompletionResultType]::ParameterName, 'Narrow tidb-cluster/, cluster/, group and statefulset/ targets (and status''s default) to these components (comma separated), e.g. pd,tikv')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'How many pods to talk to at once')
            [CompletionResult]::new('--pod-timeout', '--pod-timeout', [CompletionResultType]::ParameterName, 'Time limit for each pod (port-forward and the agent''s answer)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Only traffic to these (repeat or comma separate): pods (NAME, pod/NAME), tidb-cluster/NAME, statefulset/NAME. Their IPs are resolved now')
            [CompletionResult]::new('--to-component', '--to-component', [CompletionResultType]::ParameterName, 'Only traffic to these components (comma separated): of the --to groups, or without --to, of the sources'' TidbCluster')
            [CompletionResult]::new('--to-selector', '--to-selector', [CompletionResultType]::ParameterName, 'Only traffic to pods matching this label selector (narrows the --to groups, or without --to, any pod of the namespace)')
            [CompletionResult]::new('--to-cidr', '--to-cidr', [CompletionResultType]::ParameterName, 'Only traffic to these networks, IPv4 or IPv6 (10.0.0.0/16, fd00::/64, 10.0.0.7)')
            [CompletionResult]::new('--to-port', '--to-port', [CompletionResultType]::ParameterName, 'Only traffic to these ports (TCP and UDP), alone or with any of the above')
            [CompletionResult]::new('--direction', '--direction', [CompletionResultType]::ParameterName, 'With destinations: impair what the sources send them (to), what they send the sources (from: set on their agents), or both')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Kubeconfig user to use')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each request to the API server, like kubectl''s (e.g. 30s, 1m, or a number of seconds; 0 = none)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig''s)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not verify the API server''s certificate (insecure; drops the kubeconfig''s CA)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server (replaces the kubeconfig user''s credentials)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'User to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable); needs --as, as in kubectl')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netem;partition' {
            [CompletionResult]::new('--for', '--for', [CompletionResultType]::ParameterName, 'Let the agents lift the partition by themselves after this long (e.g. 5m)')
            [CompletionResult]::new('--component', '--component', [CompletionResultType]::ParameterName, 'Narrow tidb-cluster/, cluster/, group and statefulset/ targets (and status''s default) to these components (comma separated), e.g. pd,tikv')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'How many pods to talk to at once')
            [CompletionResult]::new('--pod-timeout', '--pod-timeout', [CompletionResultType]::ParameterName, 'Time limit for each pod (port-forward and the agent''s answer)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Cut off from these (repeat or comma separate): pods (NAME, pod/NAME), tidb-cluster/NAME, statefulset/NAME')
            [CompletionResult]::new('--from-component', '--from-component', [CompletionResultType]::ParameterName, 'From these components (comma separated): of the --from groups, or without --from, of the sources'' TidbCluster')
            [CompletionResult]::new('--from-selector', '--from-selector', [CompletionResultType]::ParameterName, 'From pods matching this label selector (narrows the --from groups, or without --from, any pod of the namespace)')
            [CompletionResult]::new('--from-cidr', '--from-cidr', [CompletionResultType]::ParameterName, 'From these networks (with --one-way only: addresses carry no agent to cut the way back)')
            [CompletionResult]::new('--from-port', '--from-port', [CompletionResultType]::ParameterName, 'Only these ports of theirs (TCP and UDP; with --one-way only)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Kubeconfig user to use')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each request to the API server, like kubectl''s (e.g. 30s, 1m, or a number of seconds; 0 = none)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig''s)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not verify the API server''s certificate (insecure; drops the kubeconfig''s CA)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server (replaces the kubeconfig user''s credentials)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'User to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable); needs --as, as in kubectl')
            [CompletionResult]::new('--one-way', '--one-way', [CompletionResultType]::ParameterName, 'Cut only what the targets send (their agents alone); the way back stays open')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netem;clear' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Only traffic to these (repeat or comma separate): pods (NAME, pod/NAME), tidb-cluster/NAME, statefulset/NAME. Their IPs are resolved now')
            [CompletionResult]::new('--to-component', '--to-component', [CompletionResultType]::ParameterName, 'Only traffic to these components (comma separated): of the --to groups, or without --to, of the sources'' TidbCluster')
            [CompletionResult]::new('--to-selector', '--to-selector', [CompletionResultType]::ParameterName, 'Only traffic to pods matching this label selector (narrows the --to groups, or without --to, any pod of the namespace)')
            [CompletionResult]::new('--to-cidr', '--to-cidr', [CompletionResultType]::ParameterName, 'Only traffic to these networks, IPv4 or IPv6 (10.0.0.0/16, fd00::/64, 10.0.0.7)')
            [CompletionResult]::new('--to-port', '--to-port', [CompletionResultType]::ParameterName, 'Only traffic to these ports (TCP and UDP), alone or with any of the above')
            [CompletionResult]::new('--direction', '--direction', [CompletionResultType]::ParameterName, 'With destinations: remove the sources'' rule (to), the destinations'' reverse rule (from), or both; by default both, the reverse where the destinations'' agents have it')
            [CompletionResult]::new('--component', '--component', [CompletionResultType]::ParameterName, 'Narrow tidb-cluster/, cluster/, group and statefulset/ targets (and status''s default) to these components (comma separated), e.g. pd,tikv')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'How many pods to talk to at once')
            [CompletionResult]::new('--pod-timeout', '--pod-timeout', [CompletionResultType]::ParameterName, 'Time limit for each pod (port-forward and the agent''s answer)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Kubeconfig user to use')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each request to the API server, like kubectl''s (e.g. 30s, 1m, or a number of seconds; 0 = none)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig''s)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not verify the API server''s certificate (insecure; drops the kubeconfig''s CA)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server (replaces the kubeconfig user''s credentials)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'User to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable); needs --as, as in kubectl')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every pod with the agent in the namespace')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Also remove a root qdisc that is not netem (the agent leaves those alone by default)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netem;status' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--component', '--component', [CompletionResultType]::ParameterName, 'Narrow tidb-cluster/, cluster/, group and statefulset/ targets (and status''s default) to these components (comma separated), e.g. pd,tikv')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a)')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'How many pods to talk to at once')
            [CompletionResult]::new('--pod-timeout', '--pod-timeout', [CompletionResultType]::ParameterName, 'Time limit for each pod (port-forward and the agent''s answer)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Kubeconfig user to use')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each request to the API server, like kubectl''s (e.g. 30s, 1m, or a number of seconds; 0 = none)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig''s)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not verify the API server''s certificate (insecure; drops the kubeconfig''s CA)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server (replaces the kubeconfig user''s credentials)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'User to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable); needs --as, as in kubectl')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Look in every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Look in every namespace')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netem;completions' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Kubeconfig user to use')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each request to the API server, like kubectl''s (e.g. 30s, 1m, or a number of seconds; 0 = none)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig''s)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not verify the API server''s certificate (insecure; drops the kubeconfig''s CA)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server (replaces the kubeconfig user''s credentials)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'User to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable); needs --as, as in kubectl')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netem;__complete' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace to use (default: the context''s namespace, else "default")')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Kubeconfig context to use')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Kubeconfig cluster to use')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Kubeconfig user to use')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each request to the API server, like kubectl''s (e.g. 30s, 1m, or a number of seconds; 0 = none)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server''s address (overrides the kubeconfig cluster''s server)')
            [CompletionResult]::new('--certificate-authority', '--certificate-authority', [CompletionResultType]::ParameterName, 'A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig''s)')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Do not verify the API server''s certificate (insecure; drops the kubeconfig''s CA)')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token for the API server (replaces the kubeconfig user''s credentials)')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'User to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate (repeatable); needs --as, as in kubectl')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kubectl-netem;help' {
            [CompletionResult]::new('inject', 'inject', [CompletionResultType]::ParameterValue, 'Add the netem agent container to a TidbCluster''s components (or a StatefulSet), or to a TiDB Operator v2 cluster''s groups')
            [CompletionResult]::new('eject', 'eject', [CompletionResultType]::ParameterValue, 'Remove the netem agent container again, leaving the rest of the spec as it was')
            [CompletionResult]::new('delay', 'delay', [CompletionResultType]::ParameterValue, 'Set network impairment (delay, loss, ...) on pods that carry the agent')
            [CompletionResult]::new('partition', 'partition', [CompletionResultType]::ParameterValue, 'Cut pods off from others: 100 % loss to and from them (a rule, both directions)')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Remove the network impairment from pods that carry the agent')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the netem settings in force on pods that carry the agent')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell)')
            [CompletionResult]::new('__complete', '__complete', [CompletionResultType]::ParameterValue, 'Answer kubectl''s plugin completion: `kubectl_complete-netem ARGS... PARTIAL` runs this')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-netem;help;inject' {
            break
        }
        'kubectl-netem;help;eject' {
            break
        }
        'kubectl-netem;help;delay' {
            break
        }
        'kubectl-netem;help;partition' {
            break
        }
        'kubectl-netem;help;clear' {
            break
        }
        'kubectl-netem;help;status' {
            break
        }
        'kubectl-netem;help;completions' {
            break
        }
        'kubectl-netem;help;__complete' {
            break
        }
        'kubectl-netem;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
