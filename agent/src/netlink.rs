//! rtnetlink I/O: a handle on a NETLINK_ROUTE socket executes requests built by [`msg`].
//!
//! Calls block (each is one short kernel round trip); the server runs them on tokio's
//! blocking pool under its mutex.

use std::io;

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::netem;
use netem_api::spec::NetemSpec;

pub mod flower;
pub mod msg;

pub use msg::{Link, Qdisc, TC_H_ROOT};

/// What went wrong talking to the kernel.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The socket itself failed.
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    /// The kernel refused the request.
    #[error("{}", kernel_text(*errno, message.as_deref()))]
    Kernel {
        /// errno (positive), e.g. 2 = ENOENT.
        errno: i32,
        /// The kernel's extended-ack message, if it gave one.
        message: Option<String>,
    },
    /// The kernel's answer could not be read.
    #[error(transparent)]
    Malformed(#[from] msg::Malformed),
}

fn kernel_text(errno: i32, message: Option<&str>) -> String {
    let os = io::Error::from_raw_os_error(errno);
    match message {
        Some(m) => format!("kernel: {m} ({os})"),
        None => format!("kernel: {os}"),
    }
}

/// errno values the agent tells apart.
pub mod errno {
    /// No such file or directory: e.g. unknown qdisc kind.
    pub const ENOENT: i32 = 2;
    /// Operation not permitted: no CAP_NET_ADMIN.
    pub const EPERM: i32 = 1;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// Operation not supported.
    pub const EOPNOTSUPP: i32 = 95;
    /// No such device: the interface is gone.
    pub const ENODEV: i32 = 19;
}

impl NetlinkError {
    /// The kernel's errno, if the kernel refused.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// A request ready to execute: encoded bytes and how the kernel answers it.
#[derive(Debug, Clone)]
pub struct Request {
    seq: u32,
    bytes: Vec<u8>,
    dump: bool,
}

/// An open NETLINK_ROUTE socket.
pub struct Handle {
    socket: Socket,
    seq: u32,
}

impl Handle {
    /// Opens and connects a socket to the kernel, with extended acks (the kernel's own
    /// error messages) and capped acks (no echo of large requests).
    pub fn open() -> Result<Handle, NetlinkError> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Both are optional niceties on old kernels: ignore failures.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(Handle { socket, seq: 0 })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// A request answered by an acknowledgement.
    pub fn request(&mut self, build: impl FnOnce(u32) -> Vec<u8>) -> Request {
        let seq = self.next_seq();
        Request {
            seq,
            bytes: build(seq),
            dump: false,
        }
    }

    /// A dump request, answered by many messages and NLMSG_DONE.
    pub fn dump(&mut self, build: impl FnOnce(u32) -> Vec<u8>) -> Request {
        Request {
            dump: true,
            ..self.request(build)
        }
    }

    /// Sends the request and reads the answer: every non-control message with the
    /// request's sequence number, until the end of the dump or the acknowledgement.
    pub fn execute(&mut self, req: Request) -> Result<Vec<msg::Message>, NetlinkError> {
        self.socket.send(&req.bytes, 0)?;
        let mut out = Vec::new();
        loop {
            let (datagram, _) = self.socket.recv_from_full()?;
            for m in msg::decode(&datagram)? {
                if m.seq != req.seq {
                    continue; // a stale answer to an earlier request
                }
                match m.kind {
                    msg::NLMSG_ERROR => {
                        let (errno, message) = msg::decode_error(&m)?;
                        if errno != 0 {
                            return Err(NetlinkError::Kernel { errno, message });
                        }
                        if !req.dump {
                            return Ok(out);
                        }
                    }
                    msg::NLMSG_DONE => return Ok(out),
                    _ => out.push(m),
                }
            }
        }
    }

    /// Runs a dump, retrying (a few times) when the kernel says it was interrupted by a
    /// concurrent change.
    fn dump_all(
        &mut self,
        build: impl Fn(u32) -> Vec<u8>,
    ) -> Result<Vec<msg::Message>, NetlinkError> {
        let mut tries = 0;
        loop {
            let req = self.dump(&build);
            let msgs = self.execute(req)?;
            tries += 1;
            if tries >= 3 || msgs.iter().all(|m| m.flags & msg::NLM_F_DUMP_INTR == 0) {
                return Ok(msgs);
            }
        }
    }

