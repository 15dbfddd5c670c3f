//! Test double of a Kubernetes API server with TiDB Operator and a kubelet, for kubectl-netem's
//! end-to-end tests, benchmarks and demo (issue 3). Not a cluster: a local sandbox that
//! behaves like one where the plugin can tell.
//!
//! - HTTPS with a generated CA, bearer-token auth, a kubeconfig ([`Cluster::kubeconfig`]).
//! - Legacy discovery; namespaces, pods, statefulsets (apps/v1), tidbclusters
//!   (pingcap.com/v1alpha1, short name `tc`): get, list (label/field selectors, Tables for
//!   kubectl), watch, create, update, patch (json, merge, strategic for built-ins; apply for
//!   tidbclusters), delete; dry run; resourceVersion preconditions; real Status bodies.
//! - `pods/ephemeralcontainers` with the real server's rules (only new, valid entries).
//! - Controllers: TidbCluster → StatefulSets → pods, rolling one pod at a time; TiDB
//!   Operator v2 (core.pingcap.com): groups → instances → pods, overlay merged, one at a time.
//! - Pods are network namespaces on a per-cluster bridge; `netem-agent` containers run the
//!   real agent inside them (ephemeral agents too, never restarted); `pods/portforward` dials
//!   inside the pod's namespace.

pub mod api;
pub mod clock;
pub mod cluster;
pub mod controllers;
pub mod kubeconfig;
pub mod patch;
pub mod pods;
pub mod portforward;
pub mod resources;
pub mod selector;
pub mod server;
pub mod state;
pub mod status;
pub mod store;
pub mod testing;
pub mod tidb;
pub mod tls;
pub mod v2;
pub mod validate;

pub use cluster::{Cluster, ClusterConfig};
pub use state::RequestRecord;
pub use tidb::basic_tidbcluster;
pub use v2::{basic_v2_cluster, v2_cluster_with_agents};
