//! bcryptjs 3.0.3, rule for rule: what `bcrypt.hash(password, saltOrRounds)` and
//! `bcrypt.compare(password, hash)` answer. awesome-node-auth's `PasswordService` and
//! `ApiKeyService` call nothing else, so these rules are part of its observable behaviour:
//!
//! * **Cost** (`genSaltSync(rounds)`): a falsy cost (`0`, `NaN`) means the default 10, then
//!   the cost is clamped into `4..=31` (`-1` is 4, `Infinity` 31). A fractional cost inside
//!   the range makes a salt such as `$2b$04.5$`, which bcryptjs then refuses with
//!   `Missing salt rounds`.
//! * **Salt strings** (`_hash`): `$2$`, `$2a$`, `$2b$` or `$2y$`, two digits, then the
//!   salt characters; anything after the 22nd is ignored (a whole hash works as a salt); the
//!   output keeps the salt's version and cost. The messages of the refusals are
//!   bcryptjs's (`Invalid salt version: ..`, `Invalid salt revision: ..`, `Missing salt
//!   rounds`, `Illegal number of rounds (4-31): ..`, `Illegal salt length: .. != 16`).
//! * **Passwords** are UTF-16 strings encoded the way bcryptjs's `utf8Array` does: a lone
//!   surrogate is three bytes (`ED A0 80` for U+D800), not U+FFFD as `Buffer.from` makes it;
//!   `$2a$`/`$2b$`/`$2y$` append a NUL; only the first 72 bytes count.
//! * **compare**: a hash that is not 60 UTF-16 units long is `false` without any work;
//!   otherwise the password is hashed with the hash's first 29 units as salt and the results
//!   are compared in constant time.
//!
//! One deliberate difference: a salt whose cost is not two digits (`$2b$1x$...`) makes
//! bcryptjs hash with `NaN` rounds, that is ONE round, and return `$2b$NaN$...`. Here it is
//! refused with `Illegal number of rounds (4-31): NaN` (docs/compat.md); `compare` answers
//! `false` for such a hash, as bcryptjs does (its 61-character result never matches).

use subtle::ConstantTimeEq;

/// bcryptjs's `GENSALT_DEFAULT_LOG2_ROUNDS`: the cost of `genSalt()` and of a falsy cost.
pub const DEFAULT_ROUNDS: u32 = 10;
const SALT_LEN: usize = 16;
const ALPHABET: &[u8; 64] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A refusal, with bcryptjs's exact message (bcryptjs throws a plain `Error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BcryptjsError {
    /// bcryptjs's text, e.g. `Invalid salt revision: 2x`.
    pub message: String,
}

impl BcryptjsError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        "PASSWORD_BCRYPTJS_ERROR"
    }

    /// HTTP status a server should answer with when this error escapes a request.
    pub fn status(&self) -> u16 {
        500
    }
}

/// The cost `genSaltSync(rounds)` writes into the salt for a JS number: falsy (`0`,
/// `-0`, `NaN`) is 10, then clamped into `4..=31`. A fractional cost inside the range is
/// refused with `Missing salt rounds` (what bcryptjs's `_hash` answers for the salt
/// `genSaltSync` makes of it).
pub fn gensalt_rounds(rounds: f64) -> Result<u32, BcryptjsError> {
    if rounds == 0.0 || rounds.is_nan() {
        return Ok(DEFAULT_ROUNDS);
    }
    if rounds < 4.0 {
        return Ok(4);
    }
    if rounds > 31.0 {
        return Ok(31);
    }
    if rounds.fract() != 0.0 {
        return Err(BcryptjsError::new("Missing salt rounds"));
    }
    Ok(rounds as u32)
}

/// The cost rule for an unsigned cost (the C and Python `bcrypt_hash`): 0 is the default
/// 10, then clamped into `4..=31`.
pub fn unsigned_rounds(rounds: u32) -> u32 {
    if rounds == 0 {
        DEFAULT_ROUNDS
    } else {
        rounds.clamp(4, 31)
    }
}

/// bcryptjs's `utf8Array`: UTF-8, except that a lone surrogate is encoded as the three
/// bytes of its code unit (CESU style) instead of U+FFFD.
pub fn utf8_array(units: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(units.len() * 3);
    let mut i = 0;
    while i < units.len() {
        let c1 = u32::from(units[i]);
        if c1 < 0x80 {
            out.push(c1 as u8);
        } else if c1 < 0x800 {
            out.push(((c1 >> 6) | 0xC0) as u8);
            out.push(((c1 & 0x3F) | 0x80) as u8);
        } else if (c1 & 0xFC00) == 0xD800
            && units
                .get(i + 1)
                .is_some_and(|&c2| (u32::from(c2) & 0xFC00) == 0xDC00)
        {
            let c2 = u32::from(units[i + 1]);
            let cp = 0x10000 + ((c1 & 0x3FF) << 10) + (c2 & 0x3FF);
            i += 1;
            out.push(((cp >> 18) | 0xF0) as u8);
            out.push((((cp >> 12) & 0x3F) | 0x80) as u8);
            out.push((((cp >> 6) & 0x3F) | 0x80) as u8);
            out.push(((cp & 0x3F) | 0x80) as u8);
        } else {
            out.push(((c1 >> 12) | 0xE0) as u8);
            out.push((((c1 >> 6) & 0x3F) | 0x80) as u8);
            out.push(((c1 & 0x3F) | 0x80) as u8);
        }
        i += 1;
    }
    out
}

