//! Property tests: no request (method, path, query, body) makes the router panic, and no
//! bytes from the kernel make the netlink or netem decoding panic. Each property runs a
//! fixed number of generated cases (a few seconds in all).

use netem_agent::http::{Action, route};
use netem_agent::netlink::{flower, msg};
use netem_agent::rules::{self, Seen};
use netem_agent::{netem, nla};
use netem_api::spec::NetemSpec;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["GET", "PUT", "DELETE", "POST", "HEAD", "get", ""])
            .prop_map(str::to_string),
        any::<String>(),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "/healthz",
            "/v1/info",
            "/v1/netem",
            "/latency/",
            "/",
            "/v1/rules",
            "/v1/rules/"
        ])
        .prop_map(str::to_string),
        "/v1/rules/[a-z0-9.%/\\-]{0,70}",
        "/latency/[0-9.%A-Fa-fµsmunh+\\-]{0,16}",
        "/latency/(%[0-9A-Fa-f+\\-]{0,2}){0,6}",
        any::<String>(),
    ]
}

fn query() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "(force(=(true|false|1|0|maybe|))?&?){0,3}",
        any::<String>(),
    ])
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..128),
        "\\{(\"(delay|jitter|loss|rate|gap|limit|ttl|reorder)\":(\"[0-9.]{1,6}(ms|%|mbit|ns)?\"|[0-9]{1,4}|null),?){0,4}\\}"
            .prop_map(String::into_bytes),
        "\\{(\"to\":\\{(\"cidrs\":\\[(\"(10\\.0\\.0\\.[0-9]{1,3}|fd00::[0-9a-f]{0,4})(/[0-9]{1,3})?\",?){0,3}\\],?)?(\"ports\":\\[([0-9]{1,6},?){0,3}\\])?\\},?)?(\"netem\":\\{(\"(delay|loss|ttl)\":\"[0-9.]{1,4}(ms|%|s)?\",?){0,2}\\},?)?(\"about\":[0-9a-z\"{}:]{0,12})?\\}"
            .prop_map(String::into_bytes),
    ]
}

