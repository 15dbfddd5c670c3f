//! netem settings shared by the plugin and the agent.
//!
//! Without the `server` feature this crate is only [`spec`] (the netem settings, their
//! spellings and validation) and [`api`] (the agent's HTTP JSON bodies), using serde alone.
//! With it, it also holds the agent itself: netem encoding, netlink I/O and the HTTP server.

pub mod api;
pub mod spec;

#[cfg(feature = "server")]
pub mod netem;
#[cfg(feature = "server")]
pub mod nla;
