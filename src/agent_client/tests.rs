use super::*;
use netem_api::spec::parse_percent;

fn pod() -> PodInfo {
    PodInfo {
        namespace: "default".into(),
        name: "basic-pd-0".into(),
        component: Some("pd".into()),
        tidb_cluster: None,
        node: Some("node-1".into()),
        ip: None,
        agent_image: Some("agent".into()),
        agent_exposed: false,
        agent_kind: Some(crate::pods::AgentKind::Sidecar),
        agent_container: "netem-agent".into(),
        not_running: None,
        agent_trouble: None,
    }
}

#[test]
fn set_request_carries_the_full_spec() {
    let spec = NetemSpec {
        delay: Some(Duration::from_millis(20)),
        loss: Some(parse_percent("1").unwrap()),
        ttl: Some(Duration::from_secs(600)),
        ..NetemSpec::default()
    };
    let req = AgentCall::Set(Box::new(spec)).request();
    assert_eq!(req.method(), Method::PUT);
    assert_eq!(req.uri(), "/v1/netem");
    assert_eq!(req.headers()[header::HOST], "127.0.0.1:2332");
    assert_eq!(req.headers()[header::CONTENT_TYPE], "application/json");
    let body = futures::executor::block_on(req.into_body().collect())
        .unwrap()
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"delay": "20ms", "loss": "1%", "ttl": "10m"})
    );
}

#[test]
fn rule_requests_and_answers() {
    let rule = RuleSpec {
        to: netem_api::rules::Destination {
            cidrs: vec!["10.0.0.7/32".parse().unwrap()],
            ports: vec![],
        },
        netem: NetemSpec::delay(Duration::from_millis(20)),
        about: serde_json::Value::Null,
    };
    let set = AgentCall::SetRule {
        id: "to.pod.basic-tikv-0".into(),
        rule: Box::new(rule),
    };
    let req = set.request();
    assert_eq!(req.method(), Method::PUT);
    assert_eq!(req.uri(), "/v1/rules/to.pod.basic-tikv-0");
    let body = futures::executor::block_on(req.into_body().collect())
        .unwrap()
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"to": {"cidrs": ["10.0.0.7/32"]}, "netem": {"delay": "20ms"}})
    );
    let clear = AgentCall::ClearRule {
        id: "to.pod.basic-tikv-0".into(),
    };
    assert_eq!(clear.request().method(), Method::DELETE);
    assert_eq!(clear.request().uri(), "/v1/rules/to.pod.basic-tikv-0");

    let state = br#"{"interface":"eth0","root_qdisc":"prio","netem":null,"managed":true,
        "expires_at":null,"ttl_remaining":null,"rules":[{"id":"to.pod.basic-tikv-0",
        "to":{"cidrs":["10.0.0.7/32"]},"netem":{"delay":"20ms"},"about":null}]}"#;
    let Ok(RuleAnswer::State(s)) = decode_rule(&pod(), &set, StatusCode::OK, state) else {
        panic!("not a state")
    };
    assert_eq!(s.rules[0].id, "to.pod.basic-tikv-0");
    assert_eq!(
        decode_rule(&pod(), &clear, StatusCode::NO_CONTENT, b""),
        Ok(RuleAnswer::Done)
    );
    let missing = br#"{"error":"no rule to.pod.basic-tikv-0","field":null,"reason":null}"#;
    assert_eq!(
        decode_rule(&pod(), &clear, StatusCode::NOT_FOUND, missing),
        Ok(RuleAnswer::Absent)
    );
    let old = decode_rule(&pod(), &set, StatusCode::NOT_FOUND, b"not found").unwrap_err();
    assert_eq!(old.cause, Cause::Rejected);
    assert!(old.hint.unwrap().contains("older"));
    let e = decode_rule(
        &pod(),
        &set,
        StatusCode::SERVICE_UNAVAILABLE,
        br#"{"error":"the kernel has no prio qdisc (module sch_prio)"}"#,
    )
    .unwrap_err();
    assert_eq!(e.cause, Cause::NoNetem);
    assert!(e.message.contains("sch_prio"));
    assert!(e.hint.unwrap().contains("sch_prio, cls_flower"));
}

