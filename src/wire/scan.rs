//! A structural pre-check of MessagePack bytes: exactly one well-formed value, no trailing
//! bytes. It walks the bytes once without recursion or allocation, so garbage is rejected
//! before the (recursive) serde decoder sees it, and the decoder can only fail on shape.

use super::WireError;

/// Checks that `bytes` hold exactly one well-formed MessagePack value and that the value is
/// a map (an event is always a map).
pub(crate) fn check_one_map(bytes: &[u8]) -> Result<(), WireError> {
    match bytes.first() {
        None => return Err(WireError::Malformed("empty message".to_owned())),
        Some(&m) if !is_map(m) => {
            return Err(WireError::Schema(format!(
                "an event must be a map, found {} (marker 0x{m:02x})",
                marker_name(m)
            )))
        }
        Some(_) => {}
    }
    let end = value_end(bytes)?;
    if end < bytes.len() {
        return Err(WireError::Malformed(format!(
            "{} trailing bytes after the event",
            bytes.len() - end
        )));
    }
    Ok(())
}

fn is_map(marker: u8) -> bool {
    matches!(marker, 0x80..=0x8f | 0xde | 0xdf)
}

fn marker_name(m: u8) -> &'static str {
    match m {
        0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xd3 => "an integer",
        0x90..=0x9f | 0xdc | 0xdd => "an array",
        0xa0..=0xbf | 0xd9..=0xdb => "a string",
        0xc0 => "nil",
        0xc2 | 0xc3 => "a boolean",
        0xc4..=0xc6 => "binary data",
        0xca | 0xcb => "a float",
        0xc7..=0xc9 | 0xd4..=0xd8 => "an extension value",
        _ => "an invalid marker",
    }
}

/// The offset just past the first MessagePack value in `bytes`.
fn value_end(bytes: &[u8]) -> Result<usize, WireError> {
    let truncated = || WireError::Malformed(format!("truncated after {} bytes", bytes.len()));
    let mut pos = 0usize;
    // Values still to read. Each one takes at least one byte, so the loop ends within
    // `bytes.len()` iterations whatever lengths the containers claim.
    let mut pending: u64 = 1;
    while pending > 0 {
        let &m = bytes.get(pos).ok_or_else(truncated)?;
        pos += 1;
        pending -= 1;
        // (bytes of length field, bytes of extra header, payload bytes, child values)
        let (skip, children): (u64, u64) = match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * u64::from(m & 0x0f)),
            0x90..=0x9f => (0, u64::from(m & 0x0f)),
            0xa0..=0xbf => (u64::from(m & 0x1f), 0),
            0xc4 | 0xd9 => (1 + read_len(bytes, pos, 1).ok_or_else(truncated)?, 0),
            0xc5 | 0xda => (2 + read_len(bytes, pos, 2).ok_or_else(truncated)?, 0),
            0xc6 | 0xdb => (4 + read_len(bytes, pos, 4).ok_or_else(truncated)?, 0),
            0xc7 => (1 + 1 + read_len(bytes, pos, 1).ok_or_else(truncated)?, 0),
            0xc8 => (2 + 1 + read_len(bytes, pos, 2).ok_or_else(truncated)?, 0),
            0xc9 => (4 + 1 + read_len(bytes, pos, 4).ok_or_else(truncated)?, 0),
            0xca | 0xce | 0xd2 => (4, 0),
            0xcb | 0xcf | 0xd3 => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xd4 => (1 + 1, 0),
            0xd5 => (1 + 2, 0),
            0xd6 => (1 + 4, 0),
            0xd7 => (1 + 8, 0),
            0xd8 => (1 + 16, 0),
            0xdc => (2, read_len(bytes, pos, 2).ok_or_else(truncated)?),
            0xdd => (4, read_len(bytes, pos, 4).ok_or_else(truncated)?),
            0xde => (2, 2 * read_len(bytes, pos, 2).ok_or_else(truncated)?),
            0xdf => (4, 2 * read_len(bytes, pos, 4).ok_or_else(truncated)?),
            0xc1 => {
                return Err(WireError::Malformed(format!(
                    "invalid marker 0xc1 at byte {}",
                    pos - 1
                )))
            }
        };
        let remaining = (bytes.len() - pos) as u64;
        if skip > remaining {
            return Err(truncated());
        }
        // `skip <= remaining`, so it fits in usize.
        pos += skip as usize;
        pending += children;
    }
    Ok(pos)
}

/// A big-endian length of `n` bytes at `pos`.
fn read_len(bytes: &[u8], pos: usize, n: usize) -> Option<u64> {
    let field = bytes.get(pos..pos.checked_add(n)?)?;
    Some(field.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_exactly_one_map() {
        assert!(check_one_map(&[0x80]).is_ok());
        assert!(check_one_map(&[0x81, 0xa1, b'a', 0x01]).is_ok());
        assert!(check_one_map(&[0xde, 0x00, 0x01, 0xa1, b'a', 0xc4, 0x02, 1, 2]).is_ok());
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(check_one_map(&[]).unwrap_err().code(), "malformed");
        assert!(check_one_map(&[0x81, 0xa1, b'a']).is_err(), "truncated");
        assert!(check_one_map(&[0x80, 0x00]).is_err(), "trailing");
        assert!(
            check_one_map(&[0x81, 0xc1, 0x00]).is_err(),
            "reserved marker"
        );
        assert!(check_one_map(&[0x01]).is_err(), "not a map");
        assert!(
            check_one_map(&[0xdf, 0xff, 0xff, 0xff, 0xff]).is_err(),
            "huge claimed map"
        );
        assert!(check_one_map(&[0x81, 0xa1, b'a', 0xc6, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
