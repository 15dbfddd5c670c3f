//! The kubelet side: pods as network namespaces, agent containers as real processes.

pub mod container;
pub mod kubelet;
pub mod netns;