#[test]
fn clear_and_get_requests() {
    let plain = AgentCall::Clear { force: false }.request();
    assert_eq!(plain.method(), Method::DELETE);
    assert_eq!(plain.uri(), "/v1/netem");
    assert_eq!(
        AgentCall::Clear { force: true }.request().uri(),
        "/v1/netem?force=true"
    );
    let get = AgentCall::Get.request();
    assert_eq!(get.method(), Method::GET);
    assert!(get.headers().get(header::CONTENT_TYPE).is_none());
}

#[test]
fn decodes_state() {
    let body = br#"{"interface":"eth0","root_qdisc":"netem","netem":{"delay":"20ms"},
        "managed":true,"expires_at":null,"ttl_remaining":null}"#;
    let state = decode_state(&pod(), StatusCode::OK, body).unwrap();
    assert_eq!(state.interface, "eth0");
    assert_eq!(state.netem.unwrap().delay, Some(Duration::from_millis(20)));
}

#[test]
fn agent_errors_become_causes_with_hints() {
    let body = br#"{"error":"the kernel has no netem qdisc (module sch_netem)","field":null,"reason":null}"#;
    let e = decode_state(&pod(), StatusCode::SERVICE_UNAVAILABLE, body).unwrap_err();
    assert_eq!(e.cause, Cause::NoNetem);
    assert!(e.message.contains("sch_netem"));
    assert!(e.hint.unwrap().contains("node-1"));

    let e = decode_state(
        &pod(),
        StatusCode::CONFLICT,
        br#"{"error":"root qdisc tbf"}"#,
    )
    .unwrap_err();
    assert_eq!(e.cause, Cause::ForeignQdisc);
    assert!(e.hint.unwrap().contains("--force"));

    let e = decode_state(
        &pod(),
        StatusCode::BAD_REQUEST,
        br#"{"error":"invalid loss"}"#,
    )
    .unwrap_err();
    assert_eq!(e.cause, Cause::Rejected);

    let e = decode_state(
        &pod(),
        StatusCode::UNPROCESSABLE_ENTITY,
        br#"{"error":"at most 14 rules"}"#,
    )
    .unwrap_err();
    assert_eq!(e.cause, Cause::Rejected);
    assert!(e.hint.unwrap().contains("at most 14 rules"));

    let e = decode_state(&pod(), StatusCode::BAD_GATEWAY, b"<html>proxy</html>").unwrap_err();
    assert_eq!(e.cause, Cause::AgentError);
    assert_eq!(e.message, "HTTP 502 Bad Gateway: <html>proxy</html>");
    // A page on several lines, or with control characters, becomes one line.
    let e = decode_state(
        &pod(),
        StatusCode::BAD_GATEWAY,
        b"<html>\r\n  bad\x0e gateway\n</html>",
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "HTTP 502 Bad Gateway: <html> bad\\u{e} gateway </html>"
    );

    let e = decode_state(&pod(), StatusCode::OK, b"not json").unwrap_err();
    assert_eq!(e.cause, Cause::AgentError);
}

#[test]
fn forward_errors_are_classified() {
    let status = |code: u16, message: &str| {
        kube::Error::Api(Box::new(
            serde_json::from_value(serde_json::json!({"code": code, "message": message})).unwrap(),
        ))
    };
    let e = classify_forward_error(&pod(), &status(403, "pods \"basic-pd-0\" is forbidden"));
    assert_eq!(e.cause, Cause::Forbidden);
    assert!(e.hint.unwrap().contains("pods/portforward"));
    let e = classify_forward_error(&pod(), &status(400, "pod basic-pd-0 is not running"));
    assert_eq!(e.cause, Cause::NotRunning);
    let e = classify_forward_error(&pod(), &status(500, "boom"));
    assert_eq!(e.cause, Cause::ApiError);
    assert_eq!(e.message, "boom (500)");
}

