//! netem settings shared by the plugin and the agent.
//!
//! Without the `server` feature this crate is only [`spec`] (the netem settings, their
//! spellings and validation) and [`api`] (the agent's HTTP JSON bodies), using serde alone.
//! With it, it also holds the agent itself: netem encoding ([`netem`]), netlink I/O
//! ([`netlink`]), the agent's operations ([`agent`]) and the HTTP server ([`server`]).

pub mod api;
pub mod spec;

#[cfg(feature = "server")]
pub mod agent;
#[cfg(feature = "server")]
pub mod clock;
#[cfg(feature = "server")]
pub mod health;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
#[doc(hidden)]
pub mod log;
#[cfg(feature = "server")]
pub mod netem;
#[cfg(feature = "server")]
pub mod netlink;
#[cfg(feature = "server")]
pub mod nla;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod state_file;
