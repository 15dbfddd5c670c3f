//! On a terminal, `inject` asks before pods restart, and does what the answer says. The
//! terminal is a real pseudo-terminal made by util-linux `script`; the answer is typed into it
//! once the question is up.

use std::time::Duration;

use serde_json::Value;

use crate::support::{Env, Run, basic_cluster};

/// Runs `kubectl-netem ARGS` on a pseudo-terminal and types `answer` after `after`.
async fn on_terminal(env: &Env, args: &str, answer: &str, after: Duration) -> Run {
    use tokio::io::AsyncWriteExt;
    let cmd = format!(
        "{} --kubeconfig {} {args}",
        env!("CARGO_BIN_EXE_kubectl-netem"),
        env.cluster.kubeconfig().display()
    );
    let mut child = tokio::process::Command::new("/usr/bin/script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn script");
    let mut stdin = child.stdin.take().unwrap();
    tokio::time::sleep(after).await;
    stdin.write_all(answer.as_bytes()).await.unwrap();
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("inject on a terminal did not finish")
        .unwrap();
    out.into()
}

fn agent_in(env: &Env, component: &str) -> bool {
    let tc = env
        .cluster
        .get("pingcap.com/v1alpha1", "TidbCluster", "default", "basic")
        .unwrap();
    tc["spec"][component]["additionalContainers"]
        .as_array()
        .is_some_and(|cs| cs.iter().any(|c| c["name"] == "netem-agent"))
}

pub async fn inject_asks_on_a_terminal_and_obeys_the_answer() {
    let env = basic_cluster().await;
    let spec_before: Value = env
        .cluster
        .get("pingcap.com/v1alpha1", "TidbCluster", "default", "basic")
        .unwrap()["spec"]
        .clone();

    let no = on_terminal(&env, "inject tc/basic", "n", Duration::from_secs(2)).await;
    assert!(
        no.stdout.contains("Restart 3 pods of tidbcluster/basic?"),
        "{no}"
    );
    assert!(no.stdout.contains("nothing changed"), "{no}");
    assert_ne!(no.code, Some(0), "{no}");
    let spec_after = &env
        .cluster
        .get("pingcap.com/v1alpha1", "TidbCluster", "default", "basic")
        .unwrap()["spec"];
    assert_eq!(&spec_before, spec_after, "a 'no' must change nothing");

    let yes = on_terminal(
        &env,
        "inject tc/basic --component pd --wait",
        "y",
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(yes.code, Some(0), "{yes}");
    assert!(
        yes.stdout.contains("Restart 1 pod of tidbcluster/basic?"),
        "{yes}"
    );
    assert!(agent_in(&env, "pd") && !agent_in(&env, "tikv"), "{yes}");
}
