//! Rules end to end against the test cluster: `delay --to`, `--direction`, `partition` and
//! `clear --to` resolve both sides, reach exactly the pods they should (the API server's
//! request log shows every port-forward) and report each pod, on either side.
//!
//! The host kernel has no netem, so no rule takes effect here (the agents answer 503, or
//! 404 if they predate rules); the delays themselves are measured in the VM tier
//! (tests/vm/guest/cluster-rules.sh).

use std::collections::BTreeSet;

use crate::delay::{add_tidb_cluster, wait_for_agents};
use crate::support::{Env, netem, start_cluster};

/// TidbCluster basic with the agent in pd and tikv, not in tidb.
async fn cluster() -> Env {
    let env = start_cluster().await;
    add_tidb_cluster(&env, "default", "basic", &["pd", "tikv"], 2332);
    wait_for_agents(&env, "default", "basic", 2).await;
    env
}

/// The pods the API server was asked to port-forward to since the last call, then forgets.
fn forwarded(env: &Env, seen: &mut usize) -> BTreeSet<String> {
    let requests = env.cluster.requests();
    let pods = requests[*seen..]
        .iter()
        .filter_map(|r| r.path.strip_suffix("/portforward"))
        .filter_map(|p| p.rsplit('/').next())
        .map(String::from)
        .collect();
    *seen = requests.len();
    pods
}

fn set(pods: &[&str]) -> BTreeSet<String> {
    pods.iter().map(|p| p.to_string()).collect()
}

pub async fn both_ways_reaches_both_sides_and_names_each_pod() {
    let env = cluster().await;
    let mut seen = 0;
    forwarded(&env, &mut seen);

    // to (the default): the source alone; its destination needs no agent.
    let run = netem(
        &env,
        &["delay", "basic-pd-0", "20ms", "--to", "basic-tidb-0"],
    )
    .await
    .failed();
    assert_eq!(forwarded(&env, &mut seen), set(&["basic-pd-0"]), "{run}");
    assert!(run.stderr.contains("error: pod/basic-pd-0: "), "{run}");
    assert!(!run.stderr.contains("basic-tidb-0:"), "{run}");
    assert!(
        run.stdout
            .contains("delay 20ms to pod/basic-tidb-0: 0 of 1 pod ok"),
        "{run}"
    );

    // both: the destination's agent gets the way back; each side fails on its own line.
    let run = netem(
        &env,
        &[
            "delay",
            "basic-pd-0",
            "20ms",
            "--to",
            "basic-tikv-0",
            "--direction",
            "both",
        ],
    )
    .await
    .failed();
    assert_eq!(
        forwarded(&env, &mut seen),
        set(&["basic-pd-0", "basic-tikv-0"]),
        "{run}"
    );
    for pod in ["basic-pd-0", "basic-tikv-0"] {
        assert!(run.stderr.contains(&format!("error: pod/{pod}: ")), "{run}");
    }
    assert!(run.stdout.contains("both ways: 0 of 2 pods ok"), "{run}");

    // A destination without the agent is reported for both/from, never skipped.
    let run = netem(
        &env,
        &[
            "delay",
            "basic-pd-0",
            "20ms",
            "--to",
            "basic-tidb-0",
            "--direction",
            "both",
        ],
    )
    .await
    .failed();
    assert!(
        run.stderr
            .contains("error: pod/basic-tidb-0: no agent injected"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("kubectl netem inject tidb-cluster/basic"),
        "{run}"
    );
    assert_eq!(forwarded(&env, &mut seen), set(&["basic-pd-0"]), "{run}");

    // from: only the destinations' agents; the source needs none (basic-tidb-0 has none).
    let run = netem(
        &env,
        &[
            "delay",
            "basic-tidb-0",
            "20ms",
            "--to-component",
            "pd,tikv",
            "--direction",
            "from",
        ],
    )
    .await
    .failed();
    assert_eq!(
        forwarded(&env, &mut seen),
        set(&["basic-pd-0", "basic-tikv-0"]),
        "{run}"
    );
    assert!(!run.stderr.contains("basic-tidb-0:"), "{run}");

    // partition: both ways by default, the source's side alone with --one-way.
    let run = netem(&env, &["partition", "basic-pd-0", "--from", "basic-tikv-0"])
        .await
        .failed();
    assert_eq!(
        forwarded(&env, &mut seen),
        set(&["basic-pd-0", "basic-tikv-0"]),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("partition from pod/basic-tikv-0, both ways: 0 of 2 pods ok"),
        "{run}"
    );
    let run = netem(
        &env,
        &[
            "partition",
            "basic-pd-0",
            "--from",
            "basic-tikv-0",
            "--one-way",
            "--for",
            "1m",
        ],
    )
    .await
    .failed();
    assert_eq!(forwarded(&env, &mut seen), set(&["basic-pd-0"]), "{run}");
    env.cluster.shutdown().await;
}

pub async fn clear_to_removes_one_rule_on_both_sides() {
    let env = cluster().await;
    let mut seen = 0;
    forwarded(&env, &mut seen);
    // No rule is there to remove: each agent says so, and that is success.
    let run = netem(&env, &["clear", "basic-pd-0", "--to", "tc/basic"])
        .await
        .ok();
    // The way back is removed where an agent can hold it (tikv), not tried on tidb (no
    // agent) nor on basic-pd-0 (a source is never its own destination).
    assert_eq!(
        forwarded(&env, &mut seen),
        set(&["basic-pd-0", "basic-tikv-0"]),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("pod/basic-pd-0: no rule to tidbcluster/basic (nothing to remove)"),
        "{run}"
    );
    assert!(
        run.stdout.contains(
            "pod/basic-tikv-0: no rule to pod/basic-pd-0 (the way back) (nothing to remove)"
        ),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("clear the rule to tidbcluster/basic: 2 pods ok"),
        "{run}"
    );
    // --direction to: the sources only.
    netem(
        &env,
        &[
            "clear",
            "basic-pd-0",
            "--to",
            "basic-tikv-0",
            "--direction",
            "to",
        ],
    )
    .await
    .ok();
    assert_eq!(forwarded(&env, &mut seen), set(&["basic-pd-0"]));
    // status: no rules, so the one line per pod says "all".
    let run = netem(&env, &["status", "basic-pd-0"]).await.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{run}");
    assert!(lines[0].contains(" TO "), "{run}");
    let cols: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cols[3], "all", "{run}");
    env.cluster.shutdown().await;
}

