use super::*;

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_ne_bytes()).collect()
}

#[test]
fn replace_request_layout() {
    let options = [0xAAu8; 24];
    let msg = replace_root_netem(7, 3, 0x4e45_0000, &options);
    // header: len, type 36, flags REQUEST|ACK|CREATE|REPLACE, seq 7, port 0
    let len = 16 + 20 + 12 + 28;
    assert_eq!(msg.len(), len);
    assert_eq!(&msg[..4], &(len as u32).to_ne_bytes());
    assert_eq!(&msg[4..6], &36u16.to_ne_bytes());
    assert_eq!(&msg[6..8], &0x505u16.to_ne_bytes());
    assert_eq!(&msg[8..16], &words(&[7, 0])[..]);
    // tcmsg: family 0 + padding, ifindex 3, the handle, parent ROOT, info 0
    assert_eq!(
        &msg[16..36],
        &[
            &[0u8, 0, 0, 0][..],
            &words(&[3, 0x4e45_0000, 0xFFFF_FFFF, 0])
        ]
        .concat()[..]
    );
    // TCA_KIND "netem\0" padded, TCA_OPTIONS with the payload as is
    assert_eq!(
        &msg[36..40],
        &[&10u16.to_ne_bytes()[..], &1u16.to_ne_bytes()].concat()[..]
    );
    assert_eq!(&msg[40..48], b"netem\0\0\0");
    assert_eq!(
        &msg[48..52],
        &[&28u16.to_ne_bytes()[..], &2u16.to_ne_bytes()].concat()[..]
    );
    assert_eq!(&msg[52..], &options[..]);
}

#[test]
fn probe_and_delete_flags() {
    let probe = probe_netem(1, 2);
    assert_eq!(u16::from_ne_bytes([probe[6], probe[7]]), 0x705);
    assert_eq!(probe.len(), 16 + 20 + 12, "probe carries no TCA_OPTIONS");
    let del = delete_root(2, 2, 0x8001_0000, "netem");
    assert_eq!(u16::from_ne_bytes([del[4], del[5]]), RTM_DELQDISC);
    assert_eq!(u16::from_ne_bytes([del[6], del[7]]), 0x5);
    assert_eq!(&del[24..32], &words(&[0x8001_0000, 0xFFFF_FFFF])[..]);
    let get = get_root_qdisc(4, 2);
    assert_eq!(u16::from_ne_bytes([get[4], get[5]]), RTM_GETQDISC);
    assert_eq!(
        u16::from_ne_bytes([get[6], get[7]]),
        0xd,
        "a get, not a dump, with ack and echo"
    );
    assert_eq!(&get[20..32], &words(&[2, 0, 0xFFFF_FFFF])[..]);
    let dump = dump_qdiscs(3);
    assert_eq!(u16::from_ne_bytes([dump[6], dump[7]]), 0x301);
}

fn qdisc_payload(ifindex: u32, handle: u32, parent: u32, kind: &str, options: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8, 0, 0, 0];
    p.extend(words(&[ifindex, handle, parent, 0]));
    let mut name = kind.as_bytes().to_vec();
    name.push(0);
    nla::push(&mut p, TCA_KIND, &name);
    nla::push(&mut p, TCA_OPTIONS, options);
    p
}

#[test]
fn decodes_a_dump_datagram() {
    let q1 = qdisc_payload(2, 0x8001_0000, TC_H_ROOT, "netem", &[1, 2, 3, 4]);
    let q2 = qdisc_payload(1, 0, TC_H_ROOT, "noqueue", &[]);
    let mut datagram = encode(RTM_NEWQDISC, 2, 9, &q1);
    datagram.extend(encode(RTM_NEWQDISC, 2, 9, &q2));
    datagram.extend(encode(NLMSG_DONE, 2, 9, &[0, 0, 0, 0]));
    let msgs = decode(&datagram).unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[2].kind, NLMSG_DONE);
    let q = decode_qdisc(&msgs[0].payload).unwrap();
    assert_eq!(
        q,
        Qdisc {
            ifindex: 2,
            handle: 0x8001_0000,
            parent: TC_H_ROOT,
            kind: "netem".into(),
            options: Some(vec![1, 2, 3, 4]),
        }
    );
    assert_eq!(decode_qdisc(&msgs[1].payload).unwrap().kind, "noqueue");
    assert!(decode(&datagram[..datagram.len() - 2]).is_err());
}

#[test]
fn decodes_errors_with_extended_ack() {
    // errno -2, capped echo (header only), then NLMSGERR_ATTR_MSG.
    let mut p = (-2i32).to_ne_bytes().to_vec();
    p.extend(encode(RTM_NEWQDISC, 0x505, 4, &[]));
    nla::push(&mut p, 1, b"Specified qdisc kind is unknown\0");
    let msg = Message {
        kind: NLMSG_ERROR,
        flags: 0x300,
        seq: 4,
        payload: p,
    };
    assert_eq!(
        decode_error(&msg).unwrap(),
        (2, Some("Specified qdisc kind is unknown".into()))
    );
    let ack = Message {
        kind: NLMSG_ERROR,
        flags: 0x100,
        seq: 4,
        payload: [0u32.to_ne_bytes().to_vec(), encode(RTM_NEWQDISC, 0, 4, &[])].concat(),
    };
    assert_eq!(decode_error(&ack).unwrap(), (0, None));
}

fn route(dst_len: u8, table: u8, rtype: u8, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut p = vec![AF_INET, dst_len, 0, 0, table, 0, 0, rtype, 0, 0, 0, 0];
    for (k, v) in attrs {
        nla::push(&mut p, *k, v);
    }
    p
}

#[test]
fn finds_the_default_route_interface() {
    let oif = |i: u32| (RTA_OIF, i.to_ne_bytes().to_vec());
    let table = |t: u32| (RTA_TABLE, t.to_ne_bytes().to_vec());
    assert_eq!(
        default_route_oif(&route(0, 254, 1, &[table(254), oif(5)])),
        Some(5)
    );
    assert_eq!(
        default_route_oif(&route(24, 254, 1, &[table(254), oif(5)])),
        None
    );
    assert_eq!(
        default_route_oif(&route(0, 255, 1, &[table(255), oif(5)])),
        None
    );
    assert_eq!(
        default_route_oif(&route(0, 254, 6, &[table(254)])),
        None,
        "blackhole"
    );
    let nexthops = [8u32.to_ne_bytes(), 7u32.to_ne_bytes()].concat();
    assert_eq!(
        default_route_oif(&route(0, 254, 1, &[(RTA_MULTIPATH, nexthops)])),
        Some(7)
    );
}

#[test]
fn decodes_links() {
    let mut p = vec![0u8; 16];
    p[4..8].copy_from_slice(&4u32.to_ne_bytes());
    nla::push(&mut p, IFLA_IFNAME, b"eth0\0");
    assert_eq!(
        decode_link(&p),
        Some(Link {
            index: 4,
            name: "eth0".into()
        })
    );
    assert_eq!(decode_link(&p[..10]), None);
}
