//! IP addresses, read by fixed rules here (`ipv4`, `ipv6`) rather than by `std::net`, and
//! which of them are public (`is_global`, from IANA's special-purpose ranges): together they
//! decide a client's `source.ip`.

use super::line::number;

#[derive(Clone, Copy)]
pub(super) enum Ip {
    V4(u32),
    V6(u128),
}

/// The address `text` is, IPv4 or IPv6; None if it is neither.
pub(super) fn ip_address(text: &str) -> Option<Ip> {
    if let Some(a) = ipv4(text) {
        return Some(Ip::V4(a));
    }
    ipv6(text).map(Ip::V6)
}

/// Four dotted decimal octets, 0..=255, no leading zeros (`010` might mean octal 8).
pub(super) fn ipv4(text: &str) -> Option<u32> {
    let mut value = 0u32;
    let mut count = 0;
    for octet in text.split('.') {
        count += 1;
        let b = octet.as_bytes();
        let leading_zero = b.len() > 1 && b[0] == b'0';
        if count > 4 || b.is_empty() || b.len() > 3 || !b.iter().all(u8::is_ascii_digit) || leading_zero {
            return None;
        }
        let n = number(b);
        if n > 255 {
            return None;
        }
        value = value << 8 | n as u32;
    }
    (count == 4).then_some(value)
}

/// One group of an IPv6 address: text as written, or a value from an IPv4 suffix.
#[derive(Clone, Copy)]
enum Hextet<'a> {
    Text(&'a str),
    Value(u16),
}

impl Hextet<'_> {
    fn is_empty(self) -> bool {
        matches!(self, Hextet::Text(""))
    }

    /// 1..=4 ASCII hex digits.
    fn value(self) -> Option<u128> {
        match self {
            Hextet::Value(v) => Some(u128::from(v)),
            Hextet::Text(t) => {
                let ok = (1..=4).contains(&t.len()) && t.bytes().all(|c| c.is_ascii_hexdigit());
                ok.then(|| u128::from(u16::from_str_radix(t, 16).unwrap_or(0)))
            }
        }
    }
}

/// An IPv6 address: up to eight groups, one `::`, an optional IPv4 tail and `%scope`. Read
/// here, not by `std::net::Ipv6Addr`, which refuses a scope id and differs in corner cases:
/// which text is an address decides `source.ip`. The scope id does not change the value.
pub(super) fn ipv6(text: &str) -> Option<u128> {
    if text.contains('/') {
        return None;
    }
    let addr = match text.split_once('%') {
        Some((addr, scope)) if !scope.is_empty() && !scope.contains('%') => addr,
        Some(_) => return None,
        None => text,
    };
    if addr.is_empty() {
        return None;
    }
    let colons = addr.bytes().filter(|&c| c == b':').count();
    // At least 3 parts; at most 9 (an IPv4 suffix only adds one).
    if !(2..=8).contains(&colons) {
        return None;
    }
    let mut parts = [Hextet::Text(""); 10];
    let mut len = 0;
    for part in addr.split(':') {
        parts[len] = Hextet::Text(part);
        len += 1;
    }
    if let Hextet::Text(last) = parts[len - 1]
        && last.contains('.')
    {
        let v4 = ipv4(last)?;
        parts[len - 1] = Hextet::Value((v4 >> 16) as u16);
        parts[len] = Hextet::Value(v4 as u16);
        len += 1;
        if len > 9 {
            return None;
        }
    }
    let mut skip = None;
    for (i, part) in parts.iter().enumerate().take(len - 1).skip(1) {
        if part.is_empty() {
            if skip.is_some() {
                return None;
            }
            skip = Some(i);
        }
    }
    let (hi, lo, skipped) = match skip {
        Some(skip) => {
            let (mut hi, mut lo) = (skip, len - skip - 1);
            if parts[0].is_empty() {
                hi -= 1;
                if hi > 0 {
                    return None;
                }
            }
            if parts[len - 1].is_empty() {
                lo -= 1;
                if lo > 0 {
                    return None;
                }
            }
            if hi + lo >= 8 {
                return None;
            }
            (hi, lo, 8 - hi - lo)
        }
        None => {
            if len != 8 || parts[0].is_empty() || parts[len - 1].is_empty() {
                return None;
            }
            (len, 0, 0)
        }
    };
    let mut value = 0u128;
    for part in &parts[..hi] {
        value = value << 16 | part.value()?;
    }
    // A shift by 128 (`::`) leaves the zero it starts from.
    value = value.checked_shl(16 * skipped as u32).unwrap_or(0);
    for part in &parts[len - lo..len] {
        value = value << 16 | part.value()?;
    }
    Some(value)
}

/// Whether `a` lies in `net/bits`.
fn in_v4(a: u32, net: u32, bits: u32) -> bool {
    (a ^ net) >> (32 - bits) == 0
}

fn in_v6(a: u128, net: u128, bits: u32) -> bool {
    (a ^ net) >> (128 - bits) == 0
}

/// Whether an IPv4 address lies in a private or special-purpose range (IANA's registry).
fn v4_private(a: u32) -> bool {
    const PRIVATE: [(u32, u32); 14] = [
        (0x0000_0000, 8),  // 0.0.0.0/8
        (0x0a00_0000, 8),  // 10.0.0.0/8
        (0x7f00_0000, 8),  // 127.0.0.0/8
        (0xa9fe_0000, 16), // 169.254.0.0/16
        (0xac10_0000, 12), // 172.16.0.0/12
        (0xc000_0000, 29), // 192.0.0.0/29
        (0xc000_00aa, 31), // 192.0.0.170/31
        (0xc000_0200, 24), // 192.0.2.0/24
        (0xc0a8_0000, 16), // 192.168.0.0/16
        (0xc612_0000, 15), // 198.18.0.0/15
        (0xc633_6400, 24), // 198.51.100.0/24
        (0xcb00_7100, 24), // 203.0.113.0/24
        (0xf000_0000, 4),  // 240.0.0.0/4
        (0xffff_ffff, 32), // 255.255.255.255/32
    ];
    PRIVATE.iter().any(|&(net, bits)| in_v4(a, net, bits))
}

/// Whether an address is public: IPv4 outside 100.64.0.0/10 (shared address space) and the
/// private ranges; IPv6 outside its private ranges, an IPv4-mapped address judged by the
/// IPv4 private ranges.
pub(super) fn is_global(ip: Ip) -> bool {
    const V6_PRIVATE: [(u128, u32); 10] = [
        (1, 128),                                        // ::1/128
        (0, 128),                                        // ::/128
        (0xffff_0000_0000, 96),                          // ::ffff:0:0/96
        (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // 100::/64
        (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // 2001::/23
        (0x2001_0002_0000_0000_0000_0000_0000_0000, 48), // 2001:2::/48
        (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // 2001:db8::/32
        (0x2001_0010_0000_0000_0000_0000_0000_0000, 28), // 2001:10::/28
        (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // fc00::/7
        (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // fe80::/10
    ];
    match ip {
        Ip::V4(a) => !in_v4(a, 0x6440_0000, 10) && !v4_private(a),
        Ip::V6(a) if a >> 32 == 0xffff => !v4_private(a as u32),
        Ip::V6(a) => !V6_PRIVATE.iter().any(|&(net, bits)| in_v6(a, net, bits)),
    }
}
