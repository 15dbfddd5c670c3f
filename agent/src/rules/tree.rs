//! What the kernel has ([`Seen`], read from qdisc and filter dumps), the [`Tree`] it amounts
//! to, and the plan from one to a wanted tree ([`plan`]).

use std::collections::{BTreeMap, BTreeSet};

use super::{BANDS, Band, DEFAULT_BAND, OWN, Op, Tree, band_of_pref, classid, pref};
use crate::netem;
use crate::netlink::TC_H_ROOT;
use crate::netlink::flower::Filter;
use crate::netlink::msg::Qdisc;
use netem_api::spec::NetemSpec;

/// The qdiscs and filters of the agent's interface, as dumped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seen {
    /// The root qdisc; `None` when there is none or it is the kernel's default (handle 0).
    pub root: Option<Qdisc>,
    /// The qdiscs in the own prio's bands, by band.
    pub leaves: BTreeMap<u32, Qdisc>,
    /// The filters attached to the own prio (only read when the root is the own prio).
    pub filters: Vec<Filter>,
}

/// The netem settings of a qdisc, if it is a netem whose options decode.
pub fn netem_of(q: &Qdisc) -> Option<NetemSpec> {
    (q.kind == "netem")
        .then(|| {
            q.options
                .as_deref()
                .and_then(|o| netem::decode_options(o).ok())
        })
        .flatten()
        .map(|d| d.spec)
}

impl Seen {
    /// Builds the view of `ifindex` from a dump of all qdiscs and one of the filters under
    /// the own handle (announcements without a handle are skipped).
    pub fn new(ifindex: u32, qdiscs: Vec<Qdisc>, filters: Vec<Filter>) -> Seen {
        let mut seen = Seen::default();
        for q in qdiscs.into_iter().filter(|q| q.ifindex == ifindex) {
            if q.parent == TC_H_ROOT {
                if q.handle != 0 {
                    seen.root = Some(q);
                }
            } else if q.parent & 0xffff_0000 == OWN && (1..=BANDS).contains(&(q.parent & 0xffff)) {
                seen.leaves.insert(q.parent & 0xffff, q);
            }
        }
        if !seen.is_own_prio() {
            seen.leaves.clear();
        } else {
            seen.filters = filters
                .into_iter()
                .filter(|f| f.ifindex == ifindex && f.handle != 0 && f.parent == OWN)
                .collect();
        }
        seen
    }

    /// The root is the agent's prio (handle `4e45:`).
    pub fn is_own_prio(&self) -> bool {
        self.root
            .as_ref()
            .is_some_and(|q| q.kind == "prio" && q.handle == OWN)
    }

    /// The root is a netem (anyone's).
    pub fn is_netem(&self) -> bool {
        self.root.as_ref().is_some_and(|q| q.kind == "netem")
    }

    /// A root qdisc someone else configured: not netem, not the own prio.
    pub fn foreign(&self) -> Option<&Qdisc> {
        self.root
            .as_ref()
            .filter(|_| !self.is_netem() && !self.is_own_prio())
    }

    /// The filters classifying into `band`.
    pub fn filters_of(&self, band: u32) -> impl Iterator<Item = &Filter> {
        self.filters
            .iter()
            .filter(move |f| f.classid == Some(classid(band)))
    }

    /// What the kernel has, as a tree (netem settings as the kernel reports them: no
    /// distribution). A foreign root is an empty tree.
    pub fn tree(&self) -> Tree {
        if self.is_netem() {
            return Tree {
                default: self.root.as_ref().and_then(netem_of),
                bands: BTreeMap::new(),
            };
        }
        if !self.is_own_prio() {
            return Tree::default();
        }
        let default = self
            .leaves
            .get(&DEFAULT_BAND)
            .and_then(netem_of)
            .filter(|s| !s.is_noop());
        let mut bands = BTreeMap::new();
        for band in 2..=BANDS {
            let leaf = self.leaves.get(&band).and_then(netem_of);
            let matches: BTreeSet<_> = self.filters_of(band).filter_map(|f| f.matches).collect();
            if leaf.is_none() && self.filters_of(band).next().is_none() {
                continue;
            }
            bands.insert(
                band,
                Band {
                    netem: leaf.unwrap_or_default(),
                    matches,
                },
            );
        }
        Tree { default, bands }
    }
}

/// Whether a qdisc holds exactly `want` (as the kernel reports it).
fn holds(q: Option<&Qdisc>, want: &NetemSpec) -> bool {
    q.and_then(netem_of)
        .is_some_and(|have| have == netem::kernel_view(want))
}

