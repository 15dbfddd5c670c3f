//! kubectl's credential and server flags (`--token`, `--server`/`-s`, `--as`,
//! `--as-group`, `--certificate-authority`, `--insecure-skip-tls-verify`), unknown
//! `--user/--context/--cluster` as kubectl words them, and no credential in any output.

use serde_json::{Value, json};

use crate::delay::{add_tidb_cluster, wait_for_agents};
use crate::support::{Env, Run, kubeconfig_json, netem_with_env, start_cluster, write_kubeconfig};

fn lists_agent(run: &Run) -> bool {
    run.stdout.contains("basic-pd-0")
}

/// A cluster with one agent pod (so `status` also opens a port-forward).
async fn cluster_with_agent() -> Env {
    let env = start_cluster().await;
    add_tidb_cluster(&env, "default", "basic", &["pd"], 2332);
    wait_for_agents(&env, "default", "basic", 1).await;
    env
}

fn token(cfg: &Value) -> String {
    cfg["users"][0]["user"]["token"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn kubectl_flags_override_the_kubeconfig() {
    let env = cluster_with_agent().await;
    let original = kubeconfig_json(&env);
    let good_token = token(&original);
    let server = env.cluster.server_url().to_string();
    let ca_file = env.dir.path().join("ca.crt");
    let ca_file = ca_file.to_str().unwrap();

    // A user whose token the server rejects, a cluster nothing listens on, and a cluster
    // entry without CA.
    let mut cfg = original.clone();
    let mut stranger = cfg["users"][0].clone();
    stranger["name"] = json!("stranger");
    stranger["user"]["token"] = json!("not-a-valid-token");
    cfg["users"].as_array_mut().unwrap().push(stranger);
    let mut gone = cfg["clusters"][0].clone();
    gone["name"] = json!("gone");
    gone["cluster"]["server"] = json!("https://127.0.0.1:1");
    cfg["clusters"].as_array_mut().unwrap().push(gone);
    let mut no_ca = cfg["clusters"][0].clone();
    no_ca["name"] = json!("no-ca");
    no_ca["cluster"]
        .as_object_mut()
        .unwrap()
        .remove("certificate-authority-data");
    cfg["clusters"].as_array_mut().unwrap().push(no_ca);
    let path = write_kubeconfig(&env, "flags-kubeconfig", &cfg);
    let run = |extra: &'static [&'static str]| {
        let path = path.clone();
        async move {
            let mut args = vec!["--kubeconfig", path.as_str()];
            args.extend_from_slice(extra);
            args.push("status");
            netem_with_env(&args, &[]).await
        }
    };

    // --token replaces the user's credentials, --server the cluster's server.
    let r = run(&["--user", "stranger"]).await.failed();
    assert!(r.stderr.contains("Unauthorized"), "{r}");
    let with = |flags: &[&str]| {
        let mut args = vec!["--kubeconfig".to_string(), path.clone()];
        args.extend(flags.iter().map(|s| s.to_string()));
        args.push("status".into());
        args
    };
    let go = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        netem_with_env(&args, &[]).await
    };
    let r = go(with(&["--user", "stranger", "--token", &good_token]))
        .await
        .ok();
    assert!(lists_agent(&r), "{r}");
    let r = go(with(&["--token", "wrong-token-value"])).await.failed();
    assert!(r.stderr.contains("Unauthorized (HTTP 401)"), "{r}");
    run(&["--cluster", "gone"]).await.failed();
    for flag in ["--server", "-s"] {
        let r = go(with(&["--cluster", "gone", flag, &server])).await.ok();
        assert!(lists_agent(&r), "{flag}: {r}");
    }

    // A cluster without CA fails TLS; --certificate-authority or
    // --insecure-skip-tls-verify (which also drops a kubeconfig CA) make it work.
    let r = run(&["--cluster", "no-ca"]).await.failed();
    assert!(r.stderr.to_lowercase().contains("certificate"), "{r}");
    for flags in [
        vec!["--cluster", "no-ca", "--certificate-authority", ca_file],
        vec!["--cluster", "no-ca", "--insecure-skip-tls-verify"],
        vec!["--insecure-skip-tls-verify=true"],
    ] {
        let r = go(with(&flags)).await.ok();
        assert!(lists_agent(&r), "{flags:?}: {r}");
    }
    // --certificate-authority replaces the kubeconfig's CA data.
    let r = go(with(&["--certificate-authority", "/nonexistent/ca.crt"]))
        .await
        .failed();
    assert!(r.stderr.contains("/nonexistent/ca.crt"), "{r}");

    // --as and --as-group: every request, the port-forward's too, carries them.
    let before = env.cluster.requests().len();
    let r = run(&["--as", "jane", "--as-group", "qa", "--as-group", "ops"])
        .await
        .ok();
    assert!(lists_agent(&r), "{r}");
    let requests = env.cluster.requests().split_off(before);
    assert!(
        requests.iter().any(|q| q.path.ends_with("/portforward")),
        "{requests:?}"
    );
    for q in &requests {
        assert_eq!(q.impersonate_user.as_deref(), Some("jane"), "{q:?}");
        assert_eq!(q.impersonate_groups, ["qa", "ops"], "{q:?}");
    }
    let r = run(&["--as-group", "qa"]).await;
    assert_eq!(r.code, Some(2), "--as-group needs --as: {r}");

    // Unknown names are errors, worded as kubectl words them, and nothing is contacted.
    let before = env.cluster.requests().len();
    for (flag, line) in [
        ("--user", "error: auth info \"nosuch\" does not exist"),
        (
            "--context",
            "error: context was not found for specified context: nosuch",
        ),
        ("--cluster", "error: no server found for cluster \"nosuch\""),
    ] {
        let r = go(with(&[flag, "nosuch"])).await.failed();
        assert_eq!(r.stderr.trim_end(), line, "{r}");
    }
    assert_eq!(env.cluster.requests().len(), before);
    env.cluster.shutdown().await;
}

