//! `netem-testcluster`: a local sandbox that behaves like a Kubernetes cluster with TiDB
//! Operator (NOT a cluster). Prints the kubeconfig path, runs until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use netem_testcluster::{Cluster, ClusterConfig, basic_tidbcluster, basic_v2_cluster, tidb};

/// Test double of a Kubernetes API server + TiDB Operator + kubelet, pods as network namespaces.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory for the kubeconfig, certificates and per-pod state.
    #[arg(long)]
    dir: PathBuf,
    /// netem-agent binary run for containers named "netem-agent".
    #[arg(long)]
    agent: Option<PathBuf>,
    /// Seed: "basic" (TiDB Operator's basic example: pd, tikv, tidb), "basic-v2" (the same
    /// as TiDB Operator v2 objects: a Cluster "basic" and groups pd, tikv, tidb) or "none".
    #[arg(long, default_value = "basic")]
    scenario: String,
    /// Instead of the scenario: a TidbCluster "basic" with N pods in total, all carrying the
    /// agent already (for benchmarks).
    #[arg(long)]
    pods: Option<u32>,
    /// With --pods: the pods start without the agent (to time `inject`).
    #[arg(long, requires = "pods")]
    no_agents: bool,
    /// Latency added to every API request, e.g. 5ms.
    #[arg(long, default_value = "0", value_parser = parse_latency)]
    latency: Duration,
    /// Extra latency of each port-forward's set-up (API server → kubelet → container
    /// runtime), on top of --latency, e.g. 20ms.
    #[arg(long, default_value = "0", value_parser = parse_latency)]
    kubelet_latency: Duration,
    /// Deny VERB:RESOURCE for the kubeconfig's user, e.g. create:pods/portforward (repeatable).
    #[arg(long)]
    deny: Vec<String>,
    /// Pods without network namespaces (no root needed; agents are not run).
    #[arg(long)]
    no_network: bool,
    /// Namespace of the seeded objects.
    #[arg(long, default_value = "default")]
    namespace: String,
}

fn parse_latency(s: &str) -> Result<Duration, String> {
    netem_testcluster::clock::parse_duration(s)
        .ok_or_else(|| format!("invalid duration {s:?} (e.g. 5ms, 0.2s)"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cfg = ClusterConfig {
        dir: args.dir.clone(),
        agent_bin: args.agent.clone(),
        latency: args.latency,
        network: !args.no_network,
    };
    let cluster = Cluster::start(cfg)
        .await
        .context("starting the test cluster")?;
    cluster.set_kubelet_latency(args.kubelet_latency);
    for d in &args.deny {
        let Some((verb, res)) = d.split_once(':') else {
            bail!("--deny wants VERB:RESOURCE, got {d:?}");
        };
        cluster.deny(verb, res);
    }
    if args.namespace != "default" {
        cluster.add_namespace(&args.namespace, &[]);
    }
    let seed: Vec<serde_json::Value> = match (args.pods, args.scenario.as_str()) {
        (Some(n), _) => vec![tidb::tidbcluster_with_pods(
            &args.namespace,
            "basic",
            n,
            !args.no_agents,
        )],
        (None, "basic") => vec![basic_tidbcluster(&args.namespace, "basic")],
        (None, "basic-v2") => basic_v2_cluster(&args.namespace, "basic"),
        (None, "none") => Vec::new(),
        (None, other) => bail!("unknown scenario {other:?} (basic, basic-v2, none)"),
    };
    let started = std::time::Instant::now();
    let expected: usize = seed
        .iter()
        .map(|obj| match obj["kind"].as_str() {
            Some("TidbCluster") => tidb::components(obj)
                .iter()
                .map(|(_, s)| s["replicas"].as_u64().unwrap_or(1) as usize)
                .sum(),
            // A v2 group's pods; the Cluster has none of its own.
            _ => obj["spec"]["replicas"].as_u64().unwrap_or(0) as usize,
        })
        .sum();
    for obj in seed {
        cluster.create(obj)?;
    }
    eprintln!(
        "netem-testcluster: a local sandbox, not a cluster; API server at {}",
        cluster.server_url()
    );
    println!("{}", cluster.kubeconfig().display());
    let cluster = std::sync::Arc::new(cluster);
    let reporter = (expected > 0).then(|| {
        tokio::spawn(report_ready(
            cluster.clone(),
            args.namespace.clone(),
            expected,
            started,
        ))
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("netem-testcluster: shutting down (stopping pods, deleting namespaces)");
    if let Some(r) = reporter {
        r.abort();
        let _ = r.await;
    }
    match std::sync::Arc::try_unwrap(cluster) {
        Ok(c) => c.shutdown().await,
        Err(_) => bail!("cluster still in use at shutdown"),
    }
    Ok(())
}

/// Print once every seeded pod is Ready (the startup figure of item 7).
async fn report_ready(
    cluster: std::sync::Arc<Cluster>,
    ns: String,
    expected: usize,
    started: std::time::Instant,
) {
    loop {
        let ready = cluster
            .list("v1", "Pod", Some(&ns))
            .iter()
            .filter(|p| {
                p["metadata"]["deletionTimestamp"].is_null()
                    && p["status"]["conditions"].as_array().is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
            })
            .count();
        if ready >= expected {
            eprintln!(
                "netem-testcluster: {ready} pods ready in {:.2}s",
                started.elapsed().as_secs_f64()
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
