//! Keys and key sets: a [`JwtKey`] is parsed once (PEM, JWK or raw secret, or PyJWT-style
//! material through [`JwtKey::from_material`]) and kept in a [`KeySet`] indexed by `kid`,
//! which also answers the public [`Jwks`].

use super::{Algorithm, JwtError, MIN_RSA_MODULUS_BYTES, b64url_decode};
use jsonwebtoken::DecodingKey;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::Jwk;
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// A public key as a JWK (RFC 7517), serialised in node-auth's key order:
/// `kty, use, alg, kid, n, e` (RSA), `kty, use, alg, kid, crv, x, y` (EC),
/// `kty, use, alg, kid, crv, x` (OKP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// `RSA`, `EC` or `OKP`.
    pub kty: String,
    /// Always `sig`.
    #[serde(rename = "use", default = "sig")]
    pub use_: String,
    /// Algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// RSA modulus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA exponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Curve (`P-256`, `Ed25519`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC/OKP x.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

fn sig() -> String {
    "sig".into()
}

/// A JWK Set document `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<PublicJwk>,
}

impl Jwks {
    /// Compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("JWKS serialises")
    }
}

fn key_err(e: jsonwebtoken::errors::Error) -> JwtError {
    JwtError::InvalidKey(e.to_string())
}

/// Pull the public parameters out of a `jsonwebtoken` JWK.
fn public_jwk_from(jwk: &Jwk, alg: Algorithm) -> Result<PublicJwk, JwtError> {
    let v = serde_json::to_value(jwk).map_err(|e| JwtError::InvalidKey(e.to_string()))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(PublicJwk {
        kty: s("kty").ok_or_else(|| JwtError::InvalidKey("no kty".into()))?,
        use_: "sig".into(),
        alg: Some(alg.as_str().into()),
        kid: None,
        n: s("n"),
        e: s("e"),
        crv: s("crv"),
        x: s("x"),
        y: s("y"),
    })
}

fn check_rsa_size(jwk: &PublicJwk) -> Result<(), JwtError> {
    let n = b64url_decode(jwk.n.as_deref().unwrap_or(""))
        .map_err(|_| JwtError::InvalidKey("bad RSA modulus".into()))?;
    let len = n.iter().skip_while(|b| **b == 0).count();
    if len < MIN_RSA_MODULUS_BYTES {
        return Err(JwtError::InvalidKey(
            "RSA keys must be at least 2048 bits".into(),
        ));
    }
    Ok(())
}

/// A parsed signing and/or verification key.
#[derive(Clone)]
pub struct JwtKey {
    pub(super) kid: Option<String>,
    pub(super) alg: Algorithm,
    pub(super) accepted: Vec<Algorithm>,
    pub(super) encoding: Option<EncodingKey>,
    pub(super) decoding: DecodingKey,
    pub(super) public: Option<PublicJwk>,
    /// HMAC states keyed once at construction (verification then skips the key schedule).
    pub(super) hmac: Option<std::sync::Arc<HmacKeys>>,
}

/// Pre-keyed HMAC states of one secret, for the three HS algorithms.
#[derive(Clone)]
pub(super) struct HmacKeys {
    s256: hmac::Hmac<sha2::Sha256>,
    s384: hmac::Hmac<sha2::Sha384>,
    s512: hmac::Hmac<sha2::Sha512>,
}