    /// The root qdisc of an interface, if it has one. Asks for it directly (one small
    /// answer); falls back to a dump of all qdiscs if the kernel does not answer that way.
    pub fn root_qdisc(&mut self, ifindex: u32) -> Result<Option<Qdisc>, NetlinkError> {
        let req = self.request(|seq| msg::get_root_qdisc(seq, ifindex));
        match self.execute(req) {
            Ok(msgs) => {
                if let Some(m) = msgs.iter().find(|m| m.kind == msg::RTM_NEWQDISC) {
                    return Ok(Some(msg::decode_qdisc(&m.payload)?));
                }
                // Acknowledged without an answer: use the dump.
            }
            Err(e) if e.errno() == Some(errno::ENODEV) => return Err(e),
            // Any other refusal: the dump tells.
            Err(_) => {}
        }
        let msgs = self.dump_all(msg::dump_qdiscs)?;
        for m in msgs.iter().filter(|m| m.kind == msg::RTM_NEWQDISC) {
            let q = msg::decode_qdisc(&m.payload)?;
            if q.ifindex == ifindex && q.parent == TC_H_ROOT {
                return Ok(Some(q));
            }
        }
        Ok(None)
    }

    /// Sends a request answered by an acknowledgement.
    pub fn ack(&mut self, build: impl FnOnce(u32) -> Vec<u8>) -> Result<(), NetlinkError> {
        let req = self.request(build);
        self.execute(req).map(drop)
    }

    /// Every qdisc of every interface.
    pub fn qdiscs(&mut self) -> Result<Vec<Qdisc>, NetlinkError> {
        let msgs = self.dump_all(msg::dump_qdiscs)?;
        msgs.iter()
            .filter(|m| m.kind == msg::RTM_NEWQDISC)
            .map(|m| msg::decode_qdisc(&m.payload).map_err(NetlinkError::from))
            .collect()
    }

    /// The filters of an interface attached to `parent`.
    pub fn filters(
        &mut self,
        ifindex: u32,
        parent: u32,
    ) -> Result<Vec<flower::Filter>, NetlinkError> {
        let msgs = self.dump_all(|seq| flower::dump_filters(seq, ifindex, parent))?;
        msgs.iter()
            .filter(|m| m.kind == flower::RTM_NEWTFILTER)
            .map(|m| flower::decode_filter(&m.payload).map_err(NetlinkError::from))
            .collect()
    }

    /// Creates or replaces the root qdisc with a netem of this `handle` set to `spec`
    /// (every attribute sent).
    pub fn replace_root_netem(
        &mut self,
        ifindex: u32,
        handle: u32,
        spec: &NetemSpec,
    ) -> Result<(), NetlinkError> {
        let options = netem::encode_options(spec);
        let req = self.request(|seq| msg::replace_root_netem(seq, ifindex, handle, &options));
        self.execute(req).map(drop)
    }

    /// Deletes the root qdisc if it still has this handle and kind.
    pub fn delete_root(
        &mut self,
        ifindex: u32,
        handle: u32,
        kind: &str,
    ) -> Result<(), NetlinkError> {
        let req = self.request(|seq| msg::delete_root(seq, ifindex, handle, kind));
        self.execute(req).map(drop)
    }

    /// Whether the kernel can make a netem qdisc, without changing anything (see
    /// [`msg::probe_netem`]). Errors other than the two expected answers are returned.
    pub fn netem_available(&mut self, ifindex: u32) -> Result<bool, NetlinkError> {
        let req = self.request(|seq| msg::probe_netem(seq, ifindex));
        match self.execute(req) {
            Err(e) if e.errno() == Some(errno::EINVAL) => Ok(true),
            Err(e) if e.errno() == Some(errno::ENOENT) => Ok(false),
            Err(e) => Err(e),
            // Cannot happen (netem refuses empty options); if a kernel ever accepted it,
            // netem exists.
            Ok(_) => Ok(true),
        }
    }

    /// All links.
    pub fn links(&mut self) -> Result<Vec<Link>, NetlinkError> {
        let msgs = self.dump_all(msg::dump_links)?;
        Ok(msgs
            .iter()
            .filter(|m| m.kind == msg::RTM_NEWLINK)
            .filter_map(|m| msg::decode_link(&m.payload))
            .collect())
    }

    /// The interface index of the default route (IPv4 first, then IPv6).
    pub fn default_route_ifindex(&mut self) -> Result<Option<u32>, NetlinkError> {
        for family in [msg::AF_INET, msg::AF_INET6] {
            let msgs = self.dump_all(|seq| msg::dump_routes(seq, family))?;
            let found = msgs
                .iter()
                .filter(|m| m.kind == msg::RTM_NEWROUTE)
                .find_map(|m| msg::default_route_oif(&m.payload));
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }
}
