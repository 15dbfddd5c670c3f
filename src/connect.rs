//! Building a kube client from the kubectl-style connection flags.

use anyhow::Context as _;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cli::ConnectionArgs;

/// A client plus the namespace the command acts in.
#[derive(Clone)]
pub struct Kube {
    /// The API client.
    pub client: kube::Client,
    /// `-n`, else the context's namespace, else "default" (kubectl's rule).
    pub namespace: String,
}

/// Connects as kubectl would: `--kubeconfig`, else `$KUBECONFIG` (merged), else
/// `~/.kube/config`; `--context/--cluster/--user` override the current context.
pub async fn connect(args: &ConnectionArgs) -> anyhow::Result<Kube> {
    let kubeconfig = match &args.kubeconfig {
        Some(path) => Kubeconfig::read_from(path)
            .with_context(|| format!("reading kubeconfig {}", path.display()))?,
        None => Kubeconfig::read().context("reading kubeconfig ($KUBECONFIG or ~/.kube/config)")?,
    };
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .context("loading kubeconfig")?;
    if let Some(limit) = args.request_timeout {
        // kubectl's rule: 0 means no limit.
        let limit = (!limit.is_zero()).then_some(limit);
        config.connect_timeout = limit;
        config.read_timeout = limit;
        config.write_timeout = limit;
    }
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::Client::try_from(config).context("building the API client")?;
    Ok(Kube { client, namespace })
}
