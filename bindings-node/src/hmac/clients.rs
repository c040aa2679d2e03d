//! The `clients` lifecycle (spec §2.11) as pure planners, for a JS layer whose store is
//! a `RedisLikeClient` object: JS does the reads and writes the plan asks for, in the
//! original's order; the core does every validation, hash and record.

use authcore::hmac::clients::{
    self, AllowedIps, ClientsConfig, CreateOptions, ExpiresAt, Patch, RegenerateOptions, WritePlan,
};
use authcore::hmac::ip::AllowedIpEntry;
use authcore::hmac::record::{ClientRecord, parse_optional_record};
use authcore::hmac::{HmacAuthOptions, HmacError};
use authcore_node_boundary::napi;

use crate::error::{Result, map_err};
use crate::hmac::pure::ClientRecordJs;
use napi::Env;

/// Instance options shared by both initialisers (already defaulted by nobody: the core
/// applies the defaults and validates like the original).
#[napi(object, object_to_js = false)]
#[derive(Clone)]
pub struct AuthOptionsJs {
    pub namespace: Option<String>,
    pub max_skew_ms: Option<f64>,
    pub default_secret_length_bytes: Option<f64>,
    pub secret_token: Option<String>,
    pub db_seed_backup_ttl_seconds: Option<f64>,
}

pub fn auth_options(o: Option<&AuthOptionsJs>) -> HmacAuthOptions {
    let Some(o) = o else {
        return HmacAuthOptions::default();
    };
    HmacAuthOptions {
        namespace: o.namespace.clone(),
        max_skew_ms: o.max_skew_ms,
        default_secret_length_bytes: o.default_secret_length_bytes,
        secret_token: o.secret_token.clone().map(Into::into),
        backup_ttl_seconds: o.db_seed_backup_ttl_seconds,
    }
}

/// The initialisers' synchronous checks (the core's), giving the lifecycle configuration.
pub fn clients_config(o: &HmacAuthOptions) -> std::result::Result<ClientsConfig, HmacError> {
    o.resolve().map(|(cfg, _)| cfg)
}

/// Tri-state arguments as the JS layer classified them.
/// `expiresAtKind`: 0 = undefined (keep), 1 = null (clear), 2 = value (`expiresAt`,
/// already `Date#getTime()` / `Number(v)`, may be NaN).
/// `allowedIpsKind`: 0 = undefined, 1 = null, 2 = array (`allowedIps`, non-string
/// entries as `null`), 3 = something that is not an array.
#[napi(object, object_to_js = false)]
#[derive(Clone, Default)]
pub struct PatchesJs {
    pub expires_at_kind: Option<u32>,
    pub expires_at: Option<f64>,
    pub allowed_ips_kind: Option<u32>,
    pub allowed_ips: Option<Vec<Option<String>>>,
}

pub fn ip_entries(entries: Vec<Option<String>>) -> Vec<AllowedIpEntry> {
    entries
        .into_iter()
        .map(|e| match e {
            Some(s) => AllowedIpEntry::Str(s),
            None => AllowedIpEntry::NotAString,
        })
        .collect()
}

pub struct Patches {
    pub expires_at: ExpiresAt,
    pub allowed_ips: AllowedIps,
}

pub fn patches(p: Option<&PatchesJs>) -> Patches {
    let Some(p) = p else {
        return Patches {
            expires_at: Patch::Keep,
            allowed_ips: AllowedIps::Keep,
        };
    };
    let expires_at = match p.expires_at_kind.unwrap_or(0) {
        1 => Patch::Clear,
        2 => Patch::Set(p.expires_at.unwrap_or(f64::NAN)),
        _ => Patch::Keep,
    };
    let allowed_ips = match p.allowed_ips_kind.unwrap_or(0) {
        1 => AllowedIps::Clear,
        2 => AllowedIps::Set(ip_entries(p.allowed_ips.clone().unwrap_or_default())),
        3 => AllowedIps::NotAnArray,
        _ => AllowedIps::Keep,
    };
    Patches {
        expires_at,
        allowed_ips,
    }
}

