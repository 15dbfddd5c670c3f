//! End-to-end tests: the real `kubectl-netem` binary against the project's test cluster
//! (an API server double whose pods are network namespaces running the real agent).
//!
//! They need root (network namespaces); without it each test says so and returns.

mod complete;
mod connection;
mod delay;
mod inject;
mod support;
mod terminal;
