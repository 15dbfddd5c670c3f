//! Reading the kubeconfig and picking its context, cluster and user as kubectl does,
//! with the command line's overrides applied (client-go's `DirectClientConfig`).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use kube::config::{AuthInfo, Cluster, Context, Kubeconfig};
use secrecy::SecretString;

use crate::cli::ConnectionArgs;

/// The entries the command connects with, overrides applied.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The cluster entry (`--server`, `--certificate-authority`,
    /// `--insecure-skip-tls-verify` applied).
    pub cluster: Cluster,
    /// The user entry (`--token`, `--as`, `--as-group` applied).
    pub user: AuthInfo,
    /// The context's namespace, if it has one.
    pub namespace: Option<String>,
}

/// Why a name given on the command line (or the current context) picks nothing; worded
/// as kubectl 1.32 words it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectError {
    /// `--context` (or `current-context`) names no context.
    #[error("context was not found for specified context: {0}")]
    Context(String),
    /// `--user` names no user.
    #[error("auth info {0:?} does not exist")]
    User(String),
    /// The cluster is missing, or has no server (and no `--server` was given).
    #[error("no server found for cluster {0:?}")]
    Cluster(String),
    /// Neither a context nor `--server`.
    #[error(
        "no configuration has been provided: no current context in the kubeconfig (use --context, or --server)"
    )]
    Nothing,
}

/// Reads the kubeconfig: `--kubeconfig`, else the files in `$KUBECONFIG` (merged, the
/// first file winning, missing files skipped), else `~/.kube/config`. None when there is
/// none at all (kubectl then still works with `--server`).
pub fn read(explicit: Option<&Path>) -> anyhow::Result<Option<Kubeconfig>> {
    if let Some(path) = explicit {
        return read_file(path).map(Some);
    }
    let mut merged: Option<Kubeconfig> = None;
    if let Some(list) = std::env::var_os("KUBECONFIG") {
        for path in std::env::split_paths(&list).filter(|p| p.is_file()) {
            let next = read_file(&path)?;
            merged = Some(match merged {
                None => next,
                Some(m) => m
                    .merge(next)
                    .with_context(|| format!("merging kubeconfig {}", path.display()))?,
            });
        }
        if merged.is_some() {
            return Ok(merged);
        }
    }
    match home_config() {
        Some(path) if path.is_file() => read_file(&path).map(Some),
        _ => Ok(None),
    }
}

fn home_config() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube").join("config"))
}

fn read_file(path: &Path) -> anyhow::Result<Kubeconfig> {
    // The error keeps kube's KubeconfigError as its source; errors::render words it
    // without ever quoting the file's content.
    Kubeconfig::read_from(path).with_context(|| format!("reading kubeconfig {}", path.display()))
}

/// Picks the context, cluster and user (kubectl's order of checks: user, context, cluster)
/// and applies the overrides.
pub fn select(config: &Kubeconfig, args: &ConnectionArgs) -> Result<Selected, SelectError> {
    let context_name = args.context.clone().or(config.current_context.clone());
    let context = match &context_name {
        Some(name) if !name.is_empty() => Some(
            config
                .contexts
                .iter()
                .find(|c| &c.name == name)
                .map(|c| c.context.clone().unwrap_or_default())
                .ok_or_else(|| SelectError::Context(name.clone())),
        ),
        _ => None,
    };
    let user_name = args
        .user
        .clone()
        .or_else(|| context.as_ref()?.as_ref().ok()?.user.clone());
    let mut user = match user_name.as_deref() {
        Some(name) => match config.auth_infos.iter().find(|u| u.name == name) {
            Some(found) => found.auth_info.clone().unwrap_or_default(),
            // kubectl: a --user that names nobody is an error; a context's user that names
            // nobody means no credentials (client-go's rule; kube-rs follows it too).
            None if args.user.is_some() => return Err(SelectError::User(name.to_string())),
            None => AuthInfo::default(),
        },
        None => AuthInfo::default(),
    };
    let context: Context = match context {
        Some(found) => found?,
        None if args.server.is_some() => Context::default(),
        None => return Err(SelectError::Nothing),
    };
    let cluster_name = args.cluster.clone().unwrap_or(context.cluster.clone());
    let mut cluster = match config.clusters.iter().find(|c| c.name == cluster_name) {
        Some(found) => found.cluster.clone().unwrap_or_default(),
        None if args.cluster.is_some() => return Err(SelectError::Cluster(cluster_name)),
        None => Cluster::default(),
    };

    override_cluster(&mut cluster, args);
    if cluster.server.as_deref().is_none_or(str::is_empty) {
        return Err(SelectError::Cluster(cluster_name));
    }
    override_user(&mut user, args);
    Ok(Selected {
        cluster,
        user,
        namespace: context.namespace.clone().filter(|n| !n.is_empty()),
    })
}

