//! The `clients` credential lifecycle (spec §2.11), shared by the HTTP and message
//! instances.
//!
//! Each operation is a pure *plan* (validation and the records to write, no I/O) plus a
//! thin async driver over a [`KvStore`]. Bindings whose store lives in the host language
//! (the Node drop-in with a node-redis client object) run the same plans and do the I/O
//! themselves, so both paths behave the same.
//!
//! One deliberate difference from the original: every argument is validated **before**
//! the first write, so a bad `expiresAt`/`allowedIps` never leaves a stray backup behind
//! (spec §5.4; see `docs/compat.md`).

use std::sync::Arc;

use super::crypto::hash_client_secret;
use super::ip::{AllowedIpEntry, normalize_allowed_ip_rules};
use super::record::{ClientRecord, NamespaceKeys, parse_optional_record};
use super::verify::Clock;
use super::{HmacAuthError, HmacError, HmacErrorCode};
use crate::js::is_js_whitespace;
use crate::store::KvStore;
use secrecy::{ExposeSecret, SecretString};

/// A tri-state argument: JavaScript `undefined` (keep), `null` (clear) or a value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    /// `undefined`: leave the stored value as it is.
    #[default]
    Keep,
    /// `null`: remove the stored value.
    Clear,
    /// A new value.
    Set(T),
}

/// An `expiresAt` argument after the binding applied `Number(v)` / `Date#getTime()`.
pub type ExpiresAt = Patch<f64>;
/// An `allowedIps` argument as the host gave it: `undefined` (keep), `null` (clear), an
/// array of entries, or something that is not an array. The lifecycle validates it where
/// the original does, after the checks that come first there (a missing client is
/// `CLIENT_NOT_FOUND` whatever the list), with the original's messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AllowedIps {
    /// `undefined`: leave the stored list as it is.
    #[default]
    Keep,
    /// `null`: remove the list (every IP allowed).
    Clear,
    /// A new list, validated entry by entry.
    Set(Vec<AllowedIpEntry>),
    /// Not an array: `allowedIps must be an array of IP/CIDR strings` when it is read.
    NotAnArray,
}

impl AllowedIps {
    /// A list of strings (every entry valid as a string).
    pub fn strings<S: Into<String>>(list: impl IntoIterator<Item = S>) -> Self {
        Self::Set(
            list.into_iter()
                .map(|s| AllowedIpEntry::Str(s.into()))
                .collect(),
        )
    }

    /// `None` keeps the list, `Some(list)` sets it (the shape of a propagated event).
    pub fn from_optional(list: Option<Vec<String>>) -> Self {
        list.map_or(Self::Keep, Self::strings)
    }

    /// The normalised rules (`None`: keep the stored list), or the original's error.
    pub fn normalize(&self) -> Result<Option<Vec<String>>, HmacError> {
        match self {
            Self::Keep => Ok(None),
            Self::Clear => Ok(Some(Vec::new())),
            Self::Set(list) => normalize_allowed_ip_rules(Some(list)).map(Some),
            Self::NotAnArray => Err(not_an_array()),
        }
    }
}

/// The original's message for an `allowedIps` that is not an array.
pub fn not_an_array() -> HmacError {
    HmacError::InvalidArgument("allowedIps must be an array of IP/CIDR strings".into())
}

/// Configuration shared by every lifecycle call.
#[derive(Debug, Clone)]
pub struct ClientsConfig {
    /// The namespace's Redis keys.
    pub keys: NamespaceKeys,
    /// `secretToken` (the pepper, `HMAC_SECRET_TOKEN`): redacted from `Debug`, wiped on
    /// drop.
    pub secret_token: Option<SecretString>,
    /// `defaultSecretLengthBytes` (16..=128) of generated secrets.
    pub default_secret_length_bytes: f64,
    /// `dbSeedBackupTtlSeconds`.
    pub backup_ttl_seconds: i64,
}

/// `HmacClientCredential`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCredential {
    /// The client id.
    pub client_id: String,
    /// The stored credential.
    pub record: ClientRecord,
}

