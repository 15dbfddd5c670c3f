//! The planner and the all-or-nothing apply, against a model of the kernel that can be
//! told to refuse the n-th operation.

use std::collections::BTreeMap;
use std::time::Duration;

use super::apply::{ApplyError, Kernel, apply};
use super::*;
use crate::netem;
use crate::netlink::flower::{Filter, L4};
use crate::netlink::msg::Qdisc;
use crate::netlink::{NetlinkError, TC_H_ROOT, errno};
use netem_api::spec::Percent;

const IF: u32 = 2;

/// The kernel as far as the tree goes: root, leaves, filters.
#[derive(Default)]
struct Model {
    seen: Seen,
    ops: usize,
    fail_at: Option<usize>,
    log: Vec<Op>,
}

fn qdisc(handle: u32, parent: u32, kind: &str, options: Option<Vec<u8>>) -> Qdisc {
    Qdisc {
        ifindex: IF,
        handle,
        parent,
        kind: kind.into(),
        options,
    }
}

impl Kernel for Model {
    fn run(&mut self, op: &Op) -> Result<(), NetlinkError> {
        self.ops += 1;
        if self.fail_at == Some(self.ops) {
            return Err(NetlinkError::Kernel {
                errno: errno::ENOENT,
                message: Some("injected".into()),
            });
        }
        self.log.push(op.clone());
        let s = &mut self.seen;
        match op {
            Op::DeleteRoot { .. } => *s = Seen::default(),
            Op::RootNetem(spec) => {
                *s = Seen::default();
                s.root = Some(qdisc(
                    OWN,
                    TC_H_ROOT,
                    "netem",
                    Some(netem::encode_options(spec)),
                ));
            }
            Op::RootPrio => {
                *s = Seen::default();
                s.root = Some(qdisc(OWN, TC_H_ROOT, "prio", None));
            }
            Op::Leaf { band, netem: spec } => {
                let q = qdisc(
                    leaf_handle(*band),
                    classid(*band),
                    "netem",
                    Some(netem::encode_options(spec)),
                );
                s.leaves.insert(*band, q);
            }
            Op::DeleteLeaf { band, .. } => {
                s.leaves.remove(band);
            }
            Op::AddFilter { band, handle, m } => {
                assert!(
                    s.filters.iter().all(|f| f.handle != *handle),
                    "handle reused"
                );
                s.filters.push(Filter {
                    ifindex: IF,
                    parent: OWN,
                    handle: *handle,
                    pref: pref(*band, m.v6),
                    eth_type: m.eth_type(),
                    kind: "flower".into(),
                    classid: Some(classid(*band)),
                    matches: Some(*m),
                });
            }
            Op::DeleteFilter { pref, handle, .. } => {
                let before = s.filters.len();
                s.filters
                    .retain(|f| !(f.pref == *pref && f.handle == *handle));
                assert_eq!(
                    s.filters.len() + 1,
                    before,
                    "deleted a filter that is not there"
                );
            }
        }
        Ok(())
    }

    fn read(&mut self) -> Result<Seen, NetlinkError> {
        Ok(self.seen.clone())
    }
}

fn delay(ms: u64) -> NetemSpec {
    NetemSpec::delay(Duration::from_millis(ms))
}

fn to(cidrs: &[&str], ports: &[u16]) -> Destination {
    Destination {
        cidrs: cidrs.iter().map(|c| c.parse().unwrap()).collect(),
        ports: ports.to_vec(),
    }
}