impl Drop for HmacKeys {
    /// The keyed states are as good as the secret (they forge MACs): overwrite them with
    /// states keyed by an empty key before the memory is freed. The `hmac` crate has no
    /// `zeroize` support, so this is a volatile write of a whole value.
    fn drop(&mut self) {
        use hmac::Mac;
        const ANY: &str = "HMAC takes any key length";
        let a = hmac::Hmac::<sha2::Sha256>::new_from_slice(&[]).expect(ANY);
        let b = hmac::Hmac::<sha2::Sha384>::new_from_slice(&[]).expect(ANY);
        let c = hmac::Hmac::<sha2::Sha512>::new_from_slice(&[]).expect(ANY);
        // SAFETY: the three places are valid, aligned and exclusively borrowed; the old
        // values own no heap memory or other resources (fixed-size digest states), so not
        // running their (trivial) drop glue leaks nothing.
        unsafe {
            std::ptr::write_volatile(&mut self.s256, a);
            std::ptr::write_volatile(&mut self.s384, b);
            std::ptr::write_volatile(&mut self.s512, c);
        }
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

impl HmacKeys {
    fn new(secret: &[u8]) -> Self {
        use hmac::Mac;
        // HMAC accepts keys of any length: `new_from_slice` cannot fail.
        Self {
            s256: hmac::Hmac::new_from_slice(secret).expect("HMAC takes any key length"),
            s384: hmac::Hmac::new_from_slice(secret).expect("HMAC takes any key length"),
            s512: hmac::Hmac::new_from_slice(secret).expect("HMAC takes any key length"),
        }
    }

    /// Constant-time check (`Mac::verify_slice`) of `sig` over `message`.
    pub(super) fn verify(&self, alg: Algorithm, message: &[u8], sig: &[u8]) -> bool {
        use hmac::Mac;
        match alg {
            Algorithm::HS256 => self
                .s256
                .clone()
                .chain_update(message)
                .verify_slice(sig)
                .is_ok(),
            Algorithm::HS384 => self
                .s384
                .clone()
                .chain_update(message)
                .verify_slice(sig)
                .is_ok(),
            Algorithm::HS512 => self
                .s512
                .clone()
                .chain_update(message)
                .verify_slice(sig)
                .is_ok(),
            _ => false,
        }
    }
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("accepted", &self.accepted)
            .field("can_sign", &self.encoding.is_some())
            .finish_non_exhaustive()
    }
}

impl JwtKey {
    /// HMAC secret for `alg` (HS256/384/512), accepting only `alg` on verification.
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, JwtError> {
        if !alg.is_hmac() {
            return Err(JwtError::InvalidKey(format!(
                "{} is not an HMAC algorithm",
                alg.as_str()
            )));
        }
        if secret.is_empty() {
            return Err(JwtError::InvalidKey("empty HMAC secret".into()));
        }
        Ok(Self {
            kid: None,
            alg,
            accepted: vec![alg],
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
            public: None,
            hmac: Some(std::sync::Arc::new(HmacKeys::new(secret))),
        })
    }

    /// node-auth's behaviour for a string secret: signs HS256, verifies HS256/384/512.
    pub fn hmac_node_compat(secret: &[u8]) -> Result<Self, JwtError> {
        let mut k = Self::hmac(Algorithm::HS256, secret)?;
        k.accepted = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
        Ok(k)
    }

    fn from_private(alg: Algorithm, encoding: EncodingKey) -> Result<Self, JwtError> {
        let jwk = Jwk::from_encoding_key(&encoding, alg.to_jwt()).map_err(key_err)?;
        let public = public_jwk_from(&jwk, alg)?;
        let decoding = match alg {
            Algorithm::RS256 => {
                check_rsa_size(&public)?;
                DecodingKey::from_rsa_components(
                    public.n.as_deref().unwrap_or(""),
                    public.e.as_deref().unwrap_or(""),
                )
            }
            Algorithm::ES256 => {
                if public.crv.as_deref() != Some("P-256") {
                    return Err(JwtError::InvalidKey("ES256 needs a P-256 key".into()));
                }
                DecodingKey::from_ec_components(
                    public.x.as_deref().unwrap_or(""),
                    public.y.as_deref().unwrap_or(""),
                )
            }
            Algorithm::EdDSA => DecodingKey::from_ed_components(public.x.as_deref().unwrap_or("")),
            _ => return Err(JwtError::InvalidKey("not an asymmetric algorithm".into())),
        }
        .map_err(key_err)?;
        Ok(Self {
            kid: None,
            alg,
            accepted: vec![alg],
            encoding: Some(encoding),
            decoding,
            public: Some(public),
            hmac: None,
        })
    }

    fn from_public(alg: Algorithm, decoding: DecodingKey) -> Result<Self, JwtError> {
        let jwk = Jwk::from_decoding_key(&decoding, Some(alg.to_jwt())).map_err(key_err)?;
        let public = public_jwk_from(&jwk, alg)?;
        match alg {
            Algorithm::RS256 => check_rsa_size(&public)?,
            Algorithm::ES256 if public.crv.as_deref() != Some("P-256") => {
                return Err(JwtError::InvalidKey("ES256 needs a P-256 key".into()));
            }
            _ => {}
        }
        Ok(Self {
            kid: None,
            alg,
            accepted: vec![alg],
            encoding: None,
            decoding,
            public: Some(public),
            hmac: None,
        })
    }