/// `plainSecretKind`: 0 = undefined (random), 1 = null or not a string, 2 = string.
#[napi(object, object_to_js = false)]
#[derive(Clone)]
pub struct SecretChoiceJs {
    pub plain_secret_kind: Option<u32>,
    pub plain_secret: Option<String>,
    pub secret_length_bytes: Option<f64>,
    pub preserve_expires_at: Option<bool>,
}

fn plain_secret(c: Option<&SecretChoiceJs>) -> Option<Option<String>> {
    let c = c?;
    match c.plain_secret_kind.unwrap_or(0) {
        1 => Some(None),
        2 => Some(Some(c.plain_secret.clone().unwrap_or_default())),
        _ => None,
    }
}

pub fn create_options(client_id: &str, c: Option<&SecretChoiceJs>, p: &Patches) -> CreateOptions {
    CreateOptions {
        client_id: client_id.to_owned(),
        expires_at: p.expires_at.clone(),
        secret_length_bytes: c.and_then(|c| c.secret_length_bytes),
        plain_secret: plain_secret(c),
        allowed_ips: p.allowed_ips.clone(),
    }
}

pub fn regenerate_options(c: Option<&SecretChoiceJs>, p: &Patches) -> RegenerateOptions {
    RegenerateOptions {
        expires_at: p.expires_at.clone(),
        secret_length_bytes: c.and_then(|c| c.secret_length_bytes),
        plain_secret: plain_secret(c),
        preserve_expires_at: c.and_then(|c| c.preserve_expires_at),
        allowed_ips: p.allowed_ips.clone(),
    }
}

/// What the JS layer must do, in order: `SET <backupKey> <backupSecretHash> EX ttl`
/// when `backupSecretHash` is present, then `HSET <clientsHashKey> <clientId>
/// <recordJson>`. `secret` is the plain secret of create/regenerate.
#[napi(object)]
pub struct PlanJs {
    pub record_json: String,
    pub record: ClientRecordJs,
    pub backup_secret_hash: Option<String>,
    pub backup_key: String,
    pub backup_ttl_seconds: i64,
    pub clients_hash_key: String,
    pub secret: Option<String>,
}

fn plan_js(
    cfg: &ClientsConfig,
    client_id: &str,
    plan: WritePlan,
    secret: Option<String>,
) -> PlanJs {
    PlanJs {
        record_json: plan.record.to_json(),
        record: plan.record.into(),
        backup_secret_hash: plan.backup_secret_hash,
        backup_key: cfg.keys.backup_key(client_id),
        backup_ttl_seconds: cfg.backup_ttl_seconds,
        clients_hash_key: cfg.keys.clients_hash_key.clone(),
        secret,
    }
}

fn cfg_of(env: &Env, options: Option<AuthOptionsJs>) -> Result<ClientsConfig> {
    clients_config(&auth_options(options.as_ref())).map_err(|e| map_err(env, e))
}

fn existing(raw: Option<String>) -> Option<ClientRecord> {
    parse_optional_record(raw.as_deref())
}

/// `assertClientId`: blank → `MISSING_CLIENT_ID` (400).
#[napi(catch_unwind)]
pub fn assert_client_id(env: &Env, client_id: String) -> Result<()> {
    clients::assert_client_id(&client_id).map_err(|e| map_err(env, e))
}

/// Validate instance options like the initialisers do (namespace, secret length), plus
/// the settings that fail closed (`maxSkewMs`, `dbSeedBackupTtlSeconds`).
#[napi(catch_unwind)]
pub fn validate_auth_options(env: &Env, options: Option<AuthOptionsJs>) -> Result<String> {
    Ok(cfg_of(env, options)?.keys.namespace)
}

/// `maxSkewMs` of `initializeHmacHttpAuth`, a middleware or a call: a finite number of
/// milliseconds, at most 24 h (the core's check; the JS layer applies `Number()` first).
#[napi(catch_unwind)]
pub fn check_max_skew_ms(env: &Env, max_skew_ms: f64) -> Result<f64> {
    authcore::hmac::record::check_max_skew_ms(max_skew_ms).map_err(|e| map_err(env, e))
}

/// A URL with its credentials replaced by `***`, for printing.
#[napi(catch_unwind)]
pub fn redact_url(url: String) -> String {
    authcore::secret::redact_url(&url)
}

