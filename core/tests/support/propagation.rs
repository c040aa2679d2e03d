//! Shared by the propagation tests: an in-memory management adapter that keeps the
//! contract the original's SQL adapters keep (spec §2.4, §4: Tables 1-3, publish-once),
//! peers over any transport or broker, the in-process mesh they meet on, a credential
//! store that lets a test act around each apply, the RabbitMQ and Redis settings and
//! clean-ups of the tests on the real services, and polling.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use authcore::hmac::{HmacAuth, HmacAuthOptions, HmacClients};
use authcore::propagation::amqp::{AmqpOptions, AmqpProtocol};
use authcore::propagation::config::{AmqpSettings, Broker, create_propagator};
use authcore::propagation::propagator::*;
use authcore::propagation::state::{MemoryPropagationState, PropagationState, PublishedEvent};
use authcore::propagation::wire::{self, Cursor, EventAuth};
use authcore::propagation::{InProcessBroker, Logger, Transport};
use authcore::store::{KvStore, MemoryStore};

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
    /// This many of the next `markTargetSuccess` calls never return (the process dies
    /// inside the callback).
    pub hang_mark_success: Arc<AtomicUsize>,
    /// When set, every pending propagation is read with this op (a row the adapter's
    /// inference would not produce).
    pub pending_op: Arc<Mutex<Option<String>>>,
    /// When set, the next `fetchPendingPropagations` reads the rows, says so on the sender
    /// and returns them only once the receiver answers (a `sync` held right after its fetch).
    #[allow(clippy::type_complexity)]
    pub fetch_pause: Arc<
        Mutex<
            Option<(
                tokio::sync::oneshot::Sender<()>,
                tokio::sync::oneshot::Receiver<()>,
            )>,
        >,
    >,
}

/// The propagation secret of test peer `name`: `secret-of-{name}`.
pub fn secret_of(name: &str) -> String {
    format!("secret-of-{name}")
}

/// A management adapter whose directory (Table 2) names each of `peers` with its
/// [`secret_of`].
pub fn peers_directory(peers: &[impl AsRef<str>]) -> MemoryManagement {
    MemoryManagement::directory_of(
        peers
            .iter()
            .map(|p| (p.as_ref().to_owned(), secret_of(p.as_ref()))),
    )
}

impl MemoryManagement {
    pub fn with_directory(entries: &[(&str, &str)]) -> Self {
        Self::directory_of(entries.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }
    /// [`Self::with_directory`] from `(queue name, secret)` pairs.
    pub fn directory_of(entries: impl IntoIterator<Item = (String, String)>) -> Self {
        let m = Self::default();
        m.db.lock().unwrap().directory = entries.into_iter().collect();
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
    /// The pending rows, one propagation per client with its pending targets.
    fn pending_rows(&self, forced_op: Option<String>) -> Vec<PendingPropagation> {
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
                    op: forced_op.clone().unwrap_or_else(|| op.into()),
                    secret_plain: c.secret_plain.clone(),
                    allowed_ips: c.allowed_ips.clone(),
                    expires_at: c.expires_at,
                    pending_targets: vec![t],
                }),
            }
        }
        out
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
        let forced_op = self.pending_op.lock().unwrap().clone();
        let out = self.pending_rows(forced_op);
        let pause = self.fetch_pause.lock().unwrap().take();
        if let Some((fetched, go)) = pause {
            let _ = fetched.send(());
            let _ = go.await;
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
        let hang = self
            .hang_mark_success
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if hang.is_ok() {
            std::future::pending::<()>().await;
        }
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
    /// The last `n` lines, the newest first.
    pub fn last(&self, n: usize) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .rev()
            .take(n)
            .cloned()
            .collect()
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
    event_auth: EventAuth,
) -> Peer {
    let parts = PeerParts {
        name,
        secret,
        http,
        message,
        management,
        state,
        event_auth,
    };
    parts.start(Via::Transport(transport)).await
}

