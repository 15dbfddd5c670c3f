//! What a command acts on: `tidb-cluster/basic`, `sts/web`, `pod/basic-pd-0` or a bare pod
//! name; for TiDB Operator v2, `cluster/basic` or one group (`pdgroup/pd`, `kvg/tikv`).

use std::fmt;

use crate::v2;

/// A parsed command-line target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A TidbCluster (`pingcap.com/v1alpha1`) by name.
    TidbCluster(String),
    /// An apps/v1 StatefulSet by name.
    StatefulSet(String),
    /// A single pod by name.
    Pod(String),
    /// A TiDB Operator v2 cluster or group.
    V2(V2Target),
}

/// A TiDB Operator v2 (`core.pingcap.com/v1alpha1`) target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V2Target {
    /// `cluster/NAME`: every group whose `spec.cluster.name` is NAME.
    Cluster(String),
    /// One group: `pdgroup/NAME`, `kvg/NAME`, … The kind is resolved by discovery.
    Group {
        /// The kind as typed, lowercased (`pdgroup`, `pdgroups`, `pdg`).
        kind: String,
        /// The group's name.
        name: String,
    },
}

impl fmt::Display for V2Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            V2Target::Cluster(n) => write!(f, "cluster/{n}"),
            V2Target::Group { kind, name } => write!(f, "{kind}/{name}"),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::TidbCluster(n) => write!(f, "tidbcluster/{n}"),
            Target::StatefulSet(n) => write!(f, "statefulset/{n}"),
            Target::Pod(n) => write!(f, "pod/{n}"),
            Target::V2(t) => t.fmt(f),
        }
    }
}

/// What `inject` and `eject` edit: the pod template of a TidbCluster or a StatefulSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkloadTarget {
    /// `tidb-cluster/NAME` (or `tc/`, `tidbcluster/`).
    TidbCluster(String),
    /// `statefulset/NAME` (or `sts/`).
    StatefulSet(String),
    /// A bare `NAME`: a TidbCluster if there is one, else a StatefulSet (with
    /// `--ephemeral`: a pod, as for delay).
    Either(String),
    /// A TiDB Operator v2 cluster or group: the groups' pod overlays.
    V2(V2Target),
    /// `pod/NAME`: only with `--ephemeral` (a pod template is what the others edit).
    Pod(String),
}

impl WorkloadTarget {
    /// The target as the pod grammar of delay/clear/status reads it (`--ephemeral`, which
    /// acts on running pods): a bare name is a pod.
    pub fn as_pods(&self) -> Target {
        match self {
            WorkloadTarget::TidbCluster(n) => Target::TidbCluster(n.clone()),
            WorkloadTarget::StatefulSet(n) => Target::StatefulSet(n.clone()),
            WorkloadTarget::Either(n) | WorkloadTarget::Pod(n) => Target::Pod(n.clone()),
            WorkloadTarget::V2(v2) => Target::V2(v2.clone()),
        }
    }
}

/// Parses an `inject`/`eject` target. Pods are refused: the agent goes into a template.
///
/// Used as a clap value parser, so a bad target fails before anything is contacted.
pub fn parse_workload(s: &str) -> Result<WorkloadTarget, String> {
    Ok(match parse_target(s)? {
        Target::TidbCluster(name) => WorkloadTarget::TidbCluster(name),
        Target::StatefulSet(name) => WorkloadTarget::StatefulSet(name),
        Target::V2(t) => WorkloadTarget::V2(t),
        Target::Pod(name) if !s.contains('/') => WorkloadTarget::Either(name),
        Target::Pod(name) => WorkloadTarget::Pod(name),
    })
}

/// Parses `KIND/NAME` or a bare `NAME` (a pod), accepting kubectl's spellings of the kinds.
///
/// Used as a clap value parser, so a bad target fails before anything is contacted.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let (kind, name) = match s.split_once('/') {
        Some((kind, name)) => (Some(kind), name),
        None => (None, s),
    };
    if !is_dns_subdomain(name) {
        return Err(format!(
            "{name:?} is not a valid object name (lowercase letters, digits, '-' and '.', at most 253 characters)"
        ));
    }
    let name = name.to_string();
    match kind.map(str::to_ascii_lowercase).as_deref() {
        None | Some("pod" | "pods" | "po") => Ok(Target::Pod(name)),
        Some(
            "tidb-cluster" | "tidbcluster" | "tidbclusters" | "tc" | "tidbclusters.pingcap.com",
        ) => Ok(Target::TidbCluster(name)),
        Some("statefulset" | "statefulsets" | "sts" | "statefulsets.apps") => {
            Ok(Target::StatefulSet(name))
        }
        Some(word) if v2::is_cluster_word(word) => Ok(Target::V2(V2Target::Cluster(name))),
        Some(word) if v2::may_be_group_word(word) => Ok(Target::V2(V2Target::Group {
            kind: word.to_string(),
            name,
        })),
        Some(other) => Err(format!(
            "unknown kind {other:?}: use tidb-cluster/NAME (tc/NAME), statefulset/NAME (sts/NAME), pod/NAME, \
             or for TiDB Operator v2 cluster/NAME or a group (pdgroup/NAME, tikvgroup/NAME, ...)"
        )),
    }
}