/// `--server`, `--certificate-authority`, `--insecure-skip-tls-verify` (client-go's
/// `getCluster`: a CA or insecure override replaces the kubeconfig's CA and insecure
/// settings together; `--server` drops the kubeconfig's `tls-server-name`).
fn override_cluster(cluster: &mut Cluster, args: &ConnectionArgs) {
    if let Some(server) = &args.server {
        // As typed, less the "/" http::Uri adds to a bare authority.
        cluster.server = Some(server.to_string().trim_end_matches('/').to_string());
        cluster.tls_server_name = None;
    }
    if args.insecure_skip_tls_verify || args.certificate_authority.is_some() {
        cluster.insecure_skip_tls_verify = Some(args.insecure_skip_tls_verify);
        cluster.certificate_authority = args
            .certificate_authority
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        cluster.certificate_authority_data = None;
    }
}

/// `--token` replaces the user's other ways of getting a token or password (client-go sends
/// the token and skips an exec plugin then; a client certificate still goes with it);
/// `--as`/`--as-group` set the impersonation.
fn override_user(user: &mut AuthInfo, args: &ConnectionArgs) {
    if let Some(token) = &args.token {
        user.token = Some(SecretString::from(token.0.clone()));
        user.token_file = None;
        user.exec = None;
        user.auth_provider = None;
        user.username = None;
        user.password = None;
    }
    if let Some(who) = &args.impersonate {
        user.impersonate = Some(who.clone());
    }
    if !args.impersonate_groups.is_empty() {
        user.impersonate_groups = Some(args.impersonate_groups.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::values::Secret;
    use secrecy::ExposeSecret as _;

    const CONFIG: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://c.example:6443", certificate-authority-data: "Q0E=", tls-server-name: n}
- name: empty
  cluster: {}
users:
- name: u
  user:
    exec: {command: plugin, apiVersion: client.authentication.k8s.io/v1}
contexts:
- name: x
  context: {cluster: c, user: u, namespace: ns}
- name: lost
  context: {cluster: gone, user: nobody}
current-context: x
"#;

    fn cfg() -> Kubeconfig {
        Kubeconfig::from_yaml(CONFIG).unwrap()
    }

    #[test]
    fn unknown_names_are_errors_worded_as_kubectl() {
        let args = |f: fn(&mut ConnectionArgs)| {
            let mut a = ConnectionArgs::default();
            f(&mut a);
            a
        };
        let err = |a| select(&cfg(), &a).unwrap_err().to_string();
        assert_eq!(
            err(args(|a| a.context = Some("nosuch".into()))),
            "context was not found for specified context: nosuch"
        );
        assert_eq!(
            err(args(|a| a.user = Some("nosuch".into()))),
            "auth info \"nosuch\" does not exist"
        );
        assert_eq!(
            err(args(|a| a.cluster = Some("nosuch".into()))),
            "no server found for cluster \"nosuch\""
        );
        assert_eq!(
            err(args(|a| a.cluster = Some("empty".into()))),
            "no server found for cluster \"empty\""
        );
        // A context whose cluster is gone: no server, as in kubectl.
        assert_eq!(
            err(args(|a| a.context = Some("lost".into()))),
            "no server found for cluster \"gone\""
        );
        // ... unless --server says where; its user naming nobody means no credentials.
        let sel = select(
            &cfg(),
            &args(|a| {
                a.context = Some("lost".into());
                a.server = Some("https://s:1".parse().unwrap());
            }),
        )
        .unwrap();
        assert!(sel.user.exec.is_none() && sel.user.token.is_none());
    }

    #[test]
    fn overrides_like_client_go() {
        let sel = select(&cfg(), &ConnectionArgs::default()).unwrap();
        assert_eq!(sel.namespace.as_deref(), Some("ns"));
        assert!(sel.user.exec.is_some());
        assert_eq!(sel.cluster.tls_server_name.as_deref(), Some("n"));

        let args = ConnectionArgs {
            server: Some("https://other:443".parse().unwrap()),
            insecure_skip_tls_verify: true,
            token: Some(Secret("t0k".into())),
            impersonate: Some("jane".into()),
            impersonate_groups: vec!["g1".into(), "g2".into()],
            ..ConnectionArgs::default()
        };
        let sel = select(&cfg(), &args).unwrap();
        assert_eq!(sel.cluster.server.as_deref(), Some("https://other:443"));
        assert_eq!(sel.cluster.tls_server_name, None);
        assert_eq!(sel.cluster.certificate_authority_data, None);
        assert_eq!(sel.cluster.insecure_skip_tls_verify, Some(true));
        assert!(sel.user.exec.is_none());
        assert_eq!(
            sel.user
                .token
                .as_ref()
                .map(|t| t.expose_secret().to_string()),
            Some("t0k".into())
        );
        assert_eq!(sel.user.impersonate.as_deref(), Some("jane"));
        assert_eq!(
            sel.user.impersonate_groups,
            Some(vec!["g1".into(), "g2".into()])
        );

        let args = ConnectionArgs {
            certificate_authority: Some("/ca.pem".into()),
            ..ConnectionArgs::default()
        };
        let sel = select(&cfg(), &args).unwrap();
        assert_eq!(
            sel.cluster.certificate_authority.as_deref(),
            Some("/ca.pem")
        );
        assert_eq!(sel.cluster.certificate_authority_data, None);
        assert_eq!(sel.cluster.insecure_skip_tls_verify, Some(false));
    }
}