/// [`start_peer`] on a broker of `create_propagator` (e.g. [`amqp_broker`]), http track
/// only.
pub async fn start_peer_on(
    name: &str,
    secret: &str,
    http: HmacClients,
    management: Option<MemoryManagement>,
    state: Arc<dyn PropagationState>,
    broker: Broker,
) -> Peer {
    let parts = PeerParts {
        name,
        secret,
        http,
        message: None,
        management,
        state,
        event_auth: Default::default(),
    };
    parts.start(Via::Broker(broker)).await
}

/// What a test peer is started over.
enum Via {
    Transport(Arc<dyn Transport>),
    Broker(Broker),
}

/// A test peer before it starts: its stores become its sinks, and a logger whose lines
/// the test reads is added.
struct PeerParts<'a> {
    name: &'a str,
    secret: &'a str,
    http: HmacClients,
    message: Option<HmacClients>,
    management: Option<MemoryManagement>,
    state: Arc<dyn PropagationState>,
    event_auth: EventAuth,
}

impl PeerParts<'_> {
    async fn start(self, via: Via) -> Peer {
        let lines = Lines::default();
        let parts = PropagatorParts {
            amqp_queue: self.name.into(),
            propagation_secret: self.secret.into(),
            http: Some(Arc::new(self.http.clone()) as Arc<dyn CredentialSink>),
            message: self.message.map(|m| Arc::new(m) as Arc<dyn CredentialSink>),
            management: self
                .management
                .clone()
                .map(|m| Arc::new(m) as Arc<dyn Management>),
            logger: Arc::new(lines.clone()),
            event_auth: self.event_auth,
            state: self.state,
        };
        let propagator = match via {
            Via::Transport(t) => Propagator::start(parts, t).await,
            Via::Broker(b) => create_propagator(parts, b).await,
        };
        Peer {
            propagator: propagator.unwrap(),
            http: self.http,
            management: self.management,
            lines,
        }
    }
}

/// Peers on one in-process broker, each with its own memory store: the http track
/// (`hmac:http`, pepper `pepper-of-{name}`), optionally the message track on the same store,
/// and the propagation secret [`secret_of`] its name.
#[derive(Default)]
pub struct Mesh {
    pub broker: InProcessBroker,
}

impl Mesh {
    pub fn new() -> Self {
        Self::default()
    }
    /// A transport on the mesh consuming peer `name`'s queue.
    pub fn transport(&self, name: &str) -> Arc<dyn Transport> {
        Arc::new(
            self.broker
                .transport(&wire::build_queue_name(name).unwrap()),
        )
    }
    /// Peer `name` (full mode with `management`), http track only, propagation state in
    /// memory.
    pub async fn peer(&self, name: &str, management: Option<MemoryManagement>) -> Peer {
        self.start(name, management, false, None).await
    }
    /// [`Self::peer`] with the message track too.
    pub async fn peer_with_message(
        &self,
        name: &str,
        management: Option<MemoryManagement>,
    ) -> Peer {
        self.start(name, management, true, None).await
    }
    /// [`Self::peer`] with its propagation state in `state`.
    pub async fn peer_with_state(
        &self,
        name: &str,
        management: Option<MemoryManagement>,
        state: Arc<dyn PropagationState>,
    ) -> Peer {
        self.start(name, management, false, Some(state)).await
    }
    async fn start(
        &self,
        name: &str,
        management: Option<MemoryManagement>,
        with_message: bool,
        state: Option<Arc<dyn PropagationState>>,
    ) -> Peer {
        let state = state.unwrap_or_else(|| Arc::new(MemoryPropagationState::default()));
        let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let pepper = format!("pepper-of-{name}");
        let http = auth(store.clone(), "hmac:http", &pepper);
        let message = with_message.then(|| auth(store, "hmac:message", &pepper));
        start_peer(
            name,
            &secret_of(name),
            http,
            message,
            management,
            state,
            self.transport(name),
        )
        .await
    }
}

/// What a [`Tapped`] credential store does around each write of a secret hash.
#[async_trait]
pub trait Tap: Send + Sync + 'static {
    /// Before the write (it may wait, e.g. for a gate the test opens).
    async fn before_set(&self, _id: &str, _hash: &str) {}
    /// After the write succeeded (e.g. recording the apply order).
    fn after_set(&self, _id: &str, _hash: &str) {}
}

