//! Running a plan against the kernel, all or nothing: on a failure, the way back to the
//! previous tree is planned from what the kernel has by then, and run.

use std::collections::BTreeSet;

use super::{BANDS, OWN, Op, Seen, Tree, classid, leaf_handle, plan, pref};
use crate::netem;
use crate::netlink::flower::{self, Filter};
use crate::netlink::msg::Qdisc;
use crate::netlink::{Handle, NetlinkError, TC_H_ROOT};

/// Where a plan runs: the kernel ([`Live`]), or a model of it in tests.
pub trait Kernel {
    /// Runs one operation.
    fn run(&mut self, op: &Op) -> Result<(), NetlinkError>;
    /// Reads the tree back.
    fn read(&mut self) -> Result<Seen, NetlinkError>;
}

/// Why a change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// An operation failed; the previous tree was put back (or, if `restore` says so, could
    /// not be).
    #[error("{error}")]
    Failed {
        /// The operation the kernel refused (boxed: an `Op` can hold a whole netem spec).
        op: Box<Op>,
        /// Why.
        error: NetlinkError,
        /// Why putting the previous tree back failed, if it did.
        restore: Option<NetlinkError>,
    },
    /// Reading the tree failed.
    #[error("{0}")]
    Read(NetlinkError),
}

/// Takes the kernel from `seen` to `want`; on a failure puts `previous` back (what the
/// kernel had, with the settings the kernel cannot report, such as the distribution).
/// Returns what the kernel has afterwards.
pub fn apply(
    k: &mut impl Kernel,
    seen: &Seen,
    want: &Tree,
    previous: &Tree,
    rewrite: &BTreeSet<u32>,
) -> Result<Seen, ApplyError> {
    for op in plan(seen, want, rewrite) {
        if let Err(error) = k.run(&op) {
            let restore = restore(k, previous, rewrite).err();
            return Err(ApplyError::Failed {
                op: Box::new(op),
                error,
                restore,
            });
        }
    }
    k.read().map_err(ApplyError::Read)
}

fn restore(
    k: &mut impl Kernel,
    previous: &Tree,
    rewrite: &BTreeSet<u32>,
) -> Result<(), NetlinkError> {
    let now = k.read()?;
    for op in plan(&now, previous, rewrite) {
        k.run(&op)?;
    }
    Ok(())
}

/// The real kernel: one interface, through a netlink handle.
pub struct Live<'a> {
    /// The socket.
    pub handle: &'a mut Handle,
    /// The interface.
    pub ifindex: u32,
}

impl Kernel for Live<'_> {
    fn run(&mut self, op: &Op) -> Result<(), NetlinkError> {
        let i = self.ifindex;
        let h = &mut *self.handle;
        match op {
            Op::DeleteRoot { handle, kind } => {
                h.ack(|seq| flower::delete_qdisc(seq, i, *handle, TC_H_ROOT, kind))
            }
            Op::RootNetem(spec) => h.replace_root_netem(i, OWN, spec),
            Op::RootPrio => h.ack(|seq| flower::replace_root_prio(seq, i, OWN, BANDS)),
            Op::Leaf { band, netem: spec } => {
                let options = netem::encode_options(spec);
                h.ack(|seq| {
                    flower::replace_qdisc(
                        seq,
                        i,
                        leaf_handle(*band),
                        classid(*band),
                        "netem",
                        &options,
                    )
                })
            }
            Op::DeleteLeaf { band, handle, kind } => {
                h.ack(|seq| flower::delete_qdisc(seq, i, *handle, classid(*band), kind))
            }
            Op::AddFilter { band, handle, m } => h.ack(|seq| {
                flower::add_flower(seq, i, OWN, pref(*band, m.v6), *handle, m, classid(*band))
            }),
            Op::DeleteFilter {
                pref,
                eth_type,
                handle,
            } => h.ack(|seq| flower::delete_flower(seq, i, OWN, *pref, *eth_type, *handle)),
        }
    }

    fn read(&mut self) -> Result<Seen, NetlinkError> {
        let qdiscs: Vec<Qdisc> = self.handle.qdiscs()?;
        let own_prio = qdiscs.iter().any(|q| {
            q.ifindex == self.ifindex
                && q.parent == TC_H_ROOT
                && q.handle == OWN
                && q.kind == "prio"
        });
        let filters: Vec<Filter> = if own_prio {
            self.handle.filters(self.ifindex, OWN)?
        } else {
            Vec::new()
        };
        Ok(Seen::new(self.ifindex, qdiscs, filters))
    }
}