/// `HmacClientCredentialWithSecret`.
#[derive(Clone, PartialEq)]
pub struct ClientCredentialWithSecret {
    /// The client id.
    pub client_id: String,
    /// The stored credential (holding the secret's hash only).
    pub record: ClientRecord,
    /// The plain secret, returned once to hand to the client.
    pub secret: String,
}

crate::redacted_debug!(ClientCredentialWithSecret { client_id, record } secret { secret });

/// `HmacCredentialRevertResult`.
#[derive(Clone, PartialEq, Eq)]
pub struct RevertResult {
    /// Whether a backup existed and was restored.
    pub reverted: bool,
    /// The restored secret hash, when reverted.
    pub restored_secret_hash: Option<String>,
}

crate::redacted_debug!(RevertResult { reverted } secret { restored_secret_hash });

/// `CreateHmacClientOptions`.
#[derive(Clone, Default)]
pub struct CreateOptions {
    /// The new client's id.
    pub client_id: String,
    /// `expiresAt`.
    pub expires_at: ExpiresAt,
    /// `secretLengthBytes` of a generated secret (default: the config's).
    pub secret_length_bytes: Option<f64>,
    /// `Some` when `plainSecret !== undefined` (a JS `null` arrives as `Some(None)`).
    pub plain_secret: Option<Option<String>>,
    /// `allowedIps`.
    pub allowed_ips: AllowedIps,
}

crate::redacted_debug!(CreateOptions { client_id, expires_at, secret_length_bytes, allowed_ips } secret { plain_secret });

/// `RegenerateHmacSecretOptions`.
#[derive(Clone, Default)]
pub struct RegenerateOptions {
    /// `expiresAt`.
    pub expires_at: ExpiresAt,
    /// `secretLengthBytes` of a generated secret (default: the config's).
    pub secret_length_bytes: Option<f64>,
    /// `plainSecret`: `Some` when given (a JS `null` arrives as `Some(None)`).
    pub plain_secret: Option<Option<String>>,
    /// `preserveExpiresAt`.
    pub preserve_expires_at: Option<bool>,
    /// `allowedIps`.
    pub allowed_ips: AllowedIps,
}

crate::redacted_debug!(RegenerateOptions { expires_at, secret_length_bytes, preserve_expires_at, allowed_ips } secret { plain_secret });

/// What a plan asks the driver to write, in order: the backup (if any), then the record.
#[derive(Clone, PartialEq)]
pub struct WritePlan {
    /// The previous secret hash, written to the backup key (with its TTL) first.
    pub backup_secret_hash: Option<String>,
    /// The record to store.
    pub record: ClientRecord,
}

crate::redacted_debug!(WritePlan { record } secret { backup_secret_hash });

/// `assertClientId`: empty or blank → `MISSING_CLIENT_ID` 400; longer than
/// [`crate::limits::MAX_CLIENT_ID_BYTES`] → `INVALID_ARGUMENT` (checked first, on the
/// length alone).
pub fn assert_client_id(client_id: &str) -> Result<(), HmacError> {
    crate::limits::within_bytes(
        "clientId",
        client_id.len(),
        crate::limits::MAX_CLIENT_ID_BYTES,
    )
    .map_err(|e| HmacError::InvalidArgument(e.0))?;
    if client_id.trim_matches(is_js_whitespace).is_empty() {
        return Err(HmacAuthError::with_status(
            HmacErrorCode::MissingClientId,
            "clientId cannot be empty",
            400,
        )
        .into());
    }
    Ok(())
}

fn check_expires(v: &ExpiresAt) -> Result<(), HmacError> {
    if let Patch::Set(n) = v
        && !n.is_finite()
    {
        return Err(HmacError::InvalidArgument(
            "expiresAt must be a valid timestamp or Date".into(),
        ));
    }
    Ok(())
}

fn normalize_ips(v: &AllowedIps) -> Result<Option<Vec<String>>, HmacError> {
    v.normalize()
}

fn check_secret_length(n: f64) -> Result<usize, HmacError> {
    if n.fract() != 0.0 || !(16.0..=128.0).contains(&n) {
        return Err(HmacError::InvalidArgument(
            "secretLengthBytes must be an integer between 16 and 128".into(),
        ));
    }
    Ok(n as usize)
}

