//! Root tests on the host kernel, each in a fresh network namespace (veth pair, address,
//! default route) with the real `netem-agent` binary run inside it via `ip netns exec`.
//!
//! This host kernel has no netem: these cover the 503 path, a foreign root qdisc (tbf) left
//! alone, the API's errors, interface choice, signals and the state file. Setting netem for
//! real is covered by the VM tier (tests/vm). Needs root, `ip`, `tc` and `curl`: see netem-harness
//! for what happens without root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

const AGENT: &str = env!("CARGO_BIN_EXE_netem-agent");

#[path = "host_netns/stall.rs"]
mod stall;
use stall::{stalled_clients_cannot_hold_the_agent, the_watchdog_exits_when_health_fails};

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace with veth `v0` (10.77.0.1/24, up) whose peer `v1` is also inside,
/// and a default route via the peer unless asked otherwise. Deleted on drop.
struct Netns {
    name: String,
    dir: PathBuf,
}

impl Netns {
    /// A namespace as the kernel makes it: only `lo`, down.
    fn empty() -> Netns {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let name = format!("nae-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(&name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        run("ip", &["netns", "add", &name]);
        Netns { name, dir }
    }

    fn new(default_route: bool) -> Netns {
        let ns = Netns::empty();
        ns.ip(&["link", "set", "lo", "up"]);
        ns.add_veth("v0", "v1", "10.77.0.1/24");
        if default_route {
            ns.ip(&["route", "add", "default", "via", "10.77.0.2", "dev", "v0"]);
        }
        ns
    }

    fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    fn add_veth(&self, a: &str, b: &str, addr: &str) {
        self.ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
        self.ip(&["addr", "add", addr, "dev", a]);
        self.ip(&["link", "set", a, "up"]);
        self.ip(&["link", "set", b, "up"]);
    }

    fn exec(&self, cmd: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, cmd]).args(args);
        c
    }

    fn tc(&self, args: &[&str]) -> String {
        let out = self.exec("tc", args).output().unwrap();
        assert!(
            out.status.success(),
            "tc {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The root qdisc of v0 as `tc qdisc show` prints it.
    fn root_qdisc(&self) -> String {
        self.tc(&["qdisc", "show", "dev", "v0", "root"])
            .trim()
            .to_string()
    }

    fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Starts the agent with these extra arguments and waits until it is healthy.
    fn agent(&self, args: &[&str]) -> Agent<'_> {
        let state = self.state_file();
        let mut all = vec!["--state-file", state.to_str().unwrap()];
        all.extend_from_slice(args);
        self.agent_with(&all)
    }

    /// Starts the agent with exactly these arguments and waits until it is healthy.
    fn agent_with(&self, all: &[&str]) -> Agent<'_> {
        let log = self.dir.join("agent.log");
        let child = self
            .exec(AGENT, all)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut agent = Agent {
            child,
            log,
            ns: self,
        };
        let start = Instant::now();
        while !agent.healthy() {
            if let Ok(Some(status)) = agent.child.try_wait() {
                panic!("agent exited with {status}: {}", agent.log());
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "agent not healthy: {}",
                agent.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        agent
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Agent<'a> {
    child: Child,
    log: PathBuf,
    ns: &'a Netns,
}

/// An HTTP answer: status and JSON body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
}

impl Agent<'_> {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn healthy(&self) -> bool {
        self.ns
            .exec(AGENT, &["health"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn call(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        let url = format!("http://127.0.0.1:2332{path}");
        let mut args = vec!["-s", "-X", method, "-w", "\n%{http_code}", &url];
        if let Some(body) = body {
            args.extend_from_slice(&[
                "-H",
                "content-type: application/json",
                "--data-binary",
                body,
            ]);
        }
        let out = self.ns.exec("curl", &args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (json, status) = text.rsplit_once('\n').expect("curl output with status");
        Answer {
            status: status
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("status in {text:?}")),
            body: serde_json::from_str(json).unwrap_or_else(|e| panic!("JSON {json:?}: {e}")),
        }
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().to_string();
        run("kill", &[&format!("-{sig}"), &pid]);
    }

    /// Waits (up to 5 s) for the agent to exit; its exit code.
    fn wait_exit(&mut self) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "agent did not exit: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Agent<'_> {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn assert_error(a: &Answer, status: u16, field: Option<&str>) {
    assert_eq!(a.status, status, "{a:?}");
    assert!(
        a.body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{a:?}"
    );
    assert_eq!(a.body["field"].as_str(), field, "{a:?}");
}

fn assert_default_root(ns: &Netns) {
    let root = ns.root_qdisc();
    assert!(
        root.starts_with("qdisc noqueue 0:"),
        "root qdisc changed: {root}"
    );
}

fn kernel_without_netem_answers_503_and_changes_nothing() {
    let ns = Netns::new(true);
    let agent = ns.agent(&[]);
    let info = agent.call("GET", "/v1/info", None);
    assert_eq!(info.status, 200);
    assert_eq!(
        info.body["netem_available"], false,
        "the harness saw no netem"
    );
    assert_eq!(info.body["interface"], "v0");
    assert_eq!(info.body["version"], env!("CARGO_PKG_VERSION"));
    for (method, path, body) in [
        ("GET", "/latency/20ms", None),
        ("PUT", "/v1/netem", Some(r#"{"delay":"20ms","loss":"1%"}"#)),
        ("PUT", "/v1/netem", Some(r#"{"rate":"1mbit"}"#)),
    ] {
        let a = agent.call(method, path, body);
        assert_error(&a, 503, None);
        assert!(
            a.body["error"].as_str().unwrap().contains("sch_netem"),
            "{a:?}"
        );
        assert_default_root(&ns);
    }
    let state = agent.call("GET", "/v1/netem", None);
    assert_eq!(state.status, 200);
    assert_eq!(
        state.body,
        serde_json::json!({"interface": "v0", "root_qdisc": "none", "netem": null,
            "managed": false, "expires_at": null, "ttl_remaining": null})
    );
    assert!(!ns.state_file().exists(), "nothing set, nothing saved");
    // Clearing when nothing is set succeeds and changes nothing.
    assert_eq!(agent.call("DELETE", "/v1/netem", None).status, 200);
    assert_eq!(agent.call("GET", "/latency/0", None).status, 200);
    assert_default_root(&ns);
    assert!(
        agent.log().contains("503"),
        "errors are logged: {}",
        agent.log()
    );
}

/// Rules on a kernel without prio (and netem, flower): 503 naming the module, nothing
/// changed; bad rule requests are 400 naming the field or 404; nothing is ever half-built.
fn rules_without_prio_are_503_and_change_nothing() {
    let ns = Netns::new(true);
    let agent = ns.agent(&[]);
    let rule = r#"{"to":{"cidrs":["10.77.0.2/32","fd00::2/128"],"ports":[20160]},"netem":{"delay":"20ms"}}"#;
    let a = agent.call("PUT", "/v1/rules/to-b", Some(rule));
    assert_error(&a, 503, None);
    let text = a.body["error"].as_str().unwrap();
    assert!(text.contains("sch_prio"), "{text}");
    assert!(text.contains("previous qdisc tree is back"), "{text}");
    assert_default_root(&ns);
    for (path, body, field) in [
        ("/v1/rules/To-B", rule, "id"),
        (
            "/v1/rules/b",
            r#"{"to":{"cidrs":["10.77.0.2/24"]},"netem":{"delay":"20ms"}}"#,
            "to",
        ),
        (
            "/v1/rules/b",
            r#"{"to":{"ports":[80]},"netem":{"loss":"101%"}}"#,
            "netem.loss",
        ),
        (
            "/v1/rules/b",
            r#"{"to":{"ports":[80]},"netem":{}}"#,
            "netem",
        ),
    ] {
        assert_error(&agent.call("PUT", path, Some(body)), 400, Some(field));
    }
    assert_error(&agent.call("DELETE", "/v1/rules/nope", None), 404, None);
    let rules = agent.call("GET", "/v1/rules", None);
    assert_eq!((rules.status, &rules.body), (200, &serde_json::json!([])));
    assert_eq!(agent.call("DELETE", "/v1/rules", None).status, 200);
    let state = agent.call("GET", "/v1/netem", None);
    assert!(state.body.get("rules").is_none(), "{state:?}");
    assert_default_root(&ns);
    assert!(!ns.state_file().exists(), "nothing set, nothing saved");
    // A foreign root: 409 first, whatever the kernel has.
    ns.tc(&[
        "qdisc", "add", "dev", "v0", "root", "handle", "5:", "tbf", "rate", "1mbit", "burst",
        "32kbit", "latency", "400ms",
    ]);
    let a = agent.call("PUT", "/v1/rules/to-b", Some(rule));
    assert_error(&a, 409, None);
    assert!(ns.root_qdisc().starts_with("qdisc tbf 5:"));
    // Forced, it fails at prio and leaves the tbf.
    let a = agent.call("PUT", "/v1/rules/to-b?force=true", Some(rule));
    assert_error(&a, 503, None);
    assert!(
        ns.root_qdisc().starts_with("qdisc tbf 5:"),
        "{}",
        ns.root_qdisc()
    );
}

fn foreign_tbf_is_left_alone_unless_forced() {
    let ns = Netns::new(true);
    ns.tc(&[
        "qdisc", "add", "dev", "v0", "root", "handle", "5:", "tbf", "rate", "1mbit", "burst",
        "32kbit", "latency", "400ms",
    ]);
    let agent = ns.agent(&[]);
    let state = agent.call("GET", "/v1/netem", None);
    assert_eq!(state.body["root_qdisc"], "tbf");
    assert_eq!(state.body["netem"], Value::Null);
    assert_eq!(state.body["managed"], false);
    for (method, path, body) in [
        ("DELETE", "/v1/netem", None),
        ("PUT", "/v1/netem", Some(r#"{"delay":"20ms"}"#)),
        ("GET", "/latency/20ms", None),
        ("GET", "/latency/0", None),
        ("PUT", "/v1/netem", Some("{}")),
    ] {
        let a = agent.call(method, path, body);
        assert_error(&a, 409, None);
        let text = a.body["error"].as_str().unwrap();
        assert!(
            text.contains("tbf") && text.contains("force=true"),
            "{text}"
        );
        assert!(
            ns.root_qdisc().starts_with("qdisc tbf 5:"),
            "{}",
            ns.root_qdisc()
        );
    }
    // Forcing a set on this kernel fails at netem (503) and still leaves tbf in place.
    let forced = agent.call("GET", "/latency/20ms?force=true", None);
    if forced.status == 503 {
        assert!(
            ns.root_qdisc().starts_with("qdisc tbf 5:"),
            "{}",
            ns.root_qdisc()
        );
    }
    let cleared = agent.call("DELETE", "/v1/netem?force=true", None);
    assert_eq!(cleared.status, 200, "{cleared:?}");
    assert_eq!(cleared.body["root_qdisc"], "none");
    assert_default_root(&ns);
    assert!(
        agent.log().contains("cleared tbf (handle 5:) on v0"),
        "{}",
        agent.log()
    );
}

fn bad_input_is_400_naming_the_field_and_changes_nothing() {
    let ns = Netns::new(true);
    ns.tc(&[
        "qdisc", "add", "dev", "v0", "root", "handle", "7:", "tbf", "rate", "1mbit", "burst",
        "32kbit", "latency", "400ms",
    ]);
    let agent = ns.agent(&[]);
    let cases: &[(&str, &str, Option<&str>, Option<&str>)] = &[
        (
            "PUT",
            "/v1/netem",
            Some(r#"{"delay":"abc"}"#),
            Some("delay"),
        ),
        ("PUT", "/v1/netem", Some(r#"{"delay":"20"}"#), Some("delay")),
        (
            "PUT",
            "/v1/netem",
            Some(r#"{"delay":"10ms","loss":"150%"}"#),
            Some("loss"),
        ),
        (
            "PUT",
            "/v1/netem",
            Some(r#"{"jitter":"5ms"}"#),
            Some("jitter"),
        ),
        (
            "PUT",
            "/v1/netem",
            Some(r#"{"delay":"1ms","distribution":"normal"}"#),
            Some("distribution"),
        ),
        ("PUT", "/v1/netem", Some(r#"{"rate":"fast"}"#), Some("rate")),
        ("PUT", "/v1/netem", Some(r#"{"bogus":1}"#), Some("bogus")),
        ("PUT", "/v1/netem", Some(r#"{"delay":"#), Some("body")),
        (
            "PUT",
            "/v1/netem?force=maybe",
            Some(r#"{"delay":"1ms"}"#),
            Some("force"),
        ),
        ("GET", "/latency/fast", None, Some("duration")),
        ("GET", "/latency/-5ms", None, Some("duration")),
    ];
    for (method, path, body, field) in cases {
        let a = agent.call(method, path, *body);
        assert_error(&a, 400, *field);
        assert!(
            ns.root_qdisc().starts_with("qdisc tbf 7:"),
            "{path} {body:?} changed the qdisc"
        );
    }
    assert_error(&agent.call("GET", "/nope", None), 404, None);
    assert_error(&agent.call("POST", "/v1/netem", None), 405, None);
    assert!(!ns.state_file().exists());
    // Still serving after all that.
    assert_eq!(agent.call("GET", "/healthz", None).status, 200);
}

fn interface_is_the_default_route_one_unless_given() {
    let ns = Netns::new(false);
    ns.add_veth("w0", "w1", "10.78.0.1/24");
    ns.ip(&["route", "add", "default", "via", "10.78.0.2", "dev", "w0"]);
    {
        let agent = ns.agent(&[]);
        assert_eq!(agent.call("GET", "/v1/info", None).body["interface"], "w0");
        assert_eq!(agent.call("GET", "/v1/netem", None).body["interface"], "w0");
    }
    let agent = ns.agent(&["--interface", "v0"]);
    assert_eq!(agent.call("GET", "/v1/info", None).body["interface"], "v0");
}

fn without_default_route_or_interface_it_says_so() {
    let ns = Netns::new(false);
    let agent = ns.agent(&[]);
    let a = agent.call("GET", "/v1/netem", None);
    assert_error(&a, 500, None);
    assert!(
        a.body["error"].as_str().unwrap().contains("--interface"),
        "{a:?}"
    );
    let missing = ns.agent(&["--interface", "nope0", "--listen", "127.0.0.1:2333"]);
    let url = "http://127.0.0.1:2333/v1/netem";
    let out = ns.exec("curl", &["-s", url]).output().unwrap();
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(body["error"].as_str().unwrap().contains("nope0"), "{body}");
    drop(missing);
}

fn sigterm_and_sigint_exit_cleanly() {
    let ns = Netns::new(true);
    for sig in ["TERM", "INT"] {
        let mut agent = ns.agent(&[]);
        agent.signal(sig);
        assert_eq!(agent.wait_exit(), Some(0), "{}", agent.log());
        assert!(
            agent.log().contains(&format!("SIG{sig}: exiting")),
            "{}",
            agent.log()
        );
        assert!(!agent.healthy(), "health must fail once the agent is gone");
    }
}

fn concurrent_requests_are_all_answered() {
    let ns = Netns::new(true);
    let agent = ns.agent(&[]);
    let answers: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let agent = &agent;
                s.spawn(move || {
                    let method = if i % 2 == 0 { "DELETE" } else { "GET" };
                    agent.call(method, "/v1/netem", None).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(answers, vec![200; 10]);
}

fn a_stale_state_file_is_forgotten() {
    let ns = Netns::new(true);
    let ifindex: u32 = ns
        .ip(&["-o", "link", "show", "v0"])
        .split(':')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let saved = serde_json::json!({
        "written_by": "netem-agent",
        "interface": "v0", "ifindex": ifindex, "handle": 0x8001_0000u32,
        "spec": {"delay": "20ms", "ttl": "1m"}, "set_at_ms": 1, "expires_at_ms": 60_001
    });
    std::fs::write(ns.state_file(), saved.to_string()).unwrap();
    let agent = ns.agent(&[]);
    assert!(
        agent.log().contains("gone; forgetting it"),
        "{}",
        agent.log()
    );
    assert!(!Path::new(&ns.state_file()).exists());
    let state = agent.call("GET", "/v1/netem", None);
    assert_eq!(state.body["managed"], false);
    assert_eq!(state.body["expires_at"], Value::Null);
}

fn listen_takes_an_address_not_a_name() {
    let out = Command::new(AGENT)
        .args(["--listen", "localhost:2332"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--listen"), "{err}");
    let version = Command::new(AGENT).arg("--version").output().unwrap();
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("netem-agent {}", env!("CARGO_PKG_VERSION"))
    );
}

fn a_listen_failure_is_explained() {
    // An address no interface here has: binding fails, the agent says where and exits,
    // touching nothing: a previous agent's state file (here a stale one, which a serving
    // agent would forget) is neither adopted nor removed.
    let ns = Netns::new(true);
    let state = ns.state_file();
    let saved = serde_json::json!({
        "interface": "v0", "ifindex": 1, "handle": 0x8001_0000u32,
        "spec": {"delay": "20ms"}, "set_at_ms": 1, "expires_at_ms": null
    })
    .to_string();
    std::fs::write(&state, &saved).unwrap();
    let mut child = ns
        .exec(
            AGENT,
            &[
                "--state-file",
                state.to_str().unwrap(),
                "--listen",
                "10.99.99.99:2332",
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("the agent did not exit although it cannot listen");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("cannot listen on 10.99.99.99:2332")
            && err.contains("assign requested address"),
        "{err}"
    );
    assert!(
        !err.contains("state file") && !err.contains("adopted"),
        "state looked at before listening: {err}"
    );
    assert_eq!(std::fs::read_to_string(&state).unwrap(), saved);
}

/// The agent's log with the state file (its path) untouched: the path still holds what
/// `check` accepts.
fn state_path_is_left_alone(what: &str, prepare: impl Fn(&Path), check: impl Fn(&Path)) {
    let ns = Netns::new(true);
    let path = ns.state_file();
    prepare(&path);
    let mut agent = ns.agent(&[]);
    // Requests that would forget or write the state file, then an exit that clears.
    assert_eq!(agent.call("GET", "/v1/netem", None).status, 200);
    assert_eq!(agent.call("DELETE", "/v1/netem", None).status, 200);
    agent.signal("TERM");
    assert_eq!(agent.wait_exit(), Some(0), "{}", agent.log());
    let log = agent.log();
    assert!(
        log.contains(&format!("state file {}: {what}", path.display()))
            && log.contains("left untouched"),
        "{log}"
    );
    check(&path);
}

fn a_fifo_at_the_state_path_neither_blocks_nor_is_removed() {
    state_path_is_left_alone(
        "a FIFO",
        |p| drop(run("mkfifo", &[p.to_str().unwrap()])),
        |p| {
            use std::os::unix::fs::FileTypeExt;
            assert!(std::fs::symlink_metadata(p).unwrap().file_type().is_fifo());
        },
    );
}

fn a_directory_at_the_state_path_is_left_alone() {
    state_path_is_left_alone(
        "a directory",
        |p| {
            std::fs::create_dir(p).unwrap();
            std::fs::write(p.join("keep"), "x").unwrap();
        },
        |p| assert_eq!(std::fs::read_to_string(p.join("keep")).unwrap(), "x"),
    );
}

fn a_foreign_file_at_the_state_path_is_left_untouched() {
    // Unmarked: what an older agent or anyone else wrote; and plain text.
    const UNMARKED: &str = r#"{"interface":"v0","ifindex":1,"handle":2147549184,
        "spec":{"delay":"20ms"},"set_at_ms":1,"expires_at_ms":null}"#;
    for (content, what) in [(UNMARKED, "unreadable"), ("hello\n", "unreadable")] {
        state_path_is_left_alone(
            what,
            |p| std::fs::write(p, content).unwrap(),
            |p| assert_eq!(std::fs::read_to_string(p).unwrap(), content),
        );
    }
}

fn no_state_file_writes_none() {
    let ns = Netns::new(true);
    let agent = ns.agent_with(&["--no-state-file"]);
    assert_eq!(agent.call("GET", "/v1/netem", None).status, 200);
    assert_eq!(agent.call("DELETE", "/v1/netem", None).status, 200);
    assert!(!agent.log().contains("state file"), "{}", agent.log());
    let both = Command::new(AGENT)
        .args(["--no-state-file", "--state-file", "/tmp/x.json"])
        .output()
        .unwrap();
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
}

fn values_netem_cannot_hold_are_400_not_a_clear() {
    // A foreign root qdisc that a clear with ?force=true would remove: a value rounded to
    // zero would have turned the forced set into exactly that.
    let ns = Netns::new(true);
    ns.tc(&[
        "qdisc", "add", "dev", "v0", "root", "handle", "9:", "tbf", "rate", "1mbit", "burst",
        "32kbit", "latency", "400ms",
    ]);
    let agent = ns.agent(&[]);
    for (path, body, field, smallest) in [
        (
            "/v1/netem",
            Some(r#"{"loss":"0.0000000001%"}"#),
            "loss",
            "0.000001%",
        ),
        (
            "/v1/netem?force=true",
            Some(r#"{"loss":"0.0000000001%"}"#),
            "loss",
            "0.000001%",
        ),
        (
            "/v1/netem?force=true",
            Some(r#"{"corrupt":1e-9}"#),
            "corrupt",
            "0.000001%",
        ),
        (
            "/v1/netem?force=true",
            Some(r#"{"delay":"0.4ns"}"#),
            "delay",
            "1ns",
        ),
        (
            "/v1/netem?force=true",
            Some(r#"{"rate":"7bit"}"#),
            "rate",
            "8bit",
        ),
        ("/latency/0.1ns?force=true", None, "duration", "1ns"),
    ] {
        let method = if body.is_some() { "PUT" } else { "GET" };
        let a = agent.call(method, path, body);
        assert_error(&a, 400, Some(field));
        assert!(
            a.body["reason"].as_str().unwrap().contains(smallest),
            "{path} {body:?}: {a:?}"
        );
        assert!(
            ns.root_qdisc().starts_with("qdisc tbf 9:"),
            "{path} {body:?} changed the qdisc: {}",
            ns.root_qdisc()
        );
    }
}

netem_harness::main! {
    [Root, NoNetem] sync kernel_without_netem_answers_503_and_changes_nothing,
    [Root] sync foreign_tbf_is_left_alone_unless_forced,
    [Root, NoNetem] sync rules_without_prio_are_503_and_change_nothing,
    [Root] sync bad_input_is_400_naming_the_field_and_changes_nothing,
    [Root] sync interface_is_the_default_route_one_unless_given,
    [Root] sync without_default_route_or_interface_it_says_so,
    [Root] sync sigterm_and_sigint_exit_cleanly,
    [Root] sync concurrent_requests_are_all_answered,
    [Root] sync a_stale_state_file_is_forgotten,
    [Root] sync listen_takes_an_address_not_a_name,
    [Root] sync a_listen_failure_is_explained,
    [Root] sync a_fifo_at_the_state_path_neither_blocks_nor_is_removed,
    [Root] sync a_directory_at_the_state_path_is_left_alone,
    [Root] sync a_foreign_file_at_the_state_path_is_left_untouched,
    [Root] sync no_state_file_writes_none,
    [Root] sync values_netem_cannot_hold_are_400_not_a_clear,
    [Root] sync stalled_clients_cannot_hold_the_agent,
    [Root] sync the_watchdog_exits_when_health_fails,
}