/// bcrypt's base64 of the first `len` bytes (bcryptjs `base64_encode`).
fn base64_encode(b: &[u8], len: usize) -> String {
    let mut rs = String::with_capacity(len * 4 / 3 + 2);
    let ch = |v: u8| ALPHABET[usize::from(v & 0x3F)] as char;
    let mut off = 0;
    while off < len {
        let mut c1 = b[off];
        off += 1;
        rs.push(ch(c1 >> 2));
        c1 = (c1 & 0x03) << 4;
        if off >= len {
            rs.push(ch(c1));
            break;
        }
        let mut c2 = b[off];
        off += 1;
        c1 |= (c2 >> 4) & 0x0F;
        rs.push(ch(c1));
        c1 = (c2 & 0x0F) << 2;
        if off >= len {
            rs.push(ch(c1));
            break;
        }
        c2 = b[off];
        off += 1;
        c1 |= (c2 >> 6) & 0x03;
        rs.push(ch(c1));
        rs.push(ch(c2));
    }
    rs
}

fn index_of(unit: Option<u16>) -> i32 {
    match unit {
        Some(u) => ALPHABET
            .iter()
            .position(|&a| u16::from(a) == u)
            .map_or(-1, |p| p as i32),
        // `charCodeAt` past the end is NaN, and `NaN < length` is false: -1.
        None => -1,
    }
}

/// bcryptjs `base64_decode(s, len)`: stops at the first character outside the alphabet,
/// so a malformed salt decodes to fewer than 16 bytes.
fn base64_decode(s: &[u16], len: usize) -> Vec<u8> {
    let slen = s.len();
    let mut off = 0;
    let mut rs = Vec::with_capacity(len);
    let at = |i: usize| s.get(i).copied();
    while off + 1 < slen && rs.len() < len {
        let c1 = index_of(at(off));
        let c2 = index_of(at(off + 1));
        off += 2;
        if c1 == -1 || c2 == -1 {
            break;
        }
        rs.push((((c1 << 2) as u32) | ((c2 as u32 & 0x30) >> 4)) as u8);
        if rs.len() >= len || off >= slen {
            break;
        }
        let c3 = index_of(at(off));
        off += 1;
        if c3 == -1 {
            break;
        }
        rs.push(((((c2 as u32) & 0x0F) << 4) | (((c3 as u32) & 0x3C) >> 2)) as u8);
        if rs.len() >= len || off >= slen {
            break;
        }
        let c4 = index_of(at(off));
        off += 1;
        // `o |= c4` with c4 = -1 sets every bit; the byte is then 0xFF.
        rs.push(((((c3 as u32) & 0x03) << 6) as i32 | c4) as u8);
    }
    rs
}

fn text(units: &[u16]) -> String {
    crate::js::utf16_to_string_lossy(units)
}

/// `parseInt(oneCharacter, 10)`: the digit, or `None` (NaN).
fn digit(unit: Option<u16>) -> Option<u32> {
    unit.and_then(|u| char::from_u32(u32::from(u)))
        .and_then(|c| c.to_digit(10))
}

/// A salt string as bcryptjs's `_hash` reads it.
struct Salt {
    /// `a`, `b` or `y`; `None` for `$2$`.
    minor: Option<u8>,
    /// `None` when the cost is not two digits (bcryptjs: `NaN`).
    rounds: Option<u32>,
    salt: [u8; SALT_LEN],
}