/// Validate `defaultSecretLengthBytes` at initialisation.
pub fn validate_secret_length(n: f64) -> Result<(), HmacError> {
    check_secret_length(n).map(drop)
}

/// `randomBytes(n).toString("hex")` from the OS CSPRNG, `n` validated (16..=128).
pub fn generate_secret(length_bytes: f64) -> Result<String, HmacError> {
    let n = check_secret_length(length_bytes)?;
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| HmacError::InvalidInput(format!("CSPRNG unavailable: {e}")))?;
    Ok(hex::encode(buf))
}

/// `generateNonce()`: 16 random bytes as 32 lowercase hex chars.
pub fn generate_nonce() -> Result<String, HmacError> {
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf)
        .map_err(|e| HmacError::InvalidInput(format!("CSPRNG unavailable: {e}")))?;
    Ok(hex::encode(buf))
}

fn choose_secret(plain: &Option<Option<String>>, length: f64) -> Result<String, HmacError> {
    match plain {
        Some(p) => match p {
            Some(s) if !s.trim_matches(is_js_whitespace).is_empty() => Ok(s.clone()),
            _ => Err(HmacError::InvalidArgument(
                "plainSecret cannot be empty".into(),
            )),
        },
        None => generate_secret(length),
    }
}

/// `createdAt || now` (the original uses `||`, so `0` also becomes `now`).
fn keep_created(existing: Option<&ClientRecord>, now: f64) -> f64 {
    match existing {
        Some(r) if r.created_at != 0.0 && !r.created_at.is_nan() => r.created_at,
        _ => now,
    }
}

impl ClientsConfig {
    /// `hashClientSecret(secret, secretToken)` with this config's pepper.
    pub fn hash(&self, secret: &str) -> String {
        hash_client_secret(
            secret,
            self.secret_token.as_ref().map(|t| t.expose_secret()),
        )
    }

    /// Plan `create`: unconditional overwrite, no backup.
    pub fn plan_create(
        &self,
        opts: &CreateOptions,
        now: f64,
    ) -> Result<(ClientRecord, String), HmacError> {
        assert_client_id(&opts.client_id)?;
        let secret = choose_secret(
            &opts.plain_secret,
            opts.secret_length_bytes
                .unwrap_or(self.default_secret_length_bytes),
        )?;
        check_expires(&opts.expires_at)?;
        let allowed_ips = normalize_ips(&opts.allowed_ips)?.unwrap_or_default();
        let record = ClientRecord {
            secret_hash: self.hash(&secret),
            created_at: now,
            updated_at: now,
            expires_at: match opts.expires_at {
                Patch::Set(v) => Some(v),
                _ => None,
            },
            allowed_ips,
        };
        Ok((record, secret))
    }

    /// Plan `regenerateSecret`: the client must exist; a backup of the old hash when the
    /// hash changes.
    pub fn plan_regenerate(
        &self,
        existing: Option<&ClientRecord>,
        opts: &RegenerateOptions,
        now: f64,
    ) -> Result<(WritePlan, String), HmacError> {
        let Some(existing) = existing else {
            return Err(HmacAuthError::new(
                HmacErrorCode::ClientNotFound,
                "Cannot regenerate secret: client not found",
            )
            .into());
        };
        let secret = choose_secret(
            &opts.plain_secret,
            opts.secret_length_bytes
                .unwrap_or(self.default_secret_length_bytes),
        )?;
        check_expires(&opts.expires_at)?;
        let expires_at = match opts.expires_at {
            Patch::Set(v) => Some(v),
            Patch::Clear => None,
            Patch::Keep if opts.preserve_expires_at == Some(false) => None,
            Patch::Keep => existing.expires_at,
        };
        let allowed_ips =
            normalize_ips(&opts.allowed_ips)?.unwrap_or_else(|| existing.allowed_ips.clone());
        let secret_hash = self.hash(&secret);
        let backup = (secret_hash != existing.secret_hash).then(|| existing.secret_hash.clone());
        let record = ClientRecord {
            secret_hash,
            created_at: keep_created(Some(existing), now),
            updated_at: now,
            expires_at,
            allowed_ips,
        };
        Ok((
            WritePlan {
                backup_secret_hash: backup,
                record,
            },
            secret,
        ))
    }

