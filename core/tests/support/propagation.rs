//! Shared by the propagation tests: an in-memory management adapter that keeps the
//! contract the original's SQL adapters keep (spec §2.4, §4: Tables 1-3, publish-once),
//! peers over any transport, and polling.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use authcore::hmac::{HmacAuth, HmacAuthOptions, HmacClients};
use authcore::propagation::propagator::*;
use authcore::propagation::state::{PropagationState, PublishedEvent};
use authcore::propagation::wire::Cursor;
use authcore::propagation::{Logger, Transport};
use authcore::store::KvStore;

#[derive(Debug, Clone)]
pub struct Credential {
    pub track: String,
    pub secret_plain: Option<String>,
    pub allowed_ips: Option<Vec<String>>,
    pub expires_at: Option<i64>,
    /// `created_at == updated_at` (never updated since insert).
    pub fresh: bool,
}

#[derive(Default)]
pub struct Db {
    pub credentials: BTreeMap<String, Credential>,
    /// Table 2: target -> its env secret.
    pub directory: HashMap<String, String>,
    /// Table 3: (client, target) -> status.
    pub status: BTreeMap<(String, String), String>,
    pub reasons: BTreeMap<(String, String), String>,
    pub fully: Vec<(String, String)>,
    pub calls: Vec<String>,
}

