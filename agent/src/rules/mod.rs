//! Per-destination rules as one qdisc tree (see `docs/agent-api.md`, "Rules in the kernel").
//!
//! With no rules the agent keeps the original layout: one root netem with the own handle
//! `4e45:` (or nothing). With rules, the root is a `prio` qdisc with the own handle and
//! [`BANDS`] bands, every priority mapped to band 0 (class `4e45:1`):
//!
//! ```text
//! 4e45: prio bands 15 priomap 0…0            root, the agent's own handle
//! ├── 4e45:1  -> 4e51: netem <default>        all traffic no filter claims (a netem without
//! │                                          impairment when there is no default)
//! ├── 4e45:2  -> 4e52: netem <rule>           one band per rule, 2..=15 (MAX_RULES = 14)
//! ├── …
//! └── filters at 4e45:, flower, one per (network × port × TCP/UDP):
//!     protocol ip|ipv6 pref 2·band(+1 for IPv6) handle N flower dst_ip C [ip_proto P dst_port N]
//!     classid 4e45:band
//! ```
//!
//! `prio`, not `htb`: prio only classifies (no rates to configure, no borrowing), the
//! classic `prio` + `netem` children recipe; a netem child returns nothing until its packets
//! are due, so a delayed band never holds up the others. Bands are fixed (15), so a rule
//! keeps its band, and class, leaf and filter priorities, for its life: changing one rule
//! changes its leaf netem in place and swaps its filters (new ones added before old ones are
//! deleted) and touches no other band. Where destinations overlap, the rule in the lower
//! band wins (lower `pref`).
//!
//! [`tree`] reads the kernel's qdiscs and filters back into a [`Tree`] and plans the netlink
//! operations ([`Op`]) from what is there to what is wanted; [`apply`] runs them, and on a
//! failure plans and runs the way back to the previous tree, so a failed change never
//! leaves a half-built one.

use std::collections::BTreeSet;

use crate::netlink::flower::{L4, Match};
use netem_api::rules::{Cidr, Destination};
use netem_api::spec::NetemSpec;

pub mod apply;
pub mod tree;

pub use tree::{Seen, plan};

/// The agent's own handle (root qdisc), as in [`crate::agent::OWN_HANDLE`].
pub const OWN: u32 = 0x4e45_0000;

/// Bands of the root prio: the default's and one per rule.
pub const BANDS: u32 = 1 + netem_api::rules::MAX_RULES as u32;

/// The default's band (class `4e45:1`).
pub const DEFAULT_BAND: u32 = 1;

/// The class of a band: `4e45:band`.
pub fn classid(band: u32) -> u32 {
    OWN | band
}

/// The handle of the netem in a band: `4e5X:` (`4e51:` for band 1 … `4e5f:` for 15).
pub fn leaf_handle(band: u32) -> u32 {
    (0x4e50 + band) << 16
}

/// The filter priority of a band's filters, per family.
pub fn pref(band: u32, v6: bool) -> u16 {
    u16::try_from(band * 2 + u32::from(v6)).unwrap_or(u16::MAX)
}

/// The band a filter priority belongs to.
pub fn band_of_pref(pref: u16) -> u32 {
    u32::from(pref) / 2
}

/// The kernel matches (flower filters) of a destination: each network (or any address,
/// IPv4 and IPv6, when none is given) × each port as TCP and UDP (or every port).
pub fn matches_of(to: &Destination) -> BTreeSet<Match> {
    let nets: Vec<(bool, Option<Cidr>)> = if to.cidrs.is_empty() {
        vec![(false, None), (true, None)]
    } else {
        to.cidrs
            .iter()
            .map(|c| (c.addr.is_ipv6(), Some(*c)))
            .collect()
    };
    let ports: Vec<Option<(L4, u16)>> = if to.ports.is_empty() {
        vec![None]
    } else {
        to.ports
            .iter()
            .flat_map(|&p| [Some((L4::Tcp, p)), Some((L4::Udp, p))])
            .collect()
    };
    let mut out = BTreeSet::new();
    for (v6, cidr) in &nets {
        for port in &ports {
            out.insert(Match {
                v6: *v6,
                cidr: *cidr,
                port: *port,
            });
        }
    }
    out
}

/// The destination the kernel's matches amount to: their networks and ports, sorted.
pub fn destination_of<'a>(matches: impl IntoIterator<Item = &'a Match>) -> Destination {
    let mut cidrs = BTreeSet::new();
    let mut ports = BTreeSet::new();
    for m in matches {
        cidrs.extend(m.cidr);
        ports.extend(m.port.map(|(_, p)| p));
    }
    Destination {
        cidrs: cidrs.into_iter().collect(),
        ports: ports.into_iter().collect(),
    }
}

/// One band of a wanted tree: its netem (as requested: with distribution) and matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// The band's netem settings.
    pub netem: NetemSpec,
    /// What the band's filters match.
    pub matches: BTreeSet<Match>,
}

/// A qdisc tree as the agent wants it (or reads it back): the default, and rules by band.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree {
    /// The default netem (all traffic no rule claims); `None`: none.
    pub default: Option<NetemSpec>,
    /// The rules' bands, 2..=[`BANDS`].
    pub bands: std::collections::BTreeMap<u32, Band>,
}

/// One netlink operation on the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Delete the root qdisc (this handle and kind).
    DeleteRoot {
        /// Its handle.
        handle: u32,
        /// Its kind.
        kind: String,
    },
    /// Create or replace the root netem (own handle).
    RootNetem(NetemSpec),
    /// Create or replace the root prio (own handle, [`BANDS`] bands).
    RootPrio,
    /// Create or change a band's netem.
    Leaf {
        /// The band.
        band: u32,
        /// Its settings.
        netem: NetemSpec,
    },
    /// Delete a band's qdisc (this handle and kind).
    DeleteLeaf {
        /// The band.
        band: u32,
        /// The qdisc's handle.
        handle: u32,
        /// Its kind.
        kind: String,
    },
    /// Add a filter into a band.
    AddFilter {
        /// The band it classifies into.
        band: u32,
        /// Its handle.
        handle: u32,
        /// What it matches.
        m: Match,
    },
    /// Delete a filter.
    DeleteFilter {
        /// Its priority.
        pref: u16,
        /// Its ethertype.
        eth_type: u16,
        /// Its handle.
        handle: u32,
    },
}

impl Op {
    /// The kernel module an operation needs, named when the kernel lacks it.
    pub fn module(&self) -> &'static str {
        match self {
            Op::RootPrio => "sch_prio",
            Op::AddFilter { .. } | Op::DeleteFilter { .. } => "cls_flower",
            _ => "sch_netem",
        }
    }
}

#[cfg(test)]
mod tests;
