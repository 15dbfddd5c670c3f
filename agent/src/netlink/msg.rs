//! rtnetlink messages the agent sends and reads, built and parsed without I/O.

use crate::nla;

/// Netlink header length (`struct nlmsghdr`).
pub const HEADER_LEN: usize = 16;

/// `NLMSG_ERROR`: an error or, with errno 0, an acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: end of a dump.
pub const NLMSG_DONE: u16 = 3;
/// `RTM_NEWLINK`: a link, in link dumps.
pub const RTM_NEWLINK: u16 = 16;
/// `RTM_GETLINK`.
pub const RTM_GETLINK: u16 = 18;
/// `RTM_NEWROUTE`: a route, in route dumps.
pub const RTM_NEWROUTE: u16 = 24;
/// `RTM_GETROUTE`.
pub const RTM_GETROUTE: u16 = 26;
/// `RTM_NEWQDISC`: create/replace a qdisc; also a qdisc in dumps.
pub const RTM_NEWQDISC: u16 = 36;
/// `RTM_DELQDISC`.
pub const RTM_DELQDISC: u16 = 37;
/// `RTM_GETQDISC`.
pub const RTM_GETQDISC: u16 = 38;

/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_ACK`: ask for an acknowledgement.
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_ECHO`: send notifications caused by this request back to the requester.
pub const NLM_F_ECHO: u16 = 0x8;
/// `NLM_F_DUMP_INTR`: the dump was inconsistent (changed while dumping); retry.
pub const NLM_F_DUMP_INTR: u16 = 0x10;
/// `NLM_F_DUMP` (ROOT | MATCH).
pub const NLM_F_DUMP: u16 = 0x300;
/// `NLM_F_REPLACE`.
pub const NLM_F_REPLACE: u16 = 0x100;
/// `NLM_F_EXCL`.
pub const NLM_F_EXCL: u16 = 0x200;
/// `NLM_F_CREATE`.
pub const NLM_F_CREATE: u16 = 0x400;
/// In an error message: the echoed request was capped to its header.
const NLM_F_CAPPED: u16 = 0x100;
/// In an error message: extended-ack attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// Extended ack attribute: the kernel's error message.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// `TCA_KIND`: qdisc kind name.
pub const TCA_KIND: u16 = 1;
/// `TCA_OPTIONS`: the qdisc's own options.
pub const TCA_OPTIONS: u16 = 2;
/// `TC_H_ROOT`: the parent of a root qdisc.
pub const TC_H_ROOT: u32 = 0xFFFF_FFFF;

const AF_UNSPEC: u8 = 0;
/// `AF_INET`.
pub const AF_INET: u8 = 2;
/// `AF_INET6`.
pub const AF_INET6: u8 = 10;
const RTA_OIF: u16 = 4;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;
const RT_TABLE_MAIN: u32 = 254;
const IFLA_IFNAME: u16 = 3;

const TCMSG_LEN: usize = 20;
const RTMSG_LEN: usize = 12;
const IFINFOMSG_LEN: usize = 16;

/// One netlink message: its type, flags, sequence number and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message type (`RTM_*`, `NLMSG_*`).
    pub kind: u16,
    /// Flags (`NLM_F_*`).
    pub flags: u16,
    /// Sequence number, matching the request's.
    pub seq: u32,
    /// Everything after the header.
    pub payload: Vec<u8>,
}

/// A malformed message from the kernel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed netlink message: {0}")]
pub struct Malformed(pub String);

/// Builds one message: header (length, type, flags, seq, port 0) and body.
pub fn encode(kind: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(HEADER_LEN + body.len()).unwrap_or(u32::MAX);
    let mut buf = Vec::with_capacity(HEADER_LEN + body.len());
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(body);
    buf
}