/// Plan `clients.create`.
#[napi(catch_unwind)]
pub fn plan_create(
    env: &Env,
    options: Option<AuthOptionsJs>,
    client_id: String,
    choice: Option<SecretChoiceJs>,
    patch: Option<PatchesJs>,
    now: f64,
) -> Result<PlanJs> {
    let cfg = cfg_of(env, options)?;
    let p = patches(patch.as_ref());
    let opts = create_options(&client_id, choice.as_ref(), &p);
    let (record, secret) = cfg.plan_create(&opts, now).map_err(|e| map_err(env, e))?;
    let plan = WritePlan {
        backup_secret_hash: None,
        record,
    };
    Ok(plan_js(&cfg, &client_id, plan, Some(secret)))
}

/// Plan `clients.regenerateSecret` once the record was read (`existingRaw`, `null`
/// when missing).
#[napi(catch_unwind)]
pub fn plan_regenerate(
    env: &Env,
    options: Option<AuthOptionsJs>,
    client_id: String,
    existing_raw: Option<String>,
    choice: Option<SecretChoiceJs>,
    patch: Option<PatchesJs>,
    now: f64,
) -> Result<PlanJs> {
    let cfg = cfg_of(env, options)?;
    let p = patches(patch.as_ref());
    let opts = regenerate_options(choice.as_ref(), &p);
    let (plan, secret) = cfg
        .plan_regenerate(existing(existing_raw).as_ref(), &opts, now)
        .map_err(|e| map_err(env, e))?;
    Ok(plan_js(&cfg, &client_id, plan, Some(secret)))
}

/// Plan `clients.setSecret` (`isHash` false: hash `secret` with the instance token) or
/// `clients.setSecretHash` (`isHash` true: `trim().toLowerCase()`).
#[allow(clippy::too_many_arguments)]
#[napi(catch_unwind)]
pub fn plan_set_secret(
    env: &Env,
    options: Option<AuthOptionsJs>,
    client_id: String,
    existing_raw: Option<String>,
    secret: String,
    is_hash: bool,
    patch: Option<PatchesJs>,
    now: f64,
) -> Result<PlanJs> {
    let cfg = cfg_of(env, options)?;
    let p = patches(patch.as_ref());
    let hash = if is_hash {
        clients::normalize_secret_hash(&secret)
    } else {
        cfg.hash(&secret)
    };
    let plan = cfg
        .plan_set_hash(
            existing(existing_raw).as_ref(),
            hash,
            &p.expires_at,
            &p.allowed_ips,
            now,
        )
        .map_err(|e| map_err(env, e))?;
    Ok(plan_js(&cfg, &client_id, plan, None))
}

/// Plan `clients.setAllowedIps`.
#[napi(catch_unwind)]
pub fn plan_set_allowed_ips(
    env: &Env,
    options: Option<AuthOptionsJs>,
    client_id: String,
    existing_raw: Option<String>,
    patch: Option<PatchesJs>,
    now: f64,
) -> Result<PlanJs> {
    let cfg = cfg_of(env, options)?;
    let p = patches(patch.as_ref());
    let record = cfg
        .plan_set_allowed_ips(existing(existing_raw).as_ref(), &p.allowed_ips, now)
        .map_err(|e| map_err(env, e))?;
    let plan = WritePlan {
        backup_secret_hash: None,
        record,
    };
    Ok(plan_js(&cfg, &client_id, plan, None))
}

/// Plan `clients.revert` once the backup and the record were read: the record to
/// write (`null` when there is nothing to revert).
#[napi(catch_unwind)]
pub fn plan_revert(
    env: &Env,
    options: Option<AuthOptionsJs>,
    client_id: String,
    existing_raw: Option<String>,
    backup: String,
    now: f64,
) -> Result<Option<PlanJs>> {
    let cfg = cfg_of(env, options)?;
    let Some(rec) = existing(existing_raw) else {
        return Ok(None);
    };
    let record = ClientsConfig::plan_revert(&rec, &backup, now);
    let plan = WritePlan {
        backup_secret_hash: None,
        record,
    };
    Ok(Some(plan_js(&cfg, &client_id, plan, None)))
}

/// `getClientRecord` parse: `null` for a missing or empty value.
#[napi(catch_unwind)]
pub fn parse_optional_client_record(raw: Option<String>) -> Option<ClientRecordJs> {
    existing(raw).map(Into::into)
}