pub async fn destination_mistakes_change_nothing() {
    let env = cluster().await;
    let mut seen = 0;
    forwarded(&env, &mut seen);
    for (args, why) in [
        (
            &["delay", "basic-pd-0", "20ms", "--to", "nosuch-0"][..],
            "pod nosuch-0 not found in namespace default",
        ),
        (
            &["delay", "basic-pd-0", "20ms", "--direction", "both"],
            "--direction needs destinations",
        ),
        (
            &[
                "delay",
                "basic-pd-0",
                "20ms",
                "--to",
                "basic-tikv-0",
                "--to-port",
                "20160",
                "--direction",
                "both",
            ],
            "--to-port and --to-cidr apply to what the sources send only",
        ),
        (
            &[
                "delay",
                "basic-pd-0",
                "20ms",
                "--to-cidr",
                "10.0.0.0/16",
                "--direction",
                "from",
            ],
            "--to-port and --to-cidr apply to what the sources send only",
        ),
        (
            &[
                "delay",
                "basic-pd-0",
                "20ms",
                "--to",
                "basic-tikv-0",
                "--to-component",
                "tikv",
            ],
            "--to-component and --to-selector narrow tidb-cluster/ and statefulset/ destinations",
        ),
        (
            &["delay", "basic-pd-0", "0", "--to", "basic-tikv-0"],
            "a rule needs an impairment",
        ),
        (
            &[
                "delay",
                "basic-pd-0",
                "20ms",
                "--to-selector",
                "app=nothing",
            ],
            "no pods in namespace default match app=nothing",
        ),
        (
            &["delay", "basic-tidb-0", "20ms", "--to", "basic-tikv-0"],
            "pod basic-tidb-0 has no netem-agent container",
        ),
        (
            &["partition", "basic-pd-0"],
            "partition needs what to cut the targets off from",
        ),
        (
            &["partition", "basic-pd-0", "--from-cidr", "10.0.0.0/16"],
            "--from-port and --from-cidr apply to what the sources send only",
        ),
        (
            &["clear", "--all", "--to", "basic-tikv-0"],
            "--to removes one rule from the pods named",
        ),
    ] {
        let run = netem(&env, args).await.failed();
        assert!(run.stderr.contains(why), "{args:?}: {run}");
        assert!(
            run.stderr.contains("nothing was changed") || args[0] == "clear",
            "{args:?}: {run}"
        );
    }
    assert_eq!(
        forwarded(&env, &mut seen),
        BTreeSet::new(),
        "nothing may be contacted"
    );
    env.cluster.shutdown().await;
}