    /// Plan `setSecret` / `setSecretHash` (an upsert) for an already computed hash.
    pub fn plan_set_hash(
        &self,
        existing: Option<&ClientRecord>,
        secret_hash: String,
        expires_at: &ExpiresAt,
        allowed_ips: &AllowedIps,
        now: f64,
    ) -> Result<WritePlan, HmacError> {
        check_expires(expires_at)?;
        let ips = normalize_ips(allowed_ips)?;
        let backup = existing
            .filter(|e| e.secret_hash != secret_hash)
            .map(|e| e.secret_hash.clone());
        let record = ClientRecord {
            created_at: keep_created(existing, now),
            updated_at: now,
            expires_at: match expires_at {
                Patch::Keep => existing.and_then(|e| e.expires_at),
                Patch::Clear => None,
                Patch::Set(v) => Some(*v),
            },
            allowed_ips: ips
                .unwrap_or_else(|| existing.map(|e| e.allowed_ips.clone()).unwrap_or_default()),
            secret_hash,
        };
        Ok(WritePlan {
            backup_secret_hash: backup,
            record,
        })
    }

    /// Plan `setAllowedIps`: the client must exist; no backup.
    pub fn plan_set_allowed_ips(
        &self,
        existing: Option<&ClientRecord>,
        allowed_ips: &AllowedIps,
        now: f64,
    ) -> Result<ClientRecord, HmacError> {
        let Some(existing) = existing else {
            return Err(HmacAuthError::new(
                HmacErrorCode::ClientNotFound,
                "Cannot set allowedIps: client not found",
            )
            .into());
        };
        let ips = match allowed_ips {
            AllowedIps::Keep | AllowedIps::Clear => Vec::new(),
            _ => normalize_ips(allowed_ips)?.unwrap_or_default(),
        };
        Ok(ClientRecord {
            secret_hash: existing.secret_hash.clone(),
            created_at: keep_created(Some(existing), now),
            updated_at: now,
            expires_at: existing.expires_at,
            allowed_ips: ips,
        })
    }

    /// Plan `revert` once the backup and the record were read: `None` means "no-op"
    /// (and the driver deletes an orphan backup when the record is gone).
    pub fn plan_revert(existing: &ClientRecord, backup_hash: &str, now: f64) -> ClientRecord {
        ClientRecord {
            secret_hash: backup_hash.to_owned(),
            created_at: keep_created(Some(existing), now),
            updated_at: now,
            expires_at: existing.expires_at,
            allowed_ips: existing.allowed_ips.clone(),
        }
    }
}

/// `setSecretHash` normalisation: `trim().toLowerCase()` (JavaScript semantics).
pub fn normalize_secret_hash(hash: &str) -> String {
    hash.trim_matches(is_js_whitespace).to_lowercase()
}

/// The lifecycle over a store (the `clients` object of both instances).
#[derive(Clone)]
pub struct HmacClients {
    store: Arc<dyn KvStore>,
    cfg: Arc<ClientsConfig>,
    clock: Clock,
}

impl std::fmt::Debug for HmacClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacClients")
            .field("namespace", &self.cfg.keys.namespace)
            .finish_non_exhaustive()
    }
}

impl HmacClients {
    /// The lifecycle over `store` with `cfg`.
    pub fn new(store: Arc<dyn KvStore>, cfg: ClientsConfig) -> Self {
        Self {
            store,
            cfg: Arc::new(cfg),
            clock: Clock::system(),
        }
    }

    /// The same lifecycle stamping `createdAt`/`updatedAt` from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the lifecycle (and the message track) reads.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The configuration.
    pub fn config(&self) -> &ClientsConfig {
        &self.cfg
    }

    /// The store the credentials live in.
    pub fn store(&self) -> &Arc<dyn KvStore> {
        &self.store
    }