fn tree(default: Option<NetemSpec>, bands: &[(u32, NetemSpec, Destination)]) -> Tree {
    Tree {
        default,
        bands: bands
            .iter()
            .map(|(b, n, d)| {
                (
                    *b,
                    Band {
                        netem: n.clone(),
                        matches: matches_of(d),
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
    }
}

/// The tree as the kernel reports it (netem settings through encode and decode).
fn reported(t: &Tree) -> Tree {
    let mut t = t.clone();
    t.default = t.default.map(|d| netem::kernel_view(&d));
    for b in t.bands.values_mut() {
        b.netem = netem::kernel_view(&b.netem);
    }
    t
}

fn set(k: &mut Model, want: &Tree, rewrite: &[u32]) -> Result<Seen, ApplyError> {
    let seen = k.read().unwrap();
    let previous = seen.tree();
    apply(
        k,
        &seen,
        want,
        &previous,
        &rewrite.iter().copied().collect(),
    )
}

#[test]
fn destinations_become_matches_and_back() {
    let d = to(&["10.0.0.7/32", "fd00::/64"], &[20160, 2379]);
    let ms = matches_of(&d);
    assert_eq!(ms.len(), d.matches());
    assert_eq!(ms.len(), 8);
    let back = destination_of(&ms);
    assert_eq!(back.cidrs, d.cidrs);
    assert_eq!(back.ports, vec![2379, 20160]);
    // Ports alone: IPv4 and IPv6, TCP and UDP.
    let ports = matches_of(&to(&[], &[53]));
    assert_eq!(ports.len(), 4);
    assert!(ports.iter().any(|m| m.v6 && m.port == Some((L4::Udp, 53))));
    assert_eq!(destination_of(&ports), to(&[], &[53]));
    assert_eq!(leaf_handle(1), 0x4e51_0000);
    assert_eq!(leaf_handle(15), 0x4e5f_0000);
    assert_eq!(band_of_pref(pref(7, true)), 7);
}

#[test]
fn no_rules_is_the_original_single_netem() {
    let mut k = Model::default();
    let want = tree(Some(delay(20)), &[]);
    let seen = set(&mut k, &want, &[DEFAULT_BAND]).unwrap();
    assert_eq!(k.log, vec![Op::RootNetem(delay(20))]);
    assert_eq!(seen.tree(), reported(&want));
    // Nothing: the root goes.
    set(&mut k, &Tree::default(), &[]).unwrap();
    assert_eq!(k.seen, Seen::default());
}

#[test]
fn rules_build_a_prio_tree_and_read_back() {
    let mut k = Model::default();
    set(&mut k, &tree(Some(delay(5)), &[]), &[DEFAULT_BAND]).unwrap();
    let want = tree(
        Some(delay(5)),
        &[
            (2, delay(20), to(&["10.0.0.2/32"], &[])),
            (
                3,
                NetemSpec {
                    loss: Some(Percent::new(10.0).unwrap()),
                    ..NetemSpec::default()
                },
                to(&["10.0.0.3/32", "fd00::3/128"], &[20160]),
            ),
        ],
    );
    k.log.clear();
    let seen = set(&mut k, &want, &[2, 3]).unwrap();
    // The root netem (own handle) cannot become a prio in place: deleted, then the tree.
    assert_eq!(
        k.log[0],
        Op::DeleteRoot {
            handle: OWN,
            kind: "netem".into()
        }
    );
    assert_eq!(k.log[1], Op::RootPrio);
    assert_eq!(seen.tree(), reported(&want));
    assert_eq!(seen.filters.len(), 1 + 4);
}

#[test]
fn changing_one_rule_touches_only_its_band() {
    let mut k = Model::default();
    let b = (2, delay(20), to(&["10.0.0.2/32"], &[]));
    let c = (3, delay(30), to(&["10.0.0.3/32"], &[]));
    set(&mut k, &tree(None, &[b.clone(), c.clone()]), &[2, 3]).unwrap();
    k.log.clear();
    // New settings, same destination: only the leaf changes, filters stay.
    let b50 = (2, delay(50), b.2.clone());
    set(&mut k, &tree(None, &[b50.clone(), c.clone()]), &[2]).unwrap();
    assert_eq!(
        k.log,
        vec![Op::Leaf {
            band: 2,
            netem: delay(50)
        }]
    );
    // New destination: filters added before the old one is deleted, band 3 untouched.
    k.log.clear();
    let moved = (2, delay(50), to(&["10.0.0.9/32"], &[]));
    let seen = set(&mut k, &tree(None, &[moved.clone(), c.clone()]), &[2]).unwrap();
    assert!(matches!(k.log[0], Op::Leaf { band: 2, .. }));
    assert!(matches!(k.log[1], Op::AddFilter { band: 2, .. }));
    assert!(matches!(k.log[2], Op::DeleteFilter { .. }));
    assert_eq!(k.log.len(), 3);
    assert!(
        k.log
            .iter()
            .all(|op| !matches!(op, Op::Leaf { band: 3, .. } | Op::AddFilter { band: 3, .. }))
    );
    assert_eq!(
        seen.tree(),
        reported(&tree(None, &[moved.clone(), c.clone()]))
    );
    // Deleting one rule: its filters, then its netem.
    k.log.clear();
    set(&mut k, &tree(None, std::slice::from_ref(&c)), &[]).unwrap();
    assert!(matches!(k.log[0], Op::DeleteFilter { .. }));
    assert!(matches!(k.log[1], Op::DeleteLeaf { band: 2, .. }));
    assert_eq!(k.log.len(), 2);
    // The last rule goes, nothing else wanted: the root goes.
    set(&mut k, &Tree::default(), &[]).unwrap();
    assert_eq!(k.seen, Seen::default());
}

#[test]
fn a_failure_anywhere_leaves_the_previous_tree() {
    let b = (2, delay(20), to(&["10.0.0.2/32", "fd00::2/128"], &[20160]));
    let c = (3, delay(30), to(&["10.0.0.3/32"], &[]));
    let before = tree(Some(delay(5)), &[b.clone(), c.clone()]);
    let changes = [
        (
            tree(
                Some(delay(5)),
                &[(2, delay(50), to(&["10.0.0.9/32"], &[80])), c.clone()],
            ),
            vec![2],
        ),
        (
            tree(Some(delay(7)), std::slice::from_ref(&c)),
            vec![DEFAULT_BAND],
        ),
        (
            tree(None, &[b.clone(), c.clone(), (4, delay(1), to(&[], &[53]))]),
            vec![4],
        ),
        (tree(Some(delay(5)), &[]), vec![]),
        (Tree::default(), vec![]),
    ];
    for (i, (after, rewrite)) in changes.iter().enumerate() {
        let mut probe = Model::default();
        set(&mut probe, &before, &[1, 2, 3]).unwrap();
        probe.log.clear();
        set(&mut probe, after, rewrite).unwrap();
        let steps = probe.log.len();
        assert!(steps > 0, "change {i} does something");
        for fail_at in 1..=steps {
            let mut k = Model::default();
            set(&mut k, &before, &[1, 2, 3]).unwrap();
            k.ops = 0;
            k.fail_at = Some(fail_at);
            let e = set(&mut k, after, rewrite).unwrap_err();
            assert!(
                matches!(e, ApplyError::Failed { restore: None, .. }),
                "change {i} step {fail_at}: {e:?}"
            );
            assert_eq!(
                k.seen.tree(),
                reported(&before),
                "change {i}, failure at step {fail_at} of {steps}"
            );
        }
    }
}

#[test]
fn stray_filters_in_the_own_tree_are_removed() {
    let mut k = Model::default();
    let b = (2, delay(20), to(&["10.0.0.2/32"], &[]));
    set(&mut k, &tree(None, std::slice::from_ref(&b)), &[2]).unwrap();
    // Someone adds a filter with the right match but the wrong priority, and a duplicate.
    let mut stray = k.seen.filters[0].clone();
    stray.handle = 77;
    stray.pref = 40;
    k.seen.filters.push(stray);
    let mut dup = k.seen.filters[0].clone();
    dup.handle = 78;
    k.seen.filters.push(dup);
    k.log.clear();
    let seen = set(&mut k, &tree(None, std::slice::from_ref(&b)), &[]).unwrap();
    assert_eq!(k.log.len(), 2, "{:?}", k.log);
    assert_eq!(seen.filters.len(), 1);
    let _ = BTreeSet::<u32>::new();
}

#[test]
fn a_failed_forced_replacement_leaves_a_foreign_root() {
    let mut k = Model::default();
    k.seen.root = Some(qdisc(0x5_0000, TC_H_ROOT, "tbf", None));
    let before = k.seen.clone();
    k.fail_at = Some(1);
    let want = tree(Some(delay(20)), &[]);
    assert!(set(&mut k, &want, &[DEFAULT_BAND]).is_err());
    assert_eq!(k.seen, before);
    let mut k = Model {
        seen: before.clone(),
        fail_at: Some(2),
        ..Model::default()
    };
    let want = tree(None, &[(2, delay(20), to(&["10.0.0.2/32"], &[]))]);
    // Step 1 replaced the tbf (forced); step 2 failed: the agent's part is taken out again,
    // the tbf cannot come back.
    assert!(set(&mut k, &want, &[2]).is_err());
    assert_eq!(k.seen.tree(), Tree::default());
}
