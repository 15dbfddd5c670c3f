//! The contract between `kubectl-netem`, its agent and the test cluster, in one place:
//!
//! - [`spec`]: netem settings (`NetemSpec`), their spellings, parsing and validation;
//! - [`wire`]: the agent's HTTP API (port, paths, JSON bodies), and [`rules`]: its
//!   per-destination rules;
//! - [`contract`]: how the agent is deployed in a pod (container, volume, listen address,
//!   binary and state-file paths, default image).
//!
//! It depends on serde alone, so the plugin does not build the agent (netlink, server) and
//! the agent does not build the plugin's Kubernetes client.

pub mod contract;
pub mod rules;
pub mod spec;
pub mod wire;