/// Splits a received datagram into messages.
pub fn decode(mut buf: &[u8]) -> Result<Vec<Message>, Malformed> {
    let mut out = Vec::new();
    while buf.len() >= HEADER_LEN {
        let len = nla::u32_at(buf, 0).unwrap_or(0) as usize;
        if len < HEADER_LEN || len > buf.len() {
            return Err(Malformed(format!(
                "length {len} with {} bytes left",
                buf.len()
            )));
        }
        out.push(Message {
            kind: u16::from_ne_bytes([buf[4], buf[5]]),
            flags: u16::from_ne_bytes([buf[6], buf[7]]),
            seq: nla::u32_at(buf, 8).unwrap_or(0),
            payload: buf[HEADER_LEN..len].to_vec(),
        });
        buf = &buf[nla::align(len).min(buf.len())..];
    }
    Ok(out)
}

/// The body of an `NLMSG_ERROR`: errno (0 = acknowledgement) and the kernel's
/// extended-ack message, if any.
pub fn decode_error(msg: &Message) -> Result<(i32, Option<String>), Malformed> {
    let p = &msg.payload;
    let errno = nla::u32_at(p, 0).ok_or_else(|| Malformed("short error message".into()))? as i32;
    let errno = errno.checked_neg().unwrap_or(i32::MAX);
    let mut text = None;
    if msg.flags & NLM_F_ACK_TLVS != 0 {
        // The echoed request: its header only when capped, else all of it.
        let echoed_len = nla::u32_at(p, 4).unwrap_or(0) as usize;
        let skip = 4 + if msg.flags & NLM_F_CAPPED != 0 {
            HEADER_LEN
        } else {
            nla::align(echoed_len)
        };
        if let Some(tlvs) = p.get(skip..)
            && let Ok(attrs) = nla::parse(tlvs)
        {
            text = attrs
                .iter()
                .find(|(k, _)| *k == NLMSGERR_ATTR_MSG)
                .map(|(_, v)| c_string(v));
        }
    }
    Ok((errno, text))
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn tcmsg(ifindex: u32, handle: u32, parent: u32) -> Vec<u8> {
    let mut b = vec![AF_UNSPEC, 0, 0, 0];
    b.extend_from_slice(&ifindex.to_ne_bytes());
    b.extend_from_slice(&handle.to_ne_bytes());
    b.extend_from_slice(&parent.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b
}

fn kind_attr(buf: &mut Vec<u8>, kind: &str) {
    let mut name = kind.as_bytes().to_vec();
    name.push(0);
    nla::push(buf, TCA_KIND, &name);
}

/// Create or replace the root qdisc of `ifindex` with a netem of this `handle` and these
/// TCA_OPTIONS. A root qdisc with this handle is changed in place; any other root qdisc
/// (also a netem with another handle) is replaced by a new one with this handle.
pub fn replace_root_netem(seq: u32, ifindex: u32, handle: u32, options: &[u8]) -> Vec<u8> {
    let mut body = tcmsg(ifindex, handle, TC_H_ROOT);
    kind_attr(&mut body, "netem");
    nla::push(&mut body, TCA_OPTIONS, options);
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    encode(RTM_NEWQDISC, flags, seq, &body)
}

/// Asks the kernel to create a root netem *without options*. netem refuses that with
/// EINVAL before anything is attached, so this changes nothing; a kernel without netem
/// answers ENOENT instead (after trying to load `sch_netem`). EXCL forces the create
/// path even when a root netem exists (sch_api.c's "magic test").
pub fn probe_netem(seq: u32, ifindex: u32) -> Vec<u8> {
    let mut body = tcmsg(ifindex, 0, TC_H_ROOT);
    kind_attr(&mut body, "netem");
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_EXCL;
    encode(RTM_NEWQDISC, flags, seq, &body)
}

/// Delete the root qdisc of `ifindex`, only if it still has this handle and kind (the
/// kernel checks both, so a qdisc swapped in meanwhile is not removed).
pub fn delete_root(seq: u32, ifindex: u32, handle: u32, kind: &str) -> Vec<u8> {
    let mut body = tcmsg(ifindex, handle, TC_H_ROOT);
    kind_attr(&mut body, kind);
    encode(RTM_DELQDISC, NLM_F_REQUEST | NLM_F_ACK, seq, &body)
}

/// Get the root qdisc of one interface (answered by one `RTM_NEWQDISC`, then the ack).
/// ECHO: the kernel sends the answer as a notification, to the asker only if echo is set.
pub fn get_root_qdisc(seq: u32, ifindex: u32) -> Vec<u8> {
    encode(
        RTM_GETQDISC,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO,
        seq,
        &tcmsg(ifindex, 0, TC_H_ROOT),
    )
}

/// Dump all qdiscs (filtered by the caller: the kernel dumps every interface).
pub fn dump_qdiscs(seq: u32) -> Vec<u8> {
    encode(
        RTM_GETQDISC,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        &tcmsg(0, 0, 0),
    )
}

/// Dump the routes of one address family.
pub fn dump_routes(seq: u32, family: u8) -> Vec<u8> {
    let mut body = vec![0u8; RTMSG_LEN];
    body[0] = family;
    encode(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq, &body)
}

/// Dump all links.
pub fn dump_links(seq: u32) -> Vec<u8> {
    encode(
        RTM_GETLINK,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        &[0u8; IFINFOMSG_LEN],
    )
}

/// A qdisc from a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qdisc {
    /// Interface index.
    pub ifindex: u32,
    /// Handle (major:minor in the upper:lower 16 bits); 0 for the kernel's default qdisc.
    pub handle: u32,
    /// Parent handle; [`TC_H_ROOT`] for a root qdisc.
    pub parent: u32,
    /// Kind, e.g. "netem", "tbf", "noqueue".
    pub kind: String,
    /// The raw TCA_OPTIONS payload, if any.
    pub options: Option<Vec<u8>>,
}

/// Reads an `RTM_NEWQDISC` payload.
pub fn decode_qdisc(payload: &[u8]) -> Result<Qdisc, Malformed> {
    if payload.len() < TCMSG_LEN {
        return Err(Malformed("short tcmsg".into()));
    }
    let attrs = nla::parse(&payload[TCMSG_LEN..]).map_err(|e| Malformed(e.to_string()))?;
    let find = |k| attrs.iter().find(|(kind, _)| *kind == k).map(|(_, v)| *v);
    Ok(Qdisc {
        ifindex: nla::u32_at(payload, 4).unwrap_or(0),
        handle: nla::u32_at(payload, 8).unwrap_or(0),
        parent: nla::u32_at(payload, 12).unwrap_or(0),
        kind: find(TCA_KIND).map(c_string).unwrap_or_default(),
        options: find(TCA_OPTIONS).map(<[u8]>::to_vec),
    })
}

/// The interface of a default route in the main table, from an `RTM_NEWROUTE` payload.
pub fn default_route_oif(payload: &[u8]) -> Option<u32> {
    if payload.len() < RTMSG_LEN || payload[1] != 0 {
        return None; // not a default route (dst_len != 0)
    }
    let attrs = nla::parse(&payload[RTMSG_LEN..]).ok()?;
    let find = |k| attrs.iter().find(|(kind, _)| *kind == k).map(|(_, v)| *v);
    let table = find(RTA_TABLE)
        .and_then(|v| nla::u32_at(v, 0))
        .unwrap_or(u32::from(payload[4]));
    // Only unicast routes (type 1): not blackhole/unreachable defaults.
    if table != RT_TABLE_MAIN || payload[7] != 1 {
        return None;
    }
    if let Some(oif) = find(RTA_OIF).and_then(|v| nla::u32_at(v, 0)) {
        return Some(oif);
    }
    // Multipath: struct rtnexthop { u16 len; u8 flags; u8 hops; i32 ifindex; }, take the first.
    find(RTA_MULTIPATH).and_then(|v| nla::u32_at(v, 4))
}

/// A link: index and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
}

/// Reads an `RTM_NEWLINK` payload.
pub fn decode_link(payload: &[u8]) -> Option<Link> {
    let index = nla::u32_at(payload, 4)?;
    let attrs = nla::parse(payload.get(IFINFOMSG_LEN..)?).ok()?;
    let name = attrs
        .iter()
        .find(|(k, _)| *k == IFLA_IFNAME)
        .map(|(_, v)| c_string(v))?;
    Some(Link { index, name })
}

#[cfg(test)]
mod tests;
