//! Building a kube client from the kubectl-style connection flags.

use anyhow::Context as _;
use base64::Engine as _;
use kube::config::{Cluster, ExecAuthCluster};

use crate::cli::ConnectionArgs;
use crate::errors;

pub mod kubeconfig;
pub mod proxy;

/// A client plus the namespace the command acts in.
#[derive(Clone)]
pub struct Kube {
    /// The API client.
    pub client: kube::Client,
    /// `-n`, else the context's namespace, else "default" (kubectl's rule).
    pub namespace: String,
}

/// Connects as kubectl would: `--kubeconfig`, else `$KUBECONFIG` (merged), else
/// `~/.kube/config`; `--context/--cluster/--user` pick its entries, `--server`, `--token`,
/// `--as`, ... override them; the proxy is chosen as kubectl chooses it.
pub async fn connect(args: &ConnectionArgs) -> anyhow::Result<Kube> {
    if let Some(token) = &args.token {
        errors::remember_secret(&token.0);
    }
    let config = kubeconfig::read(args.kubeconfig.as_deref())?.unwrap_or_default();
    errors::remember_kubeconfig_secrets(&config);
    let mut selected = kubeconfig::select(&config, args)?;

    let server_text = selected.cluster.server.clone().unwrap_or_default();
    let server: hyper::Uri = server_text
        .parse()
        .map_err(|_| anyhow::anyhow!("the cluster's server {server_text:?} is not a URL"))?;
    let proxy = proxy::choose(
        &server,
        selected.cluster.proxy_url.as_deref(),
        &proxy::ProxyEnv::from_env(),
    )?;
    if let Some(exec) = selected.user.exec.as_mut()
        && exec.provide_cluster_info
    {
        exec.cluster = Some(
            ExecAuthCluster::try_from(&selected.cluster)
                .context("loading the cluster's certificate authority")?,
        );
    }
    errors::remember_connection(errors::Connection {
        server: server_text,
        proxy: proxy.as_ref().map(|p| format!("{p} (from {})", p.source)),
        exec_command: selected.user.exec.as_ref().and_then(|e| e.command.clone()),
    });

    let mut config = kube::Config::new(server);
    config.root_cert = certificate_authority(&selected.cluster)?;
    config.accept_invalid_certs = selected.cluster.insecure_skip_tls_verify.unwrap_or(false);
    config.disable_compression = selected.cluster.disable_compression.unwrap_or(false);
    config.tls_server_name = selected.cluster.tls_server_name.clone();
    config.proxy_url = proxy.map(|p| p.url);
    config.auth_info = selected.user;
    config.default_namespace = selected.namespace.unwrap_or_else(|| "default".into());
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

/// The cluster's CA certificates (DER), from `certificate-authority-data` or the
/// `certificate-authority` file (made absolute by kube when the kubeconfig was read).
fn certificate_authority(cluster: &Cluster) -> anyhow::Result<Option<Vec<Vec<u8>>>> {
    let (pem, what) = if let Some(data) = &cluster.certificate_authority_data {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .context("the cluster's certificate-authority-data is not valid base64")?;
        (
            bytes,
            "the cluster's certificate-authority-data".to_string(),
        )
    } else if let Some(path) = &cluster.certificate_authority {
        let bytes =
            std::fs::read(path).with_context(|| format!("reading certificate authority {path}"))?;
        (bytes, format!("certificate authority {path}"))
    } else {
        return Ok(None);
    };
    let certs: Vec<Vec<u8>> = pem::parse_many(&pem)
        .map_err(|_| anyhow::anyhow!("{what} is not PEM"))?
        .into_iter()
        .filter(|block| block.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    anyhow::ensure!(!certs.is_empty(), "{what} holds no PEM certificate");
    Ok(Some(certs))
}