    /// RS256 private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY` PEM).
    pub fn rsa_private_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_private(
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(pem).map_err(key_err)?,
        )
    }

    /// RS256 public key (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY` PEM); verify only.
    pub fn rsa_public_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_public(
            Algorithm::RS256,
            DecodingKey::from_rsa_pem(pem).map_err(key_err)?,
        )
    }

    /// ES256 private key (PKCS#8 PEM).
    pub fn ec_private_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_private(
            Algorithm::ES256,
            EncodingKey::from_ec_pem(pem).map_err(key_err)?,
        )
    }

    /// ES256 public key (SPKI PEM); verify only.
    pub fn ec_public_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_public(
            Algorithm::ES256,
            DecodingKey::from_ec_pem(pem).map_err(key_err)?,
        )
    }

    /// Ed25519 private key (PKCS#8 PEM).
    pub fn ed_private_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_private(
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(pem).map_err(key_err)?,
        )
    }

    /// Ed25519 public key (SPKI PEM); verify only.
    pub fn ed_public_pem(pem: &[u8]) -> Result<Self, JwtError> {
        Self::from_public(
            Algorithm::EdDSA,
            DecodingKey::from_ed_pem(pem).map_err(key_err)?,
        )
    }

    /// A public JWK (RSA, EC P-256 or OKP Ed25519); verify only. Symmetric (`oct`) keys
    /// are refused: a JWKS must never supply an HMAC secret. The JWK's `kid` is kept; its
    /// `alg`, if present, must match the key type.
    pub fn from_jwk(jwk: &PublicJwk) -> Result<Self, JwtError> {
        let s = |o: &Option<String>| {
            o.clone()
                .ok_or_else(|| JwtError::InvalidKey("incomplete JWK".into()))
        };
        let (alg, decoding) = match jwk.kty.as_str() {
            "RSA" => {
                check_rsa_size(jwk)?;
                (
                    Algorithm::RS256,
                    DecodingKey::from_rsa_components(&s(&jwk.n)?, &s(&jwk.e)?).map_err(key_err)?,
                )
            }
            "EC" if jwk.crv.as_deref() == Some("P-256") => (
                Algorithm::ES256,
                DecodingKey::from_ec_components(&s(&jwk.x)?, &s(&jwk.y)?).map_err(key_err)?,
            ),
            "OKP" if jwk.crv.as_deref() == Some("Ed25519") => (
                Algorithm::EdDSA,
                DecodingKey::from_ed_components(&s(&jwk.x)?).map_err(key_err)?,
            ),
            other => {
                return Err(JwtError::InvalidKey(format!(
                    "unsupported JWK kty/crv {other}"
                )));
            }
        };
        if let Some(a) = &jwk.alg
            && a != alg.as_str()
        {
            return Err(JwtError::InvalidKey(format!(
                "JWK alg {a} does not fit kty {}",
                jwk.kty
            )));
        }
        let mut public = jwk.clone();
        public.alg = Some(alg.as_str().into());
        public.use_ = "sig".into();
        Ok(Self {
            kid: jwk.kid.clone(),
            alg,
            accepted: vec![alg],
            encoding: None,
            decoding,
            public: Some(public),
            hmac: None,
        })
    }

    /// Set the key id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid = kid.into();
        if let Some(p) = &mut self.public {
            p.kid = Some(kid.clone());
        }
        self.kid = Some(kid);
        self
    }

    /// Replace the accepted verification algorithms (all must be of this key's family).
    pub fn accept_algorithms(mut self, algs: &[Algorithm]) -> Result<Self, JwtError> {
        if algs.is_empty() || algs.iter().any(|a| a.family() != self.alg.family()) {
            return Err(JwtError::KeyConfig(
                "accepted algorithms must be non-empty and of the key's family".into(),
            ));
        }
        self.accepted = algs.to_vec();
        Ok(self)
    }

    /// Key id.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Algorithms accepted on verification.
    pub fn accepted_algorithms(&self) -> &[Algorithm] {
        &self.accepted
    }

    /// Has private (or secret) material?
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    /// Public JWK (`None` for HMAC secrets, which are never published).
    pub fn public_jwk(&self) -> Option<&PublicJwk> {
        self.public.as_ref()
    }
}