/// Every secret planted below starts with this; none may be printed.
const PLANT: &str = "SECRET-TOKEN-8f3a";

fn script(env: &Env, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = env.dir.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_str().unwrap().to_string()
}

fn exec_user(command: &str, arg: &str) -> Value {
    json!({"exec": {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": command,
        "args": [arg],
        "env": [{"name": "PLUGIN_SECRET", "value": format!("{PLANT}-exec-env")}],
        "interactiveMode": "Never",
    }})
}

pub async fn no_credential_is_ever_printed() {
    let env = cluster_with_agent().await;
    let original = kubeconfig_json(&env);
    let mut runs: Vec<(String, Run)> = Vec::new();

    // A token the server rejects (401), in the kubeconfig and on the command line.
    let mut cfg = original.clone();
    cfg["users"][0]["user"]["token"] = json!(format!("{PLANT}-kubeconfig-401"));
    let path = write_kubeconfig(&env, "rejected", &cfg);
    runs.push((
        "401".into(),
        netem_with_env(&["--kubeconfig", &path, "status"], &[]).await,
    ));
    let flag_token = format!("{PLANT}-flag-401");
    let original_path = env.cluster.kubeconfig().to_str().unwrap().to_string();
    runs.push((
        "--token 401".into(),
        netem_with_env(
            &[
                "--kubeconfig",
                &original_path,
                "--token",
                &flag_token,
                "status",
            ],
            &[],
        )
        .await,
    ));

    // A kubeconfig that fails to parse right after the token line.
    let broken = format!(
        "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: {PLANT}-broken\n    password: [{PLANT}-unclosed\n      bad: {PLANT}-indent\n"
    );
    let broken_path = env.dir.path().join("broken");
    std::fs::write(&broken_path, broken).unwrap();
    runs.push((
        "broken kubeconfig".into(),
        netem_with_env(
            &["--kubeconfig", broken_path.to_str().unwrap(), "status"],
            &[],
        )
        .await,
    ));

    // Exec plugins: one prints the token on stderr and stdout and exits 1, one prints
    // invalid JSON holding it; both get a secret argument and environment value.
    let failing = script(
        &env,
        "failing-plugin",
        &format!(
            "echo \"{PLANT}-stderr $PLUGIN_SECRET $1\" >&2\necho '{{\"status\":{{\"token\":\"{PLANT}-stdout\"}}}}'\nexit 1"
        ),
    );
    let garbled = script(
        &env,
        "garbled-plugin",
        &format!(
            "echo '{{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {{\"token\": \"{PLANT}-json'"
        ),
    );
    for (name, plugin) in [("failing exec", &failing), ("garbled exec", &garbled)] {
        let mut cfg = original.clone();
        cfg["users"][0]["user"] = exec_user(plugin, &format!("--token={PLANT}-arg"));
        let path = write_kubeconfig(&env, name.replace(' ', "-").as_str(), &cfg);
        let run = netem_with_env(&["--kubeconfig", &path, "status"], &[]).await;
        assert!(
            run.stderr.contains(plugin.as_str()),
            "{name} names the plugin: {run}"
        );
        runs.push((name.into(), run));
    }

    // An auth provider kube does not support, with its tokens in the config.
    let mut cfg = original.clone();
    cfg["users"][0]["user"] = json!({"auth-provider": {"name": "oidc", "config": {
        "id-token": format!("{PLANT}-id-token"),
        "refresh-token": format!("{PLANT}-refresh"),
        "client-secret": format!("{PLANT}-client-secret"),
    }}});
    let path = write_kubeconfig(&env, "auth-provider", &cfg);
    runs.push((
        "auth provider".into(),
        netem_with_env(&["--kubeconfig", &path, "status"], &[]).await,
    ));

    for (name, run) in &runs {
        assert_ne!(run.code, Some(0), "{name} succeeded: {run}");
        assert!(run.stderr.starts_with("error: "), "{name}: {run}");
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{name}: {run}");
        assert!(
            !run.stdout.contains(PLANT) && !run.stderr.contains(PLANT),
            "{name} printed a credential: {run}"
        );
    }
    env.cluster.shutdown().await;
}