/// bcryptjs's checks of a salt string, in its order and with its messages. A salt whose
/// cost is not two digits but is otherwise usable comes back with `rounds: None`.
fn parse_salt(salt: &[u16]) -> Result<Salt, BcryptjsError> {
    let at = |i: usize| salt.get(i).copied();
    let dollar = u16::from(b'$');
    if at(0) != Some(dollar) || at(1) != Some(u16::from(b'2')) {
        return Err(BcryptjsError::new(format!(
            "Invalid salt version: {}",
            text(&salt[..salt.len().min(2)])
        )));
    }
    let (minor, offset) = if at(2) == Some(dollar) {
        (None, 3)
    } else {
        let m = at(2);
        let ok = matches!(m, Some(c) if c == u16::from(b'a') || c == u16::from(b'b') || c == u16::from(b'y'));
        if !ok || at(3) != Some(dollar) {
            let end = salt.len().min(4);
            return Err(BcryptjsError::new(format!(
                "Invalid salt revision: {}",
                text(&salt[2.min(end)..end])
            )));
        }
        (m.map(|c| c as u8), 4)
    };
    // `salt.charAt(offset + 2) > "$"`: a missing character is "" (not greater).
    if at(offset + 2).is_some_and(|c| c > dollar) {
        return Err(BcryptjsError::new("Missing salt rounds"));
    }
    let rounds = match (digit(at(offset)), digit(at(offset + 1))) {
        (Some(a), Some(b)) => Some(a * 10 + b),
        _ => None,
    };
    let start = (offset + 3).min(salt.len());
    let end = (offset + 25).min(salt.len());
    let saltb = base64_decode(&salt[start..end], SALT_LEN);
    if let Some(r) = rounds
        && !(4..=31).contains(&r)
    {
        return Err(BcryptjsError::new(format!(
            "Illegal number of rounds (4-31): {r}"
        )));
    }
    let salt: [u8; SALT_LEN] = saltb.as_slice().try_into().map_err(|_| {
        BcryptjsError::new(format!(
            "Illegal salt length: {} != {SALT_LEN}",
            saltb.len()
        ))
    })?;
    Ok(Salt {
        minor,
        rounds,
        salt,
    })
}

/// bcryptjs `hash(password, salt)` with a salt string (`_hash`): `password` is the encoded
/// password ([`utf8_array`]), `salt` the salt's UTF-16 code units.
pub fn hash_with_salt(password: &[u8], salt: &[u16]) -> Result<String, BcryptjsError> {
    let Salt {
        minor,
        rounds,
        salt: salt16,
    } = parse_salt(salt)?;
    let Some(rounds) = rounds else {
        // bcryptjs would run one round and answer `$2b$NaN$...` (see the module docs).
        return Err(BcryptjsError::new("Illegal number of rounds (4-31): NaN"));
    };
    let mut key = [0u8; 73];
    let n = password.len().min(72);
    key[..n].copy_from_slice(&password[..n]);
    // `password += "\x00"` for `$2a$`/`$2b$`/`$2y$`; bcrypt reads at most 72 bytes.
    let used = match minor {
        Some(_) => (n + 1).min(72),
        // `$2$` without a NUL: an empty key reads as zero bytes in bcryptjs.
        None => n.max(1),
    };
    let raw = bcrypt::bcrypt(rounds, salt16, &key[..used]);
    let mut out = String::with_capacity(60);
    out.push_str("$2");
    if let Some(m) = minor {
        out.push(m as char);
    }
    out.push('$');
    if rounds < 10 {
        out.push('0');
    }
    out.push_str(&rounds.to_string());
    out.push('$');
    out.push_str(&base64_encode(&salt16, SALT_LEN));
    out.push_str(&base64_encode(&raw, 23));
    Ok(out)
}

/// What `compare(anything, hash)` would reject with, found without hashing: `None` when
/// bcryptjs answers a boolean (a hash that is not 60 units long, or whose cost is not two
/// digits, is `false`), else its refusal.
pub fn compare_refusal(hash: &[u16]) -> Option<BcryptjsError> {
    if hash.len() != 60 {
        return None;
    }
    parse_salt(&hash[..29]).err()
}

/// `genSaltSync(rounds)` with 16 random bytes: `$2b$` + two-digit cost + 22 characters.
pub fn gen_salt(rounds: f64) -> Result<String, BcryptjsError> {
    let r = gensalt_rounds(rounds)?;
    let mut bytes = [0u8; SALT_LEN];
    getrandom::fill(&mut bytes)
        .map_err(|_| BcryptjsError::new("random number generator failure"))?;
    Ok(format!("$2b${r:02}${}", base64_encode(&bytes, SALT_LEN)))
}

/// bcryptjs `hash(password, rounds)` for a JS number `rounds`.
pub fn hash_rounds(password: &[u8], rounds: f64) -> Result<String, BcryptjsError> {
    let salt: Vec<u16> = gen_salt(rounds)?.encode_utf16().collect();
    hash_with_salt(password, &salt)
}