/// Keys indexed by `kid`, with one designated signing key.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<JwtKey>,
    by_kid: HashMap<String, usize>,
    keyless: Option<usize>,
    signing: Option<usize>,
}

impl KeySet {
    /// Empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set with one key, which also signs if it can.
    pub fn single(key: JwtKey) -> Self {
        let mut s = Self::new();
        s.add(key).expect("an empty set accepts any key");
        s
    }

    /// Add a key. The first key able to sign becomes the signing key. Duplicate `kid`s
    /// and more than one key without `kid` are refused.
    pub fn add(&mut self, key: JwtKey) -> Result<(), JwtError> {
        let idx = self.keys.len();
        match key.kid() {
            Some(kid) => {
                if self.by_kid.contains_key(kid) {
                    return Err(JwtError::KeyConfig(format!("duplicate kid {kid}")));
                }
                self.by_kid.insert(kid.to_string(), idx);
            }
            None => {
                if self.keyless.is_some() {
                    return Err(JwtError::KeyConfig("only one key may lack a kid".into()));
                }
                self.keyless = Some(idx);
            }
        }
        if self.signing.is_none() && key.can_sign() {
            self.signing = Some(idx);
        }
        self.keys.push(key);
        Ok(())
    }

    /// Choose the signing key by kid (`None` = the key without kid).
    pub fn set_signing_kid(&mut self, kid: Option<&str>) -> Result<(), JwtError> {
        let idx = match kid {
            Some(k) => self.by_kid.get(k).copied(),
            None => self.keyless,
        }
        .ok_or_else(|| JwtError::KeyConfig("no such key".into()))?;
        if !self.keys[idx].can_sign() {
            return Err(JwtError::KeyConfig("key has no private material".into()));
        }
        self.signing = Some(idx);
        Ok(())
    }

    /// Parse a JWKS document (e.g. fetched from an IdP) into a verification key set.
    /// Keys of unsupported types are skipped; symmetric keys are never accepted.
    pub fn from_jwks_json(json: &str) -> Result<Self, JwtError> {
        let doc: Value =
            serde_json::from_str(json).map_err(|e| JwtError::InvalidKey(e.to_string()))?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JwtError::InvalidKey("no keys array".into()))?;
        let mut set = Self::new();
        for k in keys {
            let Ok(jwk) = serde_json::from_value::<PublicJwk>(k.clone()) else {
                continue;
            };
            if let Ok(key) = JwtKey::from_jwk(&jwk) {
                set.add(key)?;
            }
        }
        Ok(set)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No keys?
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Key for a token `kid` (`None` = the key without kid).
    pub fn get(&self, kid: Option<&str>) -> Option<&JwtKey> {
        let idx = match kid {
            Some(k) => self.by_kid.get(k).copied(),
            None => self.keyless,
        }?;
        self.keys.get(idx)
    }

    /// The signing key.
    pub fn signing_key(&self) -> Option<&JwtKey> {
        self.signing.and_then(|i| self.keys.get(i))
    }

    /// Public keys as a JWKS (HMAC secrets omitted).
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self
                .keys
                .iter()
                .filter_map(|k| k.public_jwk().cloned())
                .collect(),
        }
    }
}

/// `true` for material PyJWT refuses as an HMAC secret: a PEM block or an OpenSSH public
/// key. Keying HS256 with an RSA public key's PEM is the classic algorithm confusion.
pub fn looks_like_asymmetric_key(material: &[u8]) -> bool {
    const SSH: [&[u8]; 6] = [
        b"ssh-ed25519",
        b"ssh-rsa",
        b"ssh-dss",
        b"ecdsa-sha2-nistp256",
        b"ecdsa-sha2-nistp384",
        b"ecdsa-sha2-nistp521",
    ];
    SSH.iter().any(|p| material.starts_with(p)) || material.windows(10).any(|w| w == b"-----BEGIN")
}

