//! RSA key material for node-auth's `JwksService` (`generateKeypair`, `derivePublicKey`,
//! `publicKeyToJwk`, `jwkToPublicKey`).

use super::{Algorithm, JwtError, PublicJwk, b64url, b64url_decode};

/// An RSA key pair as PEM strings, in the formats node's `generateKeyPairSync('rsa', {
/// publicKeyEncoding: {type: 'spki'}, privateKeyEncoding: {type: 'pkcs8'}})` returns:
/// `-----BEGIN PRIVATE KEY-----` / `-----BEGIN PUBLIC KEY-----`, 64-character lines, LF.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaKeyPairPem {
    /// PKCS#8 private key PEM.
    pub private_key: String,
    /// SPKI public key PEM.
    pub public_key: String,
}

impl std::fmt::Debug for RsaKeyPairPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKeyPairPem")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// Smallest modulus [`generate_rsa_keypair`] accepts, in bits.
pub const MIN_RSA_GENERATE_BITS: usize = 2048;

/// Largest modulus [`generate_rsa_keypair`] accepts, in bits.
pub const MAX_RSA_GENERATE_BITS: usize = 8192;

fn rsa_public_spki_pem(key: &rsa::RsaPublicKey) -> Result<String, JwtError> {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| JwtError::InvalidKey(e.to_string()))
}

/// Generate an RSA key pair (`bits` in 2048..=8192, a multiple of 8) with e = 65537 from
/// the OS CSPRNG. CPU-heavy (tens to hundreds of milliseconds): bindings run it off the
/// event loop.
pub fn generate_rsa_keypair(bits: usize) -> Result<RsaKeyPairPem, JwtError> {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    if !(MIN_RSA_GENERATE_BITS..=MAX_RSA_GENERATE_BITS).contains(&bits) || !bits.is_multiple_of(8) {
        return Err(JwtError::KeyConfig(format!(
            "RSA modulus length must be a multiple of 8 in {MIN_RSA_GENERATE_BITS}..={MAX_RSA_GENERATE_BITS}"
        )));
    }
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
        .map_err(|e| JwtError::KeyConfig(e.to_string()))?;
    let private_key = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| JwtError::InvalidKey(e.to_string()))?
        .to_string();
    let public_key = rsa_public_spki_pem(&private.to_public_key())?;
    Ok(RsaKeyPairPem {
        private_key,
        public_key,
    })
}

fn parse_rsa_private_pem(pem: &str) -> Result<rsa::RsaPrivateKey, JwtError> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| JwtError::InvalidKey("not an RSA private key PEM".into()))
}

fn parse_rsa_public_pem(pem: &str) -> Result<rsa::RsaPublicKey, JwtError> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    rsa::RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| JwtError::InvalidKey("not an RSA public key PEM".into()))
}

/// SPKI PEM of the public half of an RSA private key (PKCS#8 or PKCS#1 PEM).
pub fn rsa_public_pem_from_private(private_pem: &str) -> Result<String, JwtError> {
    rsa_public_spki_pem(&parse_rsa_private_pem(private_pem)?.to_public_key())
}

/// node-auth `JwksService.publicKeyToJwk(pem, kid)`: `{kty:"RSA", use:"sig", alg:"RS256",
/// kid, n, e}` from an RSA public key (SPKI or PKCS#1 PEM) or private key PEM.
pub fn rsa_pem_to_jwk(pem: &str, kid: &str) -> Result<PublicJwk, JwtError> {
    use rsa::traits::PublicKeyParts;
    let public = parse_rsa_public_pem(pem)
        .or_else(|_| parse_rsa_private_pem(pem).map(|k| k.to_public_key()))?;
    Ok(PublicJwk {
        kty: "RSA".into(),
        use_: "sig".into(),
        alg: Some(Algorithm::RS256.as_str().into()),
        kid: Some(kid.into()),
        n: Some(b64url(&public.n().to_bytes_be())),
        e: Some(b64url(&public.e().to_bytes_be())),
        crv: None,
        x: None,
        y: None,
    })
}

/// node-auth `JwksService.jwkToPublicKey(jwk)`: the SPKI PEM of an RSA JWK's `n` and `e`.
pub fn rsa_jwk_to_public_pem(jwk: &PublicJwk) -> Result<String, JwtError> {
    if jwk.kty != "RSA" {
        return Err(JwtError::InvalidKey("JWK is not an RSA key".into()));
    }
    let part = |v: &Option<String>, name: &str| -> Result<rsa::BigUint, JwtError> {
        let bytes = b64url_decode(v.as_deref().unwrap_or(""))
            .map_err(|_| JwtError::InvalidKey(format!("bad JWK {name}")))?;
        if bytes.is_empty() {
            return Err(JwtError::InvalidKey(format!("missing JWK {name}")));
        }
        Ok(rsa::BigUint::from_bytes_be(&bytes))
    };
    let key = rsa::RsaPublicKey::new(part(&jwk.n, "n")?, part(&jwk.e, "e")?)
        .map_err(|e| JwtError::InvalidKey(e.to_string()))?;
    rsa_public_spki_pem(&key)
}