    /// `HGET <ns>:clients <clientId>` and parse; `None` when missing or empty.
    pub async fn read_record(&self, client_id: &str) -> Result<Option<ClientRecord>, HmacError> {
        let raw = self
            .store
            .hget(&self.cfg.keys.clients_hash_key, client_id)
            .await?;
        Ok(parse_optional_record(raw.as_deref()))
    }

    async fn write(&self, client_id: &str, plan: &WritePlan) -> Result<(), HmacError> {
        if let Some(backup) = &plan.backup_secret_hash {
            self.store
                .set_ex(
                    &self.cfg.keys.backup_key(client_id),
                    backup,
                    self.cfg.backup_ttl_seconds,
                )
                .await?;
        }
        self.store
            .hset(
                &self.cfg.keys.clients_hash_key,
                client_id,
                &plan.record.to_json(),
            )
            .await?;
        Ok(())
    }

    /// `createClient`: stores a new credential and returns it with its plain secret.
    pub async fn create(
        &self,
        opts: &CreateOptions,
    ) -> Result<ClientCredentialWithSecret, HmacError> {
        let (record, secret) = self.cfg.plan_create(opts, self.clock.now_ms()?)?;
        self.store
            .hset(
                &self.cfg.keys.clients_hash_key,
                &opts.client_id,
                &record.to_json(),
            )
            .await?;
        Ok(ClientCredentialWithSecret {
            client_id: opts.client_id.clone(),
            record,
            secret,
        })
    }

    /// `listClientIds` (`HKEYS`).
    pub async fn list_client_ids(&self) -> Result<Vec<String>, HmacError> {
        Ok(self.store.hkeys(&self.cfg.keys.clients_hash_key).await?)
    }

    /// `getClient`: the stored credential, `None` when missing.
    pub async fn get(&self, client_id: &str) -> Result<Option<ClientCredential>, HmacError> {
        assert_client_id(client_id)?;
        Ok(self
            .read_record(client_id)
            .await?
            .map(|record| ClientCredential {
                client_id: client_id.to_owned(),
                record,
            }))
    }

    /// `HDEL`. Like the original, the backup key is left to expire.
    pub async fn delete(&self, client_id: &str) -> Result<(), HmacError> {
        assert_client_id(client_id)?;
        Ok(self
            .store
            .hdel(&self.cfg.keys.clients_hash_key, client_id)
            .await?)
    }

    /// `regenerateSecret`: backs up the current hash, stores a new secret and returns it.
    pub async fn regenerate_secret(
        &self,
        client_id: &str,
        opts: &RegenerateOptions,
    ) -> Result<ClientCredentialWithSecret, HmacError> {
        assert_client_id(client_id)?;
        let existing = self.read_record(client_id).await?;
        let (plan, secret) =
            self.cfg
                .plan_regenerate(existing.as_ref(), opts, self.clock.now_ms()?)?;
        self.write(client_id, &plan).await?;
        Ok(ClientCredentialWithSecret {
            client_id: client_id.to_owned(),
            record: plan.record,
            secret,
        })
    }

    /// `setSecret`: stores the hash of `secret` (backing up the current one).
    pub async fn set_secret(
        &self,
        client_id: &str,
        secret: &str,
        expires_at: &ExpiresAt,
        allowed_ips: &AllowedIps,
    ) -> Result<(), HmacError> {
        assert_client_id(client_id)?;
        let existing = self.read_record(client_id).await?;
        let plan = self.cfg.plan_set_hash(
            existing.as_ref(),
            self.cfg.hash(secret),
            expires_at,
            allowed_ips,
            self.clock.now_ms()?,
        )?;
        self.write(client_id, &plan).await
    }

    /// `setSecretHash`: stores an already hashed secret (backing up the current one).
    pub async fn set_secret_hash(
        &self,
        client_id: &str,
        secret_hash: &str,
        expires_at: &ExpiresAt,
        allowed_ips: &AllowedIps,
    ) -> Result<(), HmacError> {
        assert_client_id(client_id)?;
        let existing = self.read_record(client_id).await?;
        let plan = self.cfg.plan_set_hash(
            existing.as_ref(),
            normalize_secret_hash(secret_hash),
            expires_at,
            allowed_ips,
            self.clock.now_ms()?,
        )?;
        self.write(client_id, &plan).await
    }