impl JwtKey {
    /// A key for `alg` from raw material, the way PyJWT's `prepare_key` reads a `str`/`bytes`
    /// key: for HS* the bytes are the secret, but PEM or OpenSSH key material is refused
    /// (`JWT_INVALID_KEY`, algorithm confusion); for RS256/ES256/EdDSA a PEM, private
    /// (`... PRIVATE KEY`, signs and verifies) or public (verifies only).
    pub fn from_material(alg: Algorithm, material: &[u8]) -> Result<Self, JwtError> {
        if alg.is_hmac() {
            if looks_like_asymmetric_key(material) {
                return Err(JwtError::InvalidKey(
                    "the specified key is an asymmetric key or x509 certificate and should not be used as an HMAC secret".into(),
                ));
            }
            return Self::hmac(alg, material);
        }
        Self::from_pem(material, Some(alg), None)
    }

    /// The one PEM → key function of every binding. Whether the key is private (signs and
    /// verifies) or public (verifies only) is read from the first `-----BEGIN <label>-----`
    /// line ([`pem_kind`]); `expect` (when given) must match it. `alg` RS256, ES256 or
    /// EdDSA; `None` tries them in that order (the first that parses wins). RSA moduli
    /// under 2048 bits are refused. Every failure is `JWT_INVALID_KEY`.
    pub fn from_pem(
        pem: &[u8],
        alg: Option<Algorithm>,
        expect: Option<PemKind>,
    ) -> Result<Self, JwtError> {
        let kind = pem_kind(pem)?;
        if let Some(want) = expect
            && want != kind
        {
            return Err(JwtError::InvalidKey(format!(
                "expected a {} key PEM, got a {} key PEM",
                want.as_str(),
                kind.as_str()
            )));
        }
        let by_alg = |a: Algorithm| match (a, kind) {
            (Algorithm::RS256, PemKind::Private) => Self::rsa_private_pem(pem),
            (Algorithm::RS256, PemKind::Public) => Self::rsa_public_pem(pem),
            (Algorithm::ES256, PemKind::Private) => Self::ec_private_pem(pem),
            (Algorithm::ES256, PemKind::Public) => Self::ec_public_pem(pem),
            (Algorithm::EdDSA, PemKind::Private) => Self::ed_private_pem(pem),
            (Algorithm::EdDSA, PemKind::Public) => Self::ed_public_pem(pem),
            (other, _) => Err(JwtError::InvalidKey(format!(
                "{} is not a PEM key algorithm",
                other.as_str()
            ))),
        };
        match alg {
            Some(a) => by_alg(a),
            None => {
                let mut last = None;
                for a in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
                    match by_alg(a) {
                        Ok(k) => return Ok(k),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.unwrap_or_else(|| JwtError::InvalidKey("unrecognised PEM".into())))
            }
        }
    }
}

/// What a PEM block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemKind {
    /// `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE KEY` (SEC1) …
    Private,
    /// `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY` (PKCS#1).
    Public,
}

impl PemKind {
    /// `private` or `public`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Public => "public",
        }
    }
}

/// The kind of the first PEM block, from its `-----BEGIN <label>-----` line: a label
/// ending in `PRIVATE KEY` is private, one ending in `PUBLIC KEY` public; no such line (or
/// another label, e.g. `CERTIFICATE`) is `JWT_INVALID_KEY`.
pub fn pem_kind(pem: &[u8]) -> Result<PemKind, JwtError> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let label = pem
        .windows(BEGIN.len())
        .position(|w| w == BEGIN)
        .map(|i| &pem[i + BEGIN.len()..])
        .and_then(|rest| {
            let end = rest.windows(5).position(|w| w == b"-----")?;
            let label = &rest[..end];
            (!label.contains(&b'\n')).then_some(label)
        });
    match label {
        Some(l) if l.ends_with(b"PRIVATE KEY") => Ok(PemKind::Private),
        Some(l) if l.ends_with(b"PUBLIC KEY") => Ok(PemKind::Public),
        _ => Err(JwtError::InvalidKey(
            "not a PEM public or private key (no -----BEGIN ... KEY----- line)".into(),
        )),
    }
}