/// bcryptjs `compare(password, hash)`: `Ok(false)` for a hash that is not 60 UTF-16 units
/// long, else a constant-time comparison with the hash of `password` under the hash's
/// own salt; the salt's refusals are errors, as in bcryptjs.
pub fn compare(password: &[u8], hash: &[u16]) -> Result<bool, BcryptjsError> {
    if hash.len() != 60 {
        return Ok(false);
    }
    let computed = match hash_with_salt(password, &hash[..29]) {
        Ok(h) => h,
        // bcryptjs computes a one-round `$2b$NaN$...` that never equals a 60-unit hash.
        Err(e) if e.message.ends_with(": NaN") => return Ok(false),
        Err(e) => return Err(e),
    };
    let computed: Vec<u16> = computed.encode_utf16().collect();
    if computed.len() != hash.len() {
        return Ok(false);
    }
    let a: Vec<u8> = computed.iter().flat_map(|u| u.to_le_bytes()).collect();
    let b: Vec<u8> = hash.iter().flat_map(|u| u.to_le_bytes()).collect();
    Ok(bool::from(a.ct_eq(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn cost_rule_is_bcryptjs() {
        assert_eq!(gensalt_rounds(0.0), Ok(10));
        assert_eq!(gensalt_rounds(-0.0), Ok(10));
        assert_eq!(gensalt_rounds(f64::NAN), Ok(10));
        assert_eq!(gensalt_rounds(-1.0), Ok(4));
        assert_eq!(gensalt_rounds(3.5), Ok(4));
        assert_eq!(gensalt_rounds(f64::NEG_INFINITY), Ok(4));
        assert_eq!(gensalt_rounds(f64::INFINITY), Ok(31));
        assert_eq!(gensalt_rounds(31.5), Ok(31));
        assert_eq!(gensalt_rounds(12.0), Ok(12));
        assert_eq!(
            gensalt_rounds(4.5).unwrap_err().message,
            "Missing salt rounds"
        );
        assert_eq!(unsigned_rounds(0), 10);
        assert_eq!(unsigned_rounds(1), 4);
        assert_eq!(unsigned_rounds(u32::MAX), 31);
    }

    #[test]
    fn lone_surrogates_are_three_bytes() {
        assert_eq!(utf8_array(&[0x61, 0xD800, 0x62]), b"a\xED\xA0\x80b");
        assert_eq!(utf8_array(&u("🔑é")), "🔑é".as_bytes());
        assert_eq!(utf8_array(&[0xDC00]), b"\xED\xB0\x80");
    }

    #[test]
    fn known_answers_from_bcryptjs() {
        // bcryptjs 3.0.3 hashSync output (ffi-tests/vectors/password-bcrypt.json).
        let h = hash_with_salt(
            b"correct horse battery staple",
            &u("$2b$04$nkFmm7PI/xMb8j6QgBnfLe"),
        )
        .unwrap();
        assert_eq!(
            h,
            "$2b$04$nkFmm7PI/xMb8j6QgBnfLelVmlH0r.zY4RyVlcZQoMIZ6X8J5kNWy"
        );
        // A whole hash works as a salt; the version is kept.
        let a = hash_with_salt(
            b"correct horse battery staple",
            &u(&h.replace("$2b$", "$2a$")),
        )
        .unwrap();
        assert!(a.starts_with("$2a$04$nkFmm7PI/xMb8j6QgBnfLe"));
        assert!(compare(b"correct horse battery staple", &u(&h)).unwrap());
        assert!(!compare(b"correct horse battery staplf", &u(&h)).unwrap());
        assert!(!compare(b"x", &u("short")).unwrap());
    }

    #[test]
    fn refusals_carry_bcryptjs_messages() {
        let m = |s: &str| hash_with_salt(b"pw", &u(s)).unwrap_err().message;
        assert_eq!(m("x"), "Invalid salt version: x");
        assert_eq!(
            m("$2x$04$nkFmm7PI/xMb8j6QgBnfLe"),
            "Invalid salt revision: x$"
        );
        assert_eq!(m("$2b$04.5$nkFmm7PI/xMb8j6QgBnfLe"), "Missing salt rounds");
        assert_eq!(
            m("$2b$03$nkFmm7PI/xMb8j6QgBnfLe"),
            "Illegal number of rounds (4-31): 3"
        );
        assert_eq!(m("$2b$10$abc"), "Illegal salt length: 2 != 16");
        assert_eq!(
            m("$2b$1x$nkFmm7PI/xMb8j6QgBnfLe"),
            "Illegal number of rounds (4-31): NaN"
        );
        assert!(!compare(b"pw", &u(&format!("$2b$1x${}", "a".repeat(53)))).unwrap());
        let h = u("$2b$04$nkFmm7PI/xMb8j6QgBnfLelVmlH0r.zY4RyVlcZQoMIZ6X8J5kNWy");
        assert_eq!(compare_refusal(&h), None);
        assert_eq!(compare_refusal(&u("short")), None);
        let mut bad = h.clone();
        bad[2] = u16::from(b'x');
        assert_eq!(
            compare_refusal(&bad).unwrap().message,
            "Invalid salt revision: x$"
        );
    }
}
