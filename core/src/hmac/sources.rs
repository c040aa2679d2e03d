//! Where a request's verification inputs come from, as a host hands them over (spec
//! §2.3, §2.7): the original's `getHeader` rule and the order of the client-IP
//! candidates. A binding walks its own header and metadata values once and offers them
//! here; which name matches, which value wins and in which order IPs are tried is decided
//! only here.

/// The headers `verifyHttpSignature` reads, in [`HeaderSlot`] order.
pub const VERIFY_HEADERS: [&str; 5] = [
    "x-client-id",
    "x-signature",
    "x-timestamp",
    "x-nonce",
    "x-forwarded-for",
];

/// One of the [`VERIFY_HEADERS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderSlot {
    /// `x-client-id`.
    ClientId = 0,
    /// `x-signature`.
    Signature = 1,
    /// `x-timestamp`.
    Timestamp = 2,
    /// `x-nonce`.
    Nonce = 3,
    /// `x-forwarded-for`.
    ForwardedFor = 4,
}

impl HeaderSlot {
    const ALL: [Self; 5] = [
        Self::ClientId,
        Self::Signature,
        Self::Timestamp,
        Self::Nonce,
        Self::ForwardedFor,
    ];

    /// The slot a header name fills: `getHeader`'s `key.toLowerCase() === name`. None of
    /// the five names holds a letter whose JavaScript lower case differs from ASCII's
    /// (the Kelvin sign lowers to `k`), so an ASCII comparison is the same test.
    pub fn of(name: &str) -> Option<Self> {
        if !(7..=15).contains(&name.len()) {
            return None;
        }
        Self::ALL
            .into_iter()
            .find(|s| VERIFY_HEADERS[*s as usize].eq_ignore_ascii_case(name))
    }
}

/// `getHeader(headers, name)`: the value of the first header (in the host's order) whose
/// name equals `name` under JavaScript's `toLowerCase`.
pub fn get_header<'a, K: AsRef<str> + 'a, V>(
    headers: impl IntoIterator<Item = (K, V)>,
    name: &str,
) -> Option<V> {
    let wanted = name.to_lowercase();
    headers
        .into_iter()
        .find(|(k, _)| k.as_ref().to_lowercase() == wanted)
        .map(|(_, v)| v)
}

/// The verify headers of one request, each `getHeader`'s answer: filled by one pass over
/// the host's headers ([`VerifyHeaders::offer`]). `V` is the host's value (its own text,
/// or the original's "first element of an array" already taken by the host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyHeaders<V> {
    values: [Option<V>; 5],
    seen: u8,
}

impl<V> Default for VerifyHeaders<V> {
    fn default() -> Self {
        Self {
            values: [None, None, None, None, None],
            seen: 0,
        }
    }
}

impl<V> VerifyHeaders<V> {
    /// Offer one header of the host, in the host's order. Only the first header of each
    /// name counts (a later duplicate is not read: `value` is not called); `value` turns
    /// the host's value into `V` (`None`: the header is there but has no value). Returns
    /// whether every slot is now decided, so the host can stop early.
    pub fn offer<E>(
        &mut self,
        name: &str,
        value: impl FnOnce(HeaderSlot) -> Result<Option<V>, E>,
    ) -> Result<bool, E> {
        if let Some(slot) = HeaderSlot::of(name) {
            let bit = 1u8 << (slot as u8);
            if self.seen & bit == 0 {
                self.seen |= bit;
                self.values[slot as usize] = value(slot)?;
            }
        }
        Ok(self.is_complete())
    }

    /// Every slot was seen (a later header cannot change anything).
    pub fn is_complete(&self) -> bool {
        self.seen == 0b1_1111
    }

    /// The value kept for `slot`.
    pub fn get(&self, slot: HeaderSlot) -> Option<&V> {
        self.values[slot as usize].as_ref()
    }

    /// Takes the value kept for `slot`.
    pub fn take(&mut self, slot: HeaderSlot) -> Option<V> {
        self.values[slot as usize].take()
    }
}

/// A `metadata` IP field as the host holds it: the original keeps a string, the strings
/// of an array, and ignores anything else.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IpField {
    /// No such field.
    #[default]
    Absent,
    /// A string.
    One(String),
    /// An array: its string entries (the host drops the others).
    Many(Vec<String>),
}

impl IpField {
    fn push_into(self, out: &mut Vec<String>) {
        match self {
            Self::Absent => {}
            Self::One(s) => out.push(s),
            Self::Many(list) => out.extend(list),
        }
    }
}

/// The IP sources of a request (`input.metadata` of the original, plus the
/// `x-forwarded-for` header value from [`VerifyHeaders`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpSources {
    /// `metadata.ip`.
    pub ip: IpField,
    /// `metadata.ips`.
    pub ips: IpField,
    /// `metadata.forwardedFor`.
    pub forwarded_for: IpField,
    /// The `x-forwarded-for` header, when it is a string.
    pub forwarded_header: Option<String>,
    /// `metadata.remoteAddress`.
    pub remote_address: IpField,
}

impl IpSources {
    /// The candidates in the original's order: `metadata.ip`, `metadata.ips[]`,
    /// `metadata.forwardedFor`, the `x-forwarded-for` header, `metadata.remoteAddress`.
    /// The first that parses is the client IP ([`super::ip::extract_client_ip`]).
    pub fn candidates(self) -> Vec<String> {
        let mut out = Vec::new();
        self.ip.push_into(&mut out);
        self.ips.push_into(&mut out);
        self.forwarded_for.push_into(&mut out);
        out.extend(self.forwarded_header);
        self.remote_address.push_into(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_first_match_wins() {
        let headers = [
            ("Content-Type", "a"),
            ("X-Client-ID", "first"),
            ("x-client-id", "second"),
            ("X-NONCE", "n"),
        ];
        assert_eq!(get_header(headers, "x-client-id"), Some("first"));
        assert_eq!(get_header(headers, "X-Nonce"), Some("n"));
        assert_eq!(get_header(headers, "x-signature"), None);
        let mut h = VerifyHeaders::<&str>::default();
        let mut reads = 0;
        for (k, v) in headers {
            h.offer::<()>(k, |_| {
                reads += 1;
                Ok(Some(v))
            })
            .unwrap();
        }
        assert_eq!(reads, 2, "a later duplicate is not read");
        assert_eq!(h.get(HeaderSlot::ClientId), Some(&"first"));
        assert_eq!(h.get(HeaderSlot::Nonce), Some(&"n"));
        assert!(!h.is_complete());
        assert_eq!(
            HeaderSlot::of("X-Forwarded-For"),
            Some(HeaderSlot::ForwardedFor)
        );
        assert_eq!(HeaderSlot::of("x-client-id "), None);
    }

    #[test]
    fn ip_candidates_in_the_original_order() {
        let s = IpSources {
            ip: IpField::One("1".into()),
            ips: IpField::Many(vec!["2".into(), "3".into()]),
            forwarded_for: IpField::One("4".into()),
            forwarded_header: Some("5".into()),
            remote_address: IpField::One("6".into()),
        };
        assert_eq!(s.candidates(), ["1", "2", "3", "4", "5", "6"]);
        let s = IpSources {
            remote_address: IpField::One("9.9.9.9".into()),
            forwarded_header: Some("bogus, 8.8.8.8".into()),
            ..Default::default()
        };
        assert_eq!(s.candidates(), ["bogus, 8.8.8.8", "9.9.9.9"]);
        assert!(IpSources::default().candidates().is_empty());
    }
}
