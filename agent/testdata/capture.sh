#!/usr/bin/env bash
# Regenerates the iproute2 fixtures in this directory: the exact netlink requests `tc` sends
# for the agent's rule tree (a prio root, a leaf netem, flower filters for IPv4/IPv6/ports,
# filter deletion), captured with strace in a throwaway network namespace. The kernel may
# refuse a request (no sch_prio/cls_flower on the host): the bytes are sent all the same,
# and only the bytes matter. Needs root, strace and iproute2 (the fixtures came from
# iproute2 6.1). The unit tests in agent/src/netlink/flower/tests.rs compare the agent's
# messages with these, ignoring nlmsg_seq and nlmsg_pid. CI only reads the .hex files.
set -euo pipefail
cd "$(dirname "$0")"
ns=netem-capture-$$
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link add d0 type veth peer name d1
ip -n "$ns" link set d0 up
# le: the header fields printed big-endian (printf) as little-endian bytes.
le() { sed -E 's/^(..)(..)(..)(..)(..)(..)(..)(..)/\4\3\2\1\6\5\8\7/'; }
# capture NAME TC-ARGS...: the first sendmsg's bytes (hex, one line) into NAME.hex
capture() {
    local name=$1
    shift
    strace -f -X raw -xx -s 65535 -e trace=sendmsg -o "/tmp/$ns.trace" \
        ip netns exec "$ns" tc "$@" >/dev/null 2>&1 || true
    # The request: the last sendmsg (tc's first ones look up the device). strace -X raw
    # prints the header as numbers (nlmsg_len, type, flags, seq, pid) and the rest as \\x
    # escapes; the header is rebuilt little-endian with seq and pid 0, so a fixture is the
    # whole message as the kernel reads it, one hex line.
    grep 'sendmsg(' "/tmp/$ns.trace" | tail -1 | sed -E 's/.*nlmsg_len=([0-9]+), nlmsg_type=(0x[0-9a-f]+|[0-9]+), nlmsg_flags=(0x[0-9a-f]+|[0-9]+), nlmsg_seq=[0-9]+, nlmsg_pid=[0-9]+\}, "([^"]*)".*/\1 \2 \3 \4/' |
        while read -r len type flags body; do
            printf '%08x%04x%04x%016x' "$len" "$type" "$flags" 0 | le
            echo "${body//\\x/}"
        done | tr -d '\n' >"$name.hex"
    echo >>"$name.hex"
    rm -f "/tmp/$ns.trace"
    echo "$name: $(($(wc -c <"$name.hex") / 2)) bytes: tc $*"
}
capture prio-root qdisc replace dev d0 root handle 4e45: prio bands 15 priomap 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
capture netem-leaf qdisc replace dev d0 parent 4e45:3 handle 4e53: netem delay 20ms
capture flower-v4 filter add dev d0 parent 4e45: protocol ip prio 6 handle 1 flower dst_ip 10.20.0.0/24 classid 4e45:3
capture flower-v4-tcp filter add dev d0 parent 4e45: protocol ip prio 6 handle 2 flower dst_ip 10.20.0.7/32 ip_proto tcp dst_port 20160 classid 4e45:3
capture flower-v6-tcp filter add dev d0 parent 4e45: protocol ipv6 prio 7 handle 3 flower dst_ip fd00::/64 ip_proto tcp dst_port 20160 classid 4e45:3
capture flower-v6-udp filter add dev d0 parent 4e45: protocol ipv6 prio 7 handle 4 flower ip_proto udp dst_port 53 classid 4e45:3
capture filter-del filter del dev d0 parent 4e45: protocol ipv6 prio 7 handle 4 flower
capture filter-dump filter show dev d0 parent 4e45:
capture qdisc-del-leaf qdisc del dev d0 parent 4e45:3 handle 4e53: netem
