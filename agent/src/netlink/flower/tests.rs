use super::*;

/// A request `tc` sent, from agent/testdata (hex, header with seq and pid 0).
fn fixture(name: &str) -> Vec<u8> {
    let text = match name {
        "prio-root" => include_str!("../../../testdata/prio-root.hex"),
        "netem-leaf" => include_str!("../../../testdata/netem-leaf.hex"),
        "qdisc-del-leaf" => include_str!("../../../testdata/qdisc-del-leaf.hex"),
        "flower-v4" => include_str!("../../../testdata/flower-v4.hex"),
        "flower-v4-tcp" => include_str!("../../../testdata/flower-v4-tcp.hex"),
        "flower-v6-tcp" => include_str!("../../../testdata/flower-v6-tcp.hex"),
        "flower-v6-udp" => include_str!("../../../testdata/flower-v6-udp.hex"),
        "filter-del" => include_str!("../../../testdata/filter-del.hex"),
        "filter-dump" => include_str!("../../../testdata/filter-dump.hex"),
        other => panic!("no fixture {other}"),
    };
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Compares with `tc`'s bytes, ignoring nlmsg_seq and nlmsg_pid (bytes 8..16).
fn same_as_tc(ours: &[u8], name: &str) {
    let tc = fixture(name);
    let strip = |b: &[u8]| [&b[..8], &b[16..]].concat();
    assert_eq!(hex(&strip(ours)), hex(&strip(&tc)), "{name}");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

const IF: u32 = 3;
const OWN: u32 = 0x4e45_0000;

fn m(v6: bool, cidr: Option<&str>, port: Option<(L4, u16)>) -> Match {
    Match {
        v6,
        cidr: cidr.map(|c| c.parse().unwrap()),
        port,
    }
}

#[test]
fn prio_root_is_tcs() {
    same_as_tc(&replace_root_prio(9, IF, OWN, 15), "prio-root");
    let opts = prio_options(15);
    assert_eq!(decode_prio_options(&opts), Some((15, true)));
}

#[test]
fn leaf_qdisc_is_tcs() {
    // tc sends only the 24-byte qopt for `netem delay 20ms`; the agent sends every netem
    // attribute (tested in netem/tests.rs), so the message is compared with tc's options.
    let tc = fixture("netem-leaf");
    let options = &tc[52..];
    same_as_tc(
        &replace_qdisc(1, IF, 0x4e53_0000, OWN | 3, "netem", options),
        "netem-leaf",
    );
    // Deleting: the same up to the kind (tc also sends the options, which the kernel
    // ignores on delete).
    let ours = delete_qdisc(1, IF, 0x4e53_0000, OWN | 3, "netem");
    let tc = fixture("qdisc-del-leaf");
    assert_eq!(hex(&ours[4..8]), hex(&tc[4..8]), "type and flags");
    assert_eq!(hex(&ours[16..]), hex(&tc[16..ours.len()]));
}

#[test]
fn flower_ipv4_is_tcs() {
    let v4 = m(false, Some("10.20.0.0/24"), None);
    same_as_tc(&add_flower(1, IF, OWN, 6, 1, &v4, OWN | 3), "flower-v4");
    let v4 = m(false, Some("10.20.0.7/32"), Some((L4::Tcp, 20160)));
    same_as_tc(&add_flower(1, IF, OWN, 6, 2, &v4, OWN | 3), "flower-v4-tcp");
}

#[test]
fn flower_ipv6_is_tcs() {
    let v6 = m(true, Some("fd00::/64"), Some((L4::Tcp, 20160)));
    same_as_tc(&add_flower(1, IF, OWN, 7, 3, &v6, OWN | 3), "flower-v6-tcp");
    let any = m(true, None, Some((L4::Udp, 53)));
    same_as_tc(
        &add_flower(1, IF, OWN, 7, 4, &any, OWN | 3),
        "flower-v6-udp",
    );
}

#[test]
fn filter_delete_and_dump_are_tcs() {
    same_as_tc(&delete_flower(1, IF, OWN, 7, ETH_P_IPV6, 4), "filter-del");
    same_as_tc(&dump_filters(1, IF, OWN), "filter-dump");
}

/// A request's body read back as a dump entry (the kernel dumps the same keys, plus masks
/// and flags).
fn as_dumped(request: &[u8]) -> Filter {
    decode_filter(&request[16..]).unwrap()
}

#[test]
fn filters_decode_to_their_match() {
    for (name, want, pref, handle) in [
        ("flower-v4", m(false, Some("10.20.0.0/24"), None), 6, 1),
        (
            "flower-v4-tcp",
            m(false, Some("10.20.0.7/32"), Some((L4::Tcp, 20160))),
            6,
            2,
        ),
        (
            "flower-v6-tcp",
            m(true, Some("fd00::/64"), Some((L4::Tcp, 20160))),
            7,
            3,
        ),
        ("flower-v6-udp", m(true, None, Some((L4::Udp, 53))), 7, 4),
    ] {
        let f = as_dumped(&fixture(name));
        assert_eq!(f.matches, Some(want), "{name}");
        assert_eq!((f.pref, f.handle, f.ifindex), (pref, handle, IF), "{name}");
        assert_eq!(f.classid, Some(OWN | 3));
        assert_eq!(f.parent, OWN);
        assert_eq!(f.kind, "flower");
        assert_eq!(f.eth_type, want.eth_type());
    }
}

#[test]
fn filters_with_more_than_a_match_holds_are_not_read_as_one() {
    let req = add_flower(
        1,
        IF,
        OWN,
        6,
        1,
        &m(false, Some("10.0.0.0/8"), None),
        OWN | 2,
    );
    // A port mask of 0xff00 (a range of ports) instead of the full port.
    let mut body = req[16..].to_vec();
    let mut extra = Vec::new();
    nla::push(&mut extra, TCA_FLOWER_KEY_TCP_DST, &80u16.to_be_bytes());
    nla::push(&mut extra, TCA_FLOWER_KEY_TCP_DST_MASK, &[0xff, 0]);
    nla::push(&mut extra, TCA_FLOWER_KEY_IP_PROTO, &[IPPROTO_TCP]);
    let opts_at = 20 + 12; // tcmsg + TCA_KIND "flower\0"
    let len = u16::from_ne_bytes([body[opts_at], body[opts_at + 1]]) + extra.len() as u16;
    body[opts_at..opts_at + 2].copy_from_slice(&len.to_ne_bytes());
    body.extend(extra);
    assert_eq!(decode_filter(&body).unwrap().matches, None);
    // An unknown key (ip_tos 73) that is set.
    let mut body = req[16..].to_vec();
    let mut extra = Vec::new();
    nla::push(&mut extra, 73, &[0x10]);
    let len = u16::from_ne_bytes([body[opts_at], body[opts_at + 1]]) + extra.len() as u16;
    body[opts_at..opts_at + 2].copy_from_slice(&len.to_ne_bytes());
    body.extend(extra);
    assert_eq!(decode_filter(&body).unwrap().matches, None);
    // A mask with holes.
    assert_eq!(prefix_len(&[0xff, 0x00, 0xff, 0x00]), None);
    assert_eq!(prefix_len(&[0xff, 0xf0, 0, 0]), Some(12));
    assert_eq!(prefix_len(&[0; 16]), Some(0));
}

#[test]
fn short_or_odd_dumps_are_errors_not_panics() {
    assert!(decode_filter(&[0; 19]).is_err());
    let f = decode_filter(&[0; 20]).unwrap();
    assert_eq!(f.matches, None);
    assert_eq!(decode_prio_options(&[1, 2, 3]), None);
}