/// A netlink attribute stream built from (type, payload) pairs, with its lengths sometimes
/// corrupted, or plain arbitrary bytes.
fn attributes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (
            prop::collection::vec((0u16..16, prop::collection::vec(any::<u8>(), 0..48)), 0..8),
            any::<Option<(usize, u8)>>(),
        )
            .prop_map(|(attrs, corrupt)| {
                let mut buf = Vec::new();
                for (kind, payload) in attrs {
                    nla::push(&mut buf, kind, &payload);
                }
                if let Some((at, byte)) = corrupt
                    && !buf.is_empty()
                {
                    let at = at % buf.len();
                    buf[at] = byte;
                }
                buf
            }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn routing_never_panics(m in method(), p in path(), q in query(), b in body()) {
        match route(&m, &p, q.as_deref(), &b) {
            Ok(Action::Set { spec, .. }) => {
                // Whatever is routed to a set is valid and impairs something.
                prop_assert!(spec.validate().is_ok());
                prop_assert!(!spec.is_noop() || p == "/v1/netem" || p.starts_with("/latency/"));
            }
            Ok(Action::PutRule { id, spec, .. }) => {
                prop_assert!(netem_api::rules::valid_rule_id(&id));
                prop_assert!(spec.validate().is_ok());
            }
            Ok(_) => {}
            Err((status, e)) => {
                prop_assert!([400, 404, 405].contains(&status));
                prop_assert!(!e.error.is_empty());
            }
        }
    }

    #[test]
    fn netem_options_decoding_never_panics(head in prop::collection::vec(any::<u8>(), 0..40), attrs in attributes()) {
        let mut payload = head;
        payload.extend_from_slice(&attrs);
        if let Ok(decoded) = netem::decode_options(&payload) {
            // What was decoded can be shown and set again.
            let _ = serde_json::to_string(&decoded.spec);
            let _ = netem::kernel_view(&decoded.spec);
        }
    }

    #[test]
    fn netlink_decoding_never_panics(bytes in attributes(), flags in any::<u16>(), prefix in prop::collection::vec(any::<u8>(), 0..24)) {
        let _ = nla::parse(&bytes);
        let _ = nla::u32_at(&bytes, bytes.len().saturating_sub(2));
        let _ = nla::u64_at(&bytes, usize::MAX);
        let mut payload = prefix;
        payload.extend_from_slice(&bytes);
        let _ = msg::decode(&payload);
        let _ = msg::decode_error(&msg::Message { kind: msg::NLMSG_ERROR, flags, seq: 1, payload: payload.clone() });
        let _ = msg::decode_qdisc(&payload);
        let _ = msg::default_route_oif(&payload);
        let _ = msg::decode_link(&payload);
        if let Ok(f) = flower::decode_filter(&payload) {
            // A filter read back from anything turns into a tree and a plan without panic.
            let root = msg::Qdisc { ifindex: f.ifindex, handle: rules::OWN, parent: msg::TC_H_ROOT, kind: "prio".into(), options: None };
            let seen = Seen { root: Some(root), filters: vec![f], ..Seen::default() };
            let _ = rules::plan(&seen, &seen.tree(), &Default::default());
        }
        let _ = flower::decode_prio_options(&payload);
    }

    #[test]
    fn framed_messages_decode_without_panic(kind in any::<u16>(), flags in any::<u16>(), body in attributes(), extra in prop::collection::vec(any::<u8>(), 0..20)) {
        let mut datagram = msg::encode(kind, flags, 7, &body);
        datagram.extend_from_slice(&extra);
        if let Ok(msgs) = msg::decode(&datagram) {
            for m in msgs {
                let _ = msg::decode_error(&m);
                let _ = msg::decode_qdisc(&m.payload);
            }
        }
    }

    #[test]
    fn any_valid_spec_encodes_and_reads_back(body in "\\{\"delay\":\"[1-9][0-9]{0,3}(ns|us|ms|s)\"(,\"jitter\":\"[1-9][0-9]{0,2}us\")?(,\"loss\":\"[0-9]{1,2}\\.[0-9]{0,6}%\")?(,\"rate\":\"[1-9][0-9]{0,5}(kbit|mbit|gbit|tbit)\")?(,\"limit\":[1-9][0-9]{0,5})?\\}") {
        let Ok(spec) = NetemSpec::from_json(body.as_bytes()) else { return Ok(()) };
        let decoded = netem::decode_options(&netem::encode_options(&spec)).unwrap();
        prop_assert_eq!(decoded.spec.delay, spec.delay);
        prop_assert_eq!(decoded.spec.rate, spec.rate);
        prop_assert_eq!(decoded.spec.limit, Some(spec.limit_or_default()));
        prop_assert_eq!(decoded.spec.loss.is_some(), spec.loss.is_some_and(|p| p.value() > 0.0));
    }

    #[test]
    fn any_match_encodes_and_reads_back(v6 in any::<bool>(), addr in any::<u128>(), prefix in 0u8..=128, port in prop::option::of((any::<bool>(), 1u16..)), any_addr in any::<bool>(), band in 2u32..=rules::BANDS, handle in 1u32..) {
        use flower::{L4, Match};
        let cidr = if any_addr {
            None
        } else if v6 {
            let p = u32::from(prefix);
            let mask = u128::MAX.checked_shl(128 - p).unwrap_or(0);
            Some(format!("{}/{p}", std::net::Ipv6Addr::from(addr & mask)).parse().unwrap())
        } else {
            let p = u32::from(prefix % 33);
            let mask = u32::MAX.checked_shl(32 - p).unwrap_or(0);
            Some(format!("{}/{p}", std::net::Ipv4Addr::from(addr as u32 & mask)).parse().unwrap())
        };
        let m = Match { v6, cidr, port: port.map(|(tcp, p)| (if tcp { L4::Tcp } else { L4::Udp }, p)) };
        let req = flower::add_flower(1, 2, rules::OWN, rules::pref(band, v6), handle, &m, rules::classid(band));
        let f = flower::decode_filter(&req[16..]).unwrap();
        prop_assert_eq!(f.matches, Some(m));
        prop_assert_eq!(f.classid, Some(rules::classid(band)));
        prop_assert_eq!(rules::band_of_pref(f.pref), band);
    }
}