#[test]
fn channel_errors_mention_the_agent_container() {
    let mut p = pod();
    let e = classify_channel_error(
        &p,
        "dial tcp4 127.0.0.1:2332: connect: connection refused\n",
    );
    assert_eq!(e.cause, Cause::AgentNotAnswering);
    assert!(e.message.ends_with("connection refused"));
    assert!(e.hint.unwrap().contains("-c netem-agent"));
    p.agent_trouble = Some("waiting: CrashLoopBackOff".into());
    let e = classify_channel_error(&p, "refused");
    assert!(e.hint.unwrap().contains("CrashLoopBackOff"));
}

/// Reads the request head from `far`, then answers with `head` and `body_len` bytes of
/// body sent in chunks (or as much as the reader takes before it hangs up).
async fn answer_with(mut far: tokio::io::DuplexStream, head: String, body_len: usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = far.read(&mut buf).await.unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    if far.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = vec![b'x'; 64 * 1024];
    let mut left = body_len;
    while left > 0 {
        let n = left.min(chunk.len());
        if far.write_all(&chunk[..n]).await.is_err() {
            return; // the reader stopped: what a capped reader does
        }
        left -= n;
    }
}

#[tokio::test]
async fn a_huge_answer_is_refused_at_the_cap_not_read_whole() {
    // Declared length over the cap, and an unbounded (close-delimited) answer.
    let heads = [
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
            64 * MAX_ANSWER
        ),
        "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_string(),
    ];
    for head in heads {
        let (near, far) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(answer_with(far, head, 64 * MAX_ANSWER));
        let result = http_exchange(near, AgentCall::Get.request()).await;
        assert!(matches!(result, Err(ExchangeError::TooLarge)), "{result:?}");
        // The far end sees the reader hang up instead of all 64 MiB being taken.
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("the sender is released")
            .unwrap();
    }
    let e = answer_too_large(&pod());
    assert_eq!(e.cause, Cause::AgentError);
    assert!(e.message.contains("1024 KiB"), "{}", e.message);
}

#[tokio::test]
async fn an_answer_just_under_the_cap_is_read() {
    let (near, far) = tokio::io::duplex(64 * 1024);
    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {MAX_ANSWER}\r\n\r\n");
    tokio::spawn(answer_with(far, head, MAX_ANSWER));
    let (status, body) = http_exchange(near, AgentCall::Get.request()).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), MAX_ANSWER);
}

#[tokio::test]
async fn http_exchange_over_a_byte_stream() {
    // A duplex pipe stands in for the forwarded stream; the far end answers like the agent.
    let (near, mut far) = tokio::io::duplex(4096);
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = far.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        let body = br#"{"error":"no netem (sch_netem)"}"#;
        let head = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        far.write_all(head.as_bytes()).await.unwrap();
        far.write_all(body).await.unwrap();
        String::from_utf8(got).unwrap()
    });
    let (status, body) = http_exchange(near, AgentCall::Get.request()).await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(&body[..], br#"{"error":"no netem (sch_netem)"}"#);
    let request = server.await.unwrap();
    assert!(
        request.starts_with("GET /v1/netem HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("host: 127.0.0.1:2332"),
        "{request}"
    );
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any status and body decode to a state or a one-line per-pod error.
        #[test]
        fn any_answer_decodes_or_is_a_one_line_error(
            code in 100u16..1000,
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..600),
                any::<String>().prop_map(String::into_bytes),
                "\\{\"(error|interface|netem|delay)\":(\"[^\"]{0,20}\"|[0-9]{1,3}|null|\\{\\})\\}"
                    .prop_map(String::into_bytes),
            ],
        ) {
            let status = StatusCode::from_u16(code).unwrap();
            if let Err(e) = decode_state(&pod(), status, &body) {
                prop_assert!(!e.message.contains(['\n', '\r']), "{:?}", e.message);
                prop_assert!(e.message.chars().count() < 600, "{:?}", e.message);
            }
        }
    }
}