/// The POC adapter's behaviour, in memory.
#[derive(Clone, Default)]
pub struct MemoryManagement {
    pub db: Arc<Mutex<Db>>,
    /// When set, this callback name fails with that message.
    pub fail: Arc<Mutex<Option<(String, String)>>>,
    /// `markTargetSent` takes this long (a slow database), in ms.
    pub sent_delay_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl MemoryManagement {
    pub fn with_directory(entries: &[(&str, &str)]) -> Self {
        let m = Self::default();
        m.db.lock().unwrap().directory = entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        m
    }
    pub fn db(&self) -> std::sync::MutexGuard<'_, Db> {
        self.db.lock().unwrap()
    }
    pub fn status(&self, client: &str, target: &str) -> Option<String> {
        self.db()
            .status
            .get(&(client.into(), target.into()))
            .cloned()
    }
    pub fn calls(&self, name: &str) -> usize {
        self.db()
            .calls
            .iter()
            .filter(|c| c.as_str() == name)
            .count()
    }
    fn enter(&self, name: &str) -> Result<(), CallbackError> {
        self.db().calls.push(name.into());
        match &*self.fail.lock().unwrap() {
            Some((n, msg)) if n == name => Err(CallbackError::new(msg.clone())),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Management for MemoryManagement {
    async fn upsert_credential_with_targets(&self, i: UpsertInput) -> Result<(), CallbackError> {
        self.enter("upsert")?;
        let mut db = self.db();
        let fresh = !db.credentials.contains_key(&i.client_id);
        db.credentials.insert(
            i.client_id.clone(),
            Credential {
                track: i.track,
                secret_plain: i.secret_plain,
                allowed_ips: i.allowed_ips,
                expires_at: i.expires_at,
                fresh,
            },
        );
        for t in i.targets {
            db.status.insert((i.client_id.clone(), t), "pending".into());
        }
        Ok(())
    }
    async fn rotate_credential_secret(&self, i: RotateInput) -> Result<(), CallbackError> {
        self.enter("rotate")?;
        let mut db = self.db();
        if let Some(c) = db.credentials.get_mut(&i.client_id) {
            c.secret_plain = Some(i.secret_plain);
            c.fresh = false;
        }
        for ((c, _), st) in db.status.iter_mut() {
            if *c == i.client_id {
                *st = "pending".into();
            }
        }
        Ok(())
    }
    async fn fetch_pending_propagations(&self) -> Result<Vec<PendingPropagation>, CallbackError> {
        self.enter("fetchPending")?;
        let db = self.db();
        let mut out: Vec<PendingPropagation> = Vec::new();
        for ((client, target), st) in &db.status {
            if st != "pending" {
                continue;
            }
            let c = &db.credentials[client];
            let op = if c.secret_plain.is_none() {
                "credential.delete"
            } else if c.fresh {
                "credential.create"
            } else {
                "credential.update"
            };
            let t = PendingTarget {
                target_amqp_queue: target.clone(),
                propagation_secret: db.directory.get(target).cloned().unwrap_or_default(),
            };
            match out.iter_mut().find(|p| &p.client_id == client) {
                Some(p) => p.pending_targets.push(t),
                None => out.push(PendingPropagation {
                    client_id: client.clone(),
                    track: c.track.clone(),
                    op: op.into(),
                    secret_plain: c.secret_plain.clone(),
                    allowed_ips: c.allowed_ips.clone(),
                    expires_at: c.expires_at,
                    pending_targets: vec![t],
                }),
            }
        }
        Ok(out)
    }
    async fn fetch_source_propagation_secret(
        &self,
        q: &str,
    ) -> Result<Option<String>, CallbackError> {
        self.enter("fetchSourceSecret")?;
        Ok(self.db().directory.get(q).cloned())
    }
    async fn mark_target_sent(&self, i: TargetSentInput) -> Result<(), CallbackError> {
        self.enter("markSent")?;
        let delay = self.sent_delay_ms.load(std::sync::atomic::Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        assert_eq!(i.attempt_count, 1);
        self.db()
            .status
            .insert((i.client_id, i.target_amqp_queue), "sent".into());
        Ok(())
    }
    async fn mark_target_success(&self, i: TargetSuccessInput) -> Result<(), CallbackError> {
        self.enter("markSuccess")?;
        self.db()
            .status
            .insert((i.client_id, i.target_amqp_queue), "success".into());
        Ok(())
    }
    async fn mark_target_error(&self, i: TargetErrorInput) -> Result<(), CallbackError> {
        self.enter("markError")?;
        let mut db = self.db();
        let key = (i.client_id, i.target_amqp_queue);
        db.status.insert(key.clone(), "error".into());
        db.reasons.insert(key, i.reason);
        Ok(())
    }
    async fn mark_credential_fully_propagated(
        &self,
        i: FullyPropagatedInput,
    ) -> Result<(), CallbackError> {
        self.enter("fully")?;
        let mut db = self.db();
        if let Some(c) = db.credentials.get_mut(&i.client_id) {
            c.secret_plain = None;
        }
        db.fully.push((i.client_id, i.final_status));
        Ok(())
    }
}

/// Log lines kept for assertions.
#[derive(Default, Clone)]
pub struct Lines(pub Arc<Mutex<Vec<String>>>);

impl Lines {
    pub fn any(&self, needle: &str) -> bool {
        self.0.lock().unwrap().iter().any(|l| l.contains(needle))
    }
}

impl Logger for Lines {
    fn info(&self, m: &str) {
        self.0.lock().unwrap().push(format!("info {m}"));
    }
    fn warn(&self, m: &str) {
        self.0.lock().unwrap().push(format!("warn {m}"));
    }
    fn error(&self, m: &str) {
        self.0.lock().unwrap().push(format!("error {m}"));
    }
}

/// The credential stores of one peer (http and, optionally, message) over `store`.
pub fn auth(store: Arc<dyn KvStore>, ns: &str, pepper: &str) -> HmacClients {
    HmacAuth::new(
        store,
        &HmacAuthOptions {
            namespace: Some(ns.into()),
            secret_token: Some(pepper.into()),
            ..Default::default()
        },
    )
    .unwrap()
    .clients
}

pub struct Peer {
    pub propagator: Propagator,
    pub http: HmacClients,
    pub management: Option<MemoryManagement>,
    pub lines: Lines,
}

pub async fn start_peer(
    name: &str,
    secret: &str,
    http: HmacClients,
    message: Option<HmacClients>,
    management: Option<MemoryManagement>,
    state: Arc<dyn PropagationState>,
    transport: Arc<dyn Transport>,
) -> Peer {
    start_peer_with_auth(
        name,
        secret,
        http,
        message,
        management,
        state,
        transport,
        Default::default(),
    )
    .await
}

/// [`start_peer`] with signed-event settings.
#[allow(clippy::too_many_arguments)]
pub async fn start_peer_with_auth(
    name: &str,
    secret: &str,
    http: HmacClients,
    message: Option<HmacClients>,
    management: Option<MemoryManagement>,
    state: Arc<dyn PropagationState>,
    transport: Arc<dyn Transport>,
    event_auth: authcore::propagation::wire::EventAuth,
) -> Peer {
    let lines = Lines::default();
    let propagator = Propagator::start(
        PropagatorParts {
            amqp_queue: name.into(),
            propagation_secret: secret.into(),
            http: Some(Arc::new(http.clone()) as Arc<dyn CredentialSink>),
            message: message.map(|m| Arc::new(m) as Arc<dyn CredentialSink>),
            management: management
                .clone()
                .map(|m| Arc::new(m) as Arc<dyn Management>),
            logger: Arc::new(lines.clone()),
            event_auth,
            state,
        },
        transport,
    )
    .await
    .unwrap();
    Peer {
        propagator,
        http,
        management,
        lines,
    }
}

/// Polls `cond` every 20 ms until it holds; panics with `what` after `secs` seconds.
pub async fn wait_for<F, Fut>(secs: u64, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The stored secretHash of a client, if any.
pub async fn hash_of(c: &HmacClients, id: &str) -> Option<String> {
    c.get_secret_hash(id).await.unwrap()
}

fn unique_id(tag: &str) -> String {
    format!(
        "t-{tag}-{}-{}",
        std::process::id(),
        authcore::propagation::wire::random_uuid().unwrap()
    )
}

/// The ack-store contract (upstream test/ack-store.test.ts, cursor case 5) on any state.
pub async fn check_state(s: &dyn PropagationState, client: &str) {
    assert_eq!(s.read_cursor("http", client).await.unwrap(), None);
    s.write_cursor(
        "http",
        client,
        &Cursor {
            ts: 42.0,
            event_id: "abc".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.read_cursor("http", client).await.unwrap(),
        Some(Cursor {
            ts: 42.0,
            event_id: "abc".into()
        })
    );
    assert_eq!(s.read_cursor("message", client).await.unwrap(), None);

    let ev = |t: &str| PublishedEvent {
        client_id: client.into(),
        target_amqp_queue: t.into(),
        attempt_count: 1.0,
        sent_at: 100.0,
    };
    let (ea, eb) = (unique_id("ev-a"), unique_id("ev-b"));
    s.record_published_event(&ea, &ev("A")).await.unwrap();
    assert_eq!(s.read_published_event(&ea).await.unwrap(), Some(ev("A")));
    assert_eq!(s.pending_count(client).await.unwrap(), 1);
    s.record_published_event(&eb, &ev("B")).await.unwrap();
    assert_eq!(s.pending_count(client).await.unwrap(), 2);
    s.record_target_result(client, "A", "success", &ea)
        .await
        .unwrap();
    assert_eq!(s.pending_count(client).await.unwrap(), 1);
    assert_eq!(s.read_published_event(&ea).await.unwrap(), None);
    s.record_target_result(client, "B", "error", &eb)
        .await
        .unwrap();
    assert_eq!(s.pending_count(client).await.unwrap(), 0);
    let results = s.read_client_results(client).await.unwrap();
    assert_eq!(results.get("A").map(String::as_str), Some("success"));
    assert_eq!(results.get("B").map(String::as_str), Some("error"));
    assert_eq!(results.len(), 2);
    s.clear_client_aggregates(client).await.unwrap();
    assert!(s.read_client_results(client).await.unwrap().is_empty());

    // One outstanding event per (client, target): a new event for C replaces the older.
    let (c1, c2, d1) = (unique_id("ev-c1"), unique_id("ev-c2"), unique_id("ev-d1"));
    s.record_published_event(&c1, &ev("C")).await.unwrap();
    s.record_published_event(&d1, &ev("D")).await.unwrap();
    s.record_published_event(&c2, &ev("C")).await.unwrap();
    assert_eq!(s.pending_count(client).await.unwrap(), 2);
    assert_eq!(s.read_published_event(&c1).await.unwrap(), None);
    assert_eq!(s.read_published_event(&c2).await.unwrap(), Some(ev("C")));
    assert_eq!(s.read_published_event(&d1).await.unwrap(), Some(ev("D")));
    s.clear_client_aggregates(client).await.unwrap();
    assert_eq!(
        s.read_published_event("never-recorded").await.unwrap(),
        None
    );
}
