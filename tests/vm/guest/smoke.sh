# Guest script (run by /init with bash): prove the VM kernel applies netem.
# Topology: netns "a" and "b" joined by a veth pair; ping a -> b, baseline vs netem delay 20ms.
set -euo pipefail
ip netns add a
ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 10.9.0.1/24 dev va
ip -n b addr add 10.9.0.2/24 dev vb
ip -n a link set va up
ip -n b link set vb up
rtt() { # average RTT in ms of N pings a -> b
    ip netns exec a ping -q -c "$1" -i 0.2 -W 2 10.9.0.2 | awk -F/ '/^rtt/ { print $5 }'
}
rtt 2 >/dev/null
base=$(rtt 10)
ip netns exec b tc qdisc replace dev vb root netem delay 20ms
delayed=$(rtt 10)
ip netns exec b tc -j qdisc show dev vb
added=$(echo "$delayed - $base" | bc)
echo "baseline ${base} ms, with netem delay 20ms ${delayed} ms, added ${added} ms"
if [ "$(echo "$added > 18 && $added < 25" | bc)" = 1 ]; then
    echo "PASS netem delay 20ms adds ${added} ms"
else
    echo "FAIL netem delay 20ms adds ${added} ms (want 18..25)"
    exit 1
fi