/// A credential store: `inner`, with `tap` called around each `set_secret_hash`.
pub struct Tapped<T> {
    pub inner: HmacClients,
    pub tap: T,
}

#[async_trait]
impl<T: Tap> CredentialSink for Tapped<T> {
    async fn exists(&self, id: &str) -> Result<bool, SinkError> {
        CredentialSink::exists(&self.inner, id).await
    }
    async fn set_secret_hash(
        &self,
        id: &str,
        hash: &str,
        expires_at: Option<f64>,
        ips: Option<Vec<String>>,
    ) -> Result<(), SinkError> {
        self.tap.before_set(id, hash).await;
        CredentialSink::set_secret_hash(&self.inner, id, hash, expires_at, ips).await?;
        self.tap.after_set(id, hash);
        Ok(())
    }
    async fn delete(&self, id: &str) -> Result<(), SinkError> {
        CredentialSink::delete(&self.inner, id).await
    }
    fn secret_token(&self) -> Option<&str> {
        CredentialSink::secret_token(&self.inner)
    }
}

/// The shared RabbitMQ of the tests (127.0.0.1:5672, guest/guest) as a broker of
/// `create_propagator`, on `vhost` (`None`: the default, `hmac-credentials`).
pub fn amqp_broker(vhost: Option<&str>) -> Broker {
    Broker::Amqp(AmqpSettings {
        protocol: "amqp".into(),
        host: "127.0.0.1".into(),
        port: 5672.0,
        user: "guest".into(),
        password: "guest".into(),
        vhost: vhost.map(Into::into),
    })
}

/// The transport options of a peer on the shared RabbitMQ (127.0.0.1:5672, guest/guest,
/// vhost `/`) consuming `own_queue`.
pub fn amqp_options(own_queue: &str) -> AmqpOptions {
    AmqpOptions {
        protocol: AmqpProtocol::Amqp,
        host: "127.0.0.1".into(),
        port: 5672,
        user: "guest".into(),
        password: "guest".into(),
        vhost: "/".into(),
        own_queue: own_queue.into(),
    }
}

/// A raw connection to the shared RabbitMQ, vhost `vhost` as it stands in a URI (`%2f` for
/// `/`).
pub async fn amqp_connection(vhost: &str) -> lapin::Connection {
    lapin::Connection::connect(
        &format!("amqp://guest:guest@127.0.0.1:5672/{vhost}"),
        lapin::ConnectionProperties::default(),
    )
    .await
    .expect("RabbitMQ must be running at 127.0.0.1:5672 (guest/guest)")
}

/// Deletes `queues` of the shared RabbitMQ's `vhost` (as in [`amqp_connection`]), those
/// that exist.
pub async fn delete_queues(vhost: &str, queues: &[String]) {
    let conn = amqp_connection(vhost).await;
    let ch = conn.create_channel().await.unwrap();
    for q in queues {
        let _ = ch.queue_delete(q.as_str().into(), Default::default()).await;
    }
    let _ = conn.close(200, "OK".into()).await;
}

/// The keys of the Redis at `url` matching `pattern`.
pub async fn redis_keys(url: &str, pattern: &str) -> Vec<String> {
    let mut c = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut c)
        .await
        .unwrap()
}

/// Deletes the keys of the Redis at `url` matching `pattern`.
pub async fn delete_redis_keys(url: &str, pattern: &str) {
    let keys = redis_keys(url, pattern).await;
    let mut c = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for chunk in keys.chunks(500) {
        let _: () = redis::cmd("DEL")
            .arg(chunk)
            .query_async(&mut c)
            .await
            .unwrap();
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

/// A name no other test or run uses: `t-{tag}-{pid}-{uuid}`.
pub fn unique(tag: &str) -> String {
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
    let (ea, eb) = (unique("ev-a"), unique("ev-b"));
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
    let (c1, c2, d1) = (unique("ev-c1"), unique("ev-c2"), unique("ev-d1"));
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
