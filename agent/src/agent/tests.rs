use super::*;

#[test]
fn after_shutdown_nothing_more_is_set() {
    let mut agent = Agent::new(Config {
        interface: Some("netem-agent-test-no-such-if0".into()),
        state_file: None,
        keep_on_exit: false,
    });
    agent.shutdown("SIGTERM");
    let spec = NetemSpec::delay(Duration::from_millis(20));
    let e = agent.set(spec, false).unwrap_err();
    assert_eq!(e.status(), 500);
    assert!(e.to_string().contains("shutting down"), "{e}");
    // Bad input is still answered as bad input.
    let bad = NetemSpec {
        jitter: Some(Duration::from_millis(5)),
        ..NetemSpec::default()
    };
    assert_eq!(agent.set(bad, false).unwrap_err().status(), 400);
}

fn qdisc(kind: &str, handle: u32) -> Qdisc {
    Qdisc {
        ifindex: 2,
        handle,
        parent: crate::netlink::TC_H_ROOT,
        kind: kind.into(),
        options: None,
    }
}

#[test]
fn only_a_netem_with_the_own_handle_is_own() {
    assert_eq!(handle_text(OWN_HANDLE), "4e45:");
    assert!(is_own(&qdisc("netem", OWN_HANDLE)));
    // Made by tc (kernel-numbered), another kind with the handle, or the default.
    assert!(!is_own(&qdisc("netem", 0x8001_0000)));
    assert!(!is_own(&qdisc("tbf", OWN_HANDLE)));
    assert!(!is_own(&qdisc("noqueue", 0)));
    let seen = |q: Qdisc| Seen {
        root: Some(q),
        ..Seen::default()
    };
    assert!(seen(qdisc("tbf", OWN_HANDLE)).foreign().is_some());
    assert!(seen(qdisc("netem", OWN_HANDLE)).foreign().is_none());
    assert!(seen(qdisc("prio", OWN_HANDLE)).foreign().is_none());
    assert!(seen(qdisc("prio", 0x1_0000)).foreign().is_some());
}