/// The operations that take the kernel from `seen` to `want`. Bands in `rewrite` (and the
/// default, as band 1) get their netem set even when the kernel already reports the same
/// settings (the distribution table is not reported, so it may differ).
///
/// Order, so that other rules stay in force throughout: the root only when its shape
/// changes (none ↔ netem ↔ prio); then every band's netem that is new or changed; then the
/// filters that are missing; then the filters that are no longer wanted; then the netem of
/// bands no longer wanted. Filters already right are left alone.
pub fn plan(seen: &Seen, want: &Tree, rewrite: &BTreeSet<u32>) -> Vec<Op> {
    let mut ops = Vec::new();
    let own_handle_root = seen.root.as_ref().filter(|q| q.handle == OWN);
    if want.bands.is_empty() {
        match &want.default {
            // Only the agent's kind of root goes: someone else's is never removed here (a
            // forced clear removes it directly), so putting "nothing" back after a failed
            // forced replacement leaves it in place.
            None => {
                if let Some(q) = seen.root.as_ref().filter(|_| seen.foreign().is_none()) {
                    ops.push(Op::DeleteRoot {
                        handle: q.handle,
                        kind: q.kind.clone(),
                    });
                }
            }
            Some(spec) => {
                // The same handle cannot change kind in place: delete a prio first.
                if let Some(q) = own_handle_root.filter(|q| q.kind != "netem") {
                    ops.push(Op::DeleteRoot {
                        handle: q.handle,
                        kind: q.kind.clone(),
                    });
                    ops.push(Op::RootNetem(spec.clone()));
                } else if rewrite.contains(&DEFAULT_BAND)
                    || !(own_handle_root.is_some() && holds(seen.root.as_ref(), spec))
                {
                    ops.push(Op::RootNetem(spec.clone()));
                }
            }
        }
        return ops;
    }
    let fresh = !seen.is_own_prio();
    if fresh {
        if let Some(q) = own_handle_root {
            ops.push(Op::DeleteRoot {
                handle: q.handle,
                kind: q.kind.clone(),
            });
        }
        ops.push(Op::RootPrio);
    }
    let leaves = if fresh {
        BTreeMap::new()
    } else {
        seen.leaves.clone()
    };
    let default = want.default.clone().unwrap_or_default();
    if fresh || rewrite.contains(&DEFAULT_BAND) || !holds(leaves.get(&DEFAULT_BAND), &default) {
        ops.push(Op::Leaf {
            band: DEFAULT_BAND,
            netem: default,
        });
    }
    for (&band, b) in &want.bands {
        if rewrite.contains(&band) || !holds(leaves.get(&band), &b.netem) {
            ops.push(Op::Leaf {
                band,
                netem: b.netem.clone(),
            });
        }
    }
    // Filters to keep: wanted, in the right band with the right priority, once each.
    let filters = if fresh { &[][..] } else { &seen.filters[..] };
    let mut kept: BTreeSet<(u32, crate::netlink::flower::Match)> = BTreeSet::new();
    let mut delete = Vec::new();
    for f in filters {
        let band = f
            .classid
            .map(|c| c & 0xffff)
            .filter(|_| f.classid.is_some_and(|c| c & 0xffff_0000 == OWN));
        let keep = match (band, f.matches) {
            (Some(band), Some(m)) => {
                f.kind == "flower"
                    && band_of_pref(f.pref) == band
                    && f.pref == pref(band, m.v6)
                    && want
                        .bands
                        .get(&band)
                        .is_some_and(|b| b.matches.contains(&m))
                    && kept.insert((band, m))
            }
            _ => false,
        };
        if !keep {
            delete.push(Op::DeleteFilter {
                pref: f.pref,
                eth_type: f.eth_type,
                handle: f.handle,
            });
        }
    }
    let mut used: BTreeSet<u32> = filters.iter().map(|f| f.handle).collect();
    let mut next = 1u32;
    for (&band, b) in &want.bands {
        for m in &b.matches {
            if kept.contains(&(band, *m)) {
                continue;
            }
            while used.contains(&next) {
                next = next.wrapping_add(1).max(1);
            }
            used.insert(next);
            ops.push(Op::AddFilter {
                band,
                handle: next,
                m: *m,
            });
        }
    }
    ops.extend(delete);
    for (&band, q) in &leaves {
        if band != DEFAULT_BAND && !want.bands.contains_key(&band) && q.kind == "netem" {
            ops.push(Op::DeleteLeaf {
                band,
                handle: q.handle,
                kind: q.kind.clone(),
            });
        }
    }
    ops
}