    /// `setAllowedIps`: replaces or clears the allow-list of an existing client.
    pub async fn set_allowed_ips(
        &self,
        client_id: &str,
        allowed_ips: &AllowedIps,
    ) -> Result<(), HmacError> {
        assert_client_id(client_id)?;
        let existing = self.read_record(client_id).await?;
        let record =
            self.cfg
                .plan_set_allowed_ips(existing.as_ref(), allowed_ips, self.clock.now_ms()?)?;
        self.store
            .hset(
                &self.cfg.keys.clients_hash_key,
                client_id,
                &record.to_json(),
            )
            .await?;
        Ok(())
    }

    /// `getSecretHash`: the stored secret hash, `None` when the client is missing.
    pub async fn get_secret_hash(&self, client_id: &str) -> Result<Option<String>, HmacError> {
        assert_client_id(client_id)?;
        Ok(self.read_record(client_id).await?.map(|r| r.secret_hash))
    }

    /// `revertSecret`: restores the backed-up secret hash, if the backup has not expired.
    pub async fn revert(&self, client_id: &str) -> Result<RevertResult, HmacError> {
        assert_client_id(client_id)?;
        let backup_key = self.cfg.keys.backup_key(client_id);
        let backup = self.store.get(&backup_key).await?.filter(|b| !b.is_empty());
        let Some(backup) = backup else {
            return Ok(RevertResult {
                reverted: false,
                restored_secret_hash: None,
            });
        };
        let Some(existing) = self.read_record(client_id).await? else {
            self.store.del(&backup_key).await?;
            return Ok(RevertResult {
                reverted: false,
                restored_secret_hash: None,
            });
        };
        let record = ClientsConfig::plan_revert(&existing, &backup, self.clock.now_ms()?);
        self.store
            .hset(
                &self.cfg.keys.clients_hash_key,
                client_id,
                &record.to_json(),
            )
            .await?;
        self.store.del(&backup_key).await?;
        Ok(RevertResult {
            reverted: true,
            restored_secret_hash: Some(backup),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hmac::{HmacAuth, HmacAuthOptions};
    use crate::store::MemoryStore;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_host_clock_stamps_the_lifecycle_and_the_message_track() {
        let now = Arc::new(AtomicU64::new(1_750_000_001_000f64.to_bits()));
        let read = now.clone();
        let clock = Clock::from_fn(move || f64::from_bits(read.load(Ordering::SeqCst)));
        let auth = HmacAuth::new(Arc::new(MemoryStore::new()), &HmacAuthOptions::default())
            .unwrap()
            .with_clock(clock);
        block_on(async {
            let opts = CreateOptions {
                client_id: "orders".into(),
                plain_secret: Some(Some("s".into())),
                expires_at: Patch::Set(1_750_000_002_500.0),
                ..CreateOptions::default()
            };
            let made = auth.clients.create(&opts).await.unwrap();
            assert_eq!(made.record.created_at, 1_750_000_001_000.0);
            now.store(1_750_000_002_000f64.to_bits(), Ordering::SeqCst);
            auth.clients
                .set_allowed_ips("orders", &AllowedIps::Clear)
                .await
                .unwrap();
            let got = auth.clients.get("orders").await.unwrap().unwrap();
            assert_eq!(got.record.created_at, 1_750_000_001_000.0);
            assert_eq!(got.record.updated_at, 1_750_000_002_000.0);
            let msg = crate::hmac::JsValue::Null;
            assert!(auth.sign_message("orders", &msg).await.is_ok());
            now.store(1_750_000_003_000f64.to_bits(), Ordering::SeqCst);
            let expired = auth.sign_message("orders", &msg).await.unwrap_err();
            assert!(
                matches!(expired, HmacError::Auth(ref e) if e.code == HmacErrorCode::ClientExpired),
                "{expired:?}"
            );
            now.store(f64::NAN.to_bits(), Ordering::SeqCst);
            let bad = auth.clients.create(&opts).await.unwrap_err();
            assert_eq!(bad.to_string(), "now must be a finite number");
        });
    }
}
