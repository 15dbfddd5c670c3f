//! The netem agent: netem encoding ([`netem`]), netlink I/O ([`netlink`]), the rule tree
//! ([`rules`]: prio, a netem per rule, flower filters; planned and applied all or nothing),
//! the agent's operations ([`agent`]) and the HTTP server ([`server`]). What it shares with
//! the plugin (netem settings, the HTTP JSON, rules, the deployment contract) is the
//! `netem-api` crate.

pub mod agent;
pub mod clock;
pub mod conns;
pub mod health;
pub mod http;
#[doc(hidden)]
pub mod log;
pub mod netem;
pub mod netlink;
pub mod nla;
pub mod rules;
pub mod server;
pub mod state_file;
pub mod watchdog;
