//! Netlink attributes (type-length-value, 4-byte aligned, host byte order): writing and
//! reading, with no I/O.

/// Netlink aligns every attribute and message to 4 bytes.
pub const ALIGN: usize = 4;

/// Rounds `len` up to the netlink alignment.
pub fn align(len: usize) -> usize {
    len.div_ceil(ALIGN) * ALIGN
}

/// Appends one attribute (header, payload, padding) to `buf`.
///
/// Panics if the payload cannot fit a 16-bit length; callers only pass bounded payloads
/// (the largest is a 4096-entry distribution table, 8 KiB).
pub fn push(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = u16::try_from(4 + payload.len()).expect("netlink attribute payload under 64 KiB");
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(align(buf.len()), 0);
}

/// A malformed attribute stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed netlink attribute at offset {offset}")]
pub struct NlaError {
    /// Where in the stream it went wrong.
    pub offset: usize,
}

/// Splits an attribute stream into (type, payload) pairs. The type has the nested and
/// byte-order flag bits cleared.
pub fn parse(mut bytes: &[u8]) -> Result<Vec<(u16, &[u8])>, NlaError> {
    let mut out = Vec::new();
    let mut offset = 0;
    while bytes.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([bytes[0], bytes[1]]));
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]) & 0x3fff;
        if len < 4 || len > bytes.len() {
            return Err(NlaError { offset });
        }
        out.push((kind, &bytes[4..len]));
        let step = align(len).min(bytes.len());
        bytes = &bytes[step..];
        offset += step;
    }
    Ok(out)
}

/// Reads a native-endian u32 at `at`, if there.
pub fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Reads a native-endian u64 at `at`, if there.
pub fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(
        bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pads_to_four_bytes() {
        let mut buf = Vec::new();
        push(&mut buf, 1, b"netem\0");
        assert_eq!(buf.len(), 12);
        assert_eq!(&buf[..4], &[10, 0, 1, 0][..]);
        assert_eq!(&buf[4..10], b"netem\0");
        assert_eq!(&buf[10..], &[0, 0][..]);
    }

    #[test]
    fn parse_reads_back_and_refuses_truncation() {
        let mut buf = Vec::new();
        push(&mut buf, 1, b"abc");
        push(&mut buf, 0x8002, &7u32.to_ne_bytes());
        let attrs = parse(&buf).unwrap();
        assert_eq!(attrs, vec![(1, &b"abc"[..]), (2, &7u32.to_ne_bytes()[..])]);
        assert_eq!(parse(&buf[..buf.len() - 1]), Err(NlaError { offset: 8 }));
        assert!(parse(&[2, 0, 1, 0]).is_err());
        assert_eq!(u32_at(&buf, 12), Some(7));
        assert_eq!(u32_at(&buf, 14), None);
        // An offset near usize::MAX is out of range, not an overflow.
        assert_eq!(u32_at(&buf, usize::MAX - 1), None);
        assert_eq!(u64_at(&buf, usize::MAX - 3), None);
    }
}