/// RFC 1123 DNS subdomain, the rule for pod, StatefulSet and TidbCluster names.
fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_spellings() {
        assert_eq!(
            parse_target("basic-pd-0"),
            Ok(Target::Pod("basic-pd-0".into()))
        );
        assert_eq!(
            parse_target("pod/basic-pd-0"),
            Ok(Target::Pod("basic-pd-0".into()))
        );
        for k in ["tidb-cluster", "tc", "tidbcluster", "TidbCluster"] {
            assert_eq!(
                parse_target(&format!("{k}/basic")),
                Ok(Target::TidbCluster("basic".into()))
            );
        }
        for k in ["statefulset", "sts"] {
            assert_eq!(
                parse_target(&format!("{k}/web")),
                Ok(Target::StatefulSet("web".into()))
            );
        }
    }

    #[test]
    fn workload_targets() {
        let w = |s| parse_workload(s);
        assert_eq!(
            w("tc/basic"),
            Ok(WorkloadTarget::TidbCluster("basic".into()))
        );
        assert_eq!(
            w("tidb-cluster/basic"),
            Ok(WorkloadTarget::TidbCluster("basic".into()))
        );
        assert_eq!(w("sts/web"), Ok(WorkloadTarget::StatefulSet("web".into())));
        assert_eq!(w("basic"), Ok(WorkloadTarget::Either("basic".into())));
        assert_eq!(
            w("pod/basic-pd-0"),
            Ok(WorkloadTarget::Pod("basic-pd-0".into()))
        );
        assert_eq!(
            w("basic-pd-0").unwrap().as_pods(),
            Target::Pod("basic-pd-0".into())
        );
        assert!(w("deploy/x").is_err());
        assert_eq!(
            w("cluster/basic"),
            Ok(WorkloadTarget::V2(V2Target::Cluster("basic".into())))
        );
    }

    #[test]
    fn v2_targets() {
        assert_eq!(
            parse_target("cluster/basic"),
            Ok(Target::V2(V2Target::Cluster("basic".into())))
        );
        for k in [
            "pdgroup",
            "PDGroup",
            "pdgroups",
            "pdg",
            "tsogroup",
            "pdgroups.core.pingcap.com",
        ] {
            let t = parse_target(&format!("{k}/pd")).unwrap();
            assert_eq!(
                t,
                Target::V2(V2Target::Group {
                    kind: k.to_ascii_lowercase(),
                    name: "pd".into()
                })
            );
        }
        assert_eq!(parse_target("kvg/tikv").unwrap().to_string(), "kvg/tikv");
        // v1 spellings stay v1.
        assert_eq!(
            parse_target("tc/basic"),
            Ok(Target::TidbCluster("basic".into()))
        );
    }

    #[test]
    fn bad_targets_are_refused() {
        assert!(
            parse_target("deployment/web")
                .unwrap_err()
                .contains("unknown kind")
        );
        assert!(parse_target("tc/").is_err());
        assert!(parse_target("Basic").is_err());
        assert!(parse_target("tc/a/b").is_err());
        assert!(parse_target("-x").is_err());
    }

    mod no_panic {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn targets_parse_or_fail_on_one_line(s in prop_oneof![
                any::<String>(),
                "[A-Za-z.-]{0,14}/?[a-z0-9.-]{0,20}(/[a-z]{0,3})?",
            ]) {
                for e in [parse_target(&s).err(), parse_workload(&s).err()].into_iter().flatten() {
                    prop_assert!(!e.contains('\n'), "{e}");
                }
                if let Ok(t) = parse_target(&s) {
                    // What parses prints back as a target that parses the same.
                    prop_assert_eq!(parse_target(&t.to_string()), Ok(t));
                }
            }
        }
    }
}
