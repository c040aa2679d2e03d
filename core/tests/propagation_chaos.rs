//! Credential propagation under faults, on the real services, each fault on an instance
//! this test owns:
//! - RabbitMQ: every connection of a private vhost (created here, deleted at the end) is
//!   closed by `rabbitmqctl close_all_connections --vhost` in the middle of the sync;
//! - Redis: target `b` keeps its credentials and propagation state in a private
//!   `redis-server` (a free port, append-only file fsynced on every write) that is killed
//!   with SIGKILL while `b` is applying, then restarted on the same files;
//! - a peer process: target `c` runs in a child process (this test binary, re-executed),
//!   killed with SIGKILL while it is applying, then restarted.
//!
//! The authority `a` ensures [`credentials`] credentials, syncs, rotates a fifth of them while the
//! first events are still in flight, and syncs until every row is settled (an `error` row,
//! e.g. `stale`, is set back to `pending` as an application's retry policy would). Then:
//! - every target holds exactly the authority's latest secret (its hash) for every client;
//! - no target applied an older secret of a client after a newer one;
//! - the ACK bookkeeping is complete: every row `success`, every credential reported fully
//!   propagated (last report `success`), and nothing left in the authority's ack store.
//!
//! It prints what it counted.

#[path = "support/propagation.rs"]
mod prop_support;

use std::collections::HashMap;
use std::io::{BufRead, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authcore::hmac::crypto::hash_client_secret;
use authcore::propagation::config::create_propagator;
use authcore::propagation::propagator::*;
use authcore::propagation::state::RedisPropagationState;
use authcore::propagation::wire::random_uuid;
use authcore::store::{KvStore, RedisStore};
use prop_support::*;

/// Credentials ensured by the authority in `make test`.
const DEFAULT_CREDENTIALS: usize = 1500;

/// Credentials ensured by the authority: `AUTHCORE_CHAOS_CREDENTIALS` if set (e.g. 5000 for
/// the full-size run documented in BENCHMARKS.md), [`DEFAULT_CREDENTIALS`] otherwise.
fn credentials() -> usize {
    std::env::var("AUTHCORE_CHAOS_CREDENTIALS")
        .ok()
        .map(|v| {
            v.parse()
                .ok()
                .filter(|&n: &usize| n >= 40)
                .expect("AUTHCORE_CHAOS_CREDENTIALS: a count of at least 40")
        })
        .unwrap_or(DEFAULT_CREDENTIALS)
}
/// Every `ROTATE_EVERY`-th credential gets a second secret while the first is in flight.
const ROTATE_EVERY: usize = 5;
const SHARED_REDIS: &str = "redis://127.0.0.1:6379";
const PEPPER_A: &str = "pepper-of-a";
/// The child process's configuration (set only in the child).
const CHILD_ENV: &str = "AUTHCORE_CHAOS_PEER";

fn rabbitmqctl(args: &[&str]) {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl must be installed (the chaos test breaks a private vhost)");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn secret_of(client: &str, version: u32) -> String {
    format!("v{version}-{client}")
}

/// Records every apply (client, hash) in order, after it applied.
struct Recording {
    log: Arc<Mutex<Vec<(String, String)>>>,
    applied: Arc<AtomicUsize>,
}

impl Tap for Recording {
    fn after_set(&self, id: &str, hash: &str) {
        self.log.lock().unwrap().push((id.into(), hash.into()));
        self.applied.fetch_add(1, Ordering::SeqCst);
    }
}

/// The same, appending each apply to a file (the child process: the parent reads it).
struct FileRecording(Mutex<std::fs::File>);

impl Tap for FileRecording {
    fn after_set(&self, id: &str, hash: &str) {
        let mut f = self.0.lock().unwrap();
        let _ = writeln!(f, "{id} {hash}");
    }
}

/// A private `redis-server` on a free port, append-only with an fsync per write, so a
/// SIGKILL loses nothing that was acknowledged.
struct PrivateRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    fn start(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut r = Self {
            port,
            dir,
            child: None,
        };
        r.spawn();
        r
    }
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (the chaos test owns a private one)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "private redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The child peer's settings, passed in [`CHILD_ENV`] as `name vhost prefix log authority`.
struct ChildConfig {
    authority: String,
    name: String,
    vhost: String,
    prefix: String,
    log: PathBuf,
}

/// The child process side: runs target `c` until it is killed.
#[test]
fn chaos_peer_process() {
    let Ok(conf) = std::env::var(CHILD_ENV) else {
        return; // a normal test run: this is only the child's entry point
    };
    let parts: Vec<&str> = conf.split(' ').collect();
    let conf = ChildConfig {
        authority: parts[4].into(),
        name: parts[0].into(),
        vhost: parts[1].into(),
        prefix: parts[2].into(),
        log: parts[3].into(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store: Arc<dyn KvStore> = Arc::new(RedisStore::connect(SHARED_REDIS).await.unwrap());
        let http = auth(store, &format!("{}c", conf.prefix), "pepper-of-c");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&conf.log)
            .unwrap();
        let state = Arc::new(
            RedisPropagationState::connect(SHARED_REDIS)
                .await
                .unwrap()
                .with_prefix(&format!("{}c:", conf.prefix)),
        );
        let _p = create_propagator(
            PropagatorParts {
                amqp_queue: conf.name.clone(),
                propagation_secret: prop_support::secret_of(&conf.name).into(),
                http: Some(Arc::new(Tapped {
                    inner: http,
                    tap: FileRecording(Mutex::new(file)),
                })),
                message: None,
                // Full mode: the ACKs carry the authority's secret.
                management: Some(Arc::new(peers_directory(&[&conf.authority]))),
                logger: Arc::new(authcore::propagation::NoopLogger),
                event_auth: Default::default(),
                state,
            },
            amqp_broker(Some(&conf.vhost)),
        )
        .await
        .unwrap();
        // Until SIGKILL (or the parent's end, which kills it too).
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
}

fn spawn_child(conf: &ChildConfig) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "chaos_peer_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!(
                "{} {} {} {} {}",
                conf.name,
                conf.vhost,
                conf.prefix,
                conf.log.display(),
                conf.authority
            ),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn child_applies(log: &Path) -> Vec<(String, String)> {
    let Ok(f) = std::fs::File::open(log) else {
        return Vec::new();
    };
    std::io::BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            let (id, hash) = l.split_once(' ')?;
            // A line cut by SIGKILL is incomplete: a hash is 64 hex digits.
            (hash.len() == 64).then(|| (id.to_owned(), hash.to_owned()))
        })
        .collect()
}

/// Per client, the versions of the hashes applied, in apply order; counts of applies and
/// re-applies of the same version; panics on an older version after a newer one.
fn check_order(
    who: &str,
    applies: &[(String, String)],
    version_of: &HashMap<String, (String, u32)>,
) -> (usize, usize) {
    let mut last: HashMap<&str, u32> = HashMap::new();
    let mut repeats = 0;
    for (id, hash) in applies {
        let Some((client, v)) = version_of.get(hash) else {
            panic!("{who} applied an unknown hash for {id}");
        };
        assert_eq!(client, id, "{who} applied another client's secret to {id}");
        match last.get(id.as_str()) {
            Some(prev) if *prev > *v => {
                panic!("{who} applied version {v} of {id} after version {prev}")
            }
            Some(prev) if *prev == *v => repeats += 1,
            _ => {}
        }
        last.insert(id, *v);
    }
    (applies.len(), repeats)
}

/// The child peer process of the run, if one is running. Once the run is over
/// (`closed`), no new one is started: a fault still in flight when the test fails cannot
/// leave a peer behind.
#[derive(Default)]
struct ChildSlot {
    child: Option<Child>,
    closed: bool,
}

impl ChildSlot {
    /// Kills the running child, if any, and waits for it.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    /// Starts the child unless the run is over.
    fn start(&mut self, conf: &ChildConfig) {
        if !self.closed {
            self.child = Some(spawn_child(conf));
        }
    }
}

/// This run's files (the child's apply log, the private Redis's data): a directory under
/// the system temp dir, removed with all it holds when dropped, also when the test fails.
struct RunDir(PathBuf);

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Stops the child and deletes the private vhost and the shared keys even when the test
/// fails.
struct Cleanup {
    vhost: String,
    prefix: String,
    child: Arc<Mutex<ChildSlot>>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        {
            // A panicking fault task may have poisoned the lock; the child is killed anyway.
            let mut slot = self.child.lock().unwrap_or_else(|e| e.into_inner());
            slot.closed = true;
            slot.kill();
        }
        let _ = Command::new("rabbitmqctl")
            .args(["delete_vhost", &self.vhost])
            .output();
        let _ = Command::new("redis-cli")
            .args(["--scan", "--pattern", &format!("{}*", self.prefix)])
            .output()
            .map(|out| {
                let keys: Vec<String> = String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(str::to_owned)
                    .collect();
                for chunk in keys.chunks(500) {
                    let _ = Command::new("redis-cli").arg("DEL").args(chunk).output();
                }
            });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_broker_redis_and_peer_lose_nothing() {
    let started = Instant::now();
    let n = credentials();
    let run = random_uuid().unwrap()[..8].to_string();
    let vhost = format!("authcore-chaos-{run}");
    let prefix = format!("chaos-{run}:");
    rabbitmqctl(&["add_vhost", &vhost]);
    rabbitmqctl(&["set_permissions", "-p", &vhost, "guest", ".*", ".*", ".*"]);
    // Dropped last (declared first): after the child and the private Redis are stopped.
    let run_dir = RunDir(std::env::temp_dir().join(format!("authcore-chaos-{run}")));
    let tmp = run_dir.0.clone();
    std::fs::create_dir_all(&tmp).unwrap();
    let child_slot = Arc::new(Mutex::new(ChildSlot::default()));
    let _cleanup = Cleanup {
        vhost: vhost.clone(),
        prefix: prefix.clone(),
        child: child_slot.clone(),
    };
    let (an, bn, cn) = (format!("a-{run}"), format!("b-{run}"), format!("c-{run}"));
    let management = peers_directory(&[&an, &bn, &cn]);

    // c: a child process on the shared Redis.
    let child_conf = ChildConfig {
        authority: an.clone(),
        name: cn.clone(),
        vhost: vhost.clone(),
        prefix: prefix.clone(),
        log: tmp.join("c-applies.log"),
    };
    child_slot.lock().unwrap().start(&child_conf);

    // b: in this process, on a private Redis.
    let mut b_redis = PrivateRedis::start(tmp.join("b-redis"));
    let b_store: Arc<dyn KvStore> = Arc::new(RedisStore::connect(&b_redis.url()).await.unwrap());
    let b_http = auth(b_store, "b", "pepper-of-b");
    let b_log = Arc::new(Mutex::new(Vec::new()));
    let b_applied = Arc::new(AtomicUsize::new(0));
    let b_lines = Lines::default();
    let b = create_propagator(
        PropagatorParts {
            amqp_queue: bn.clone(),
            propagation_secret: prop_support::secret_of(&bn).into(),
            http: Some(Arc::new(Tapped {
                inner: b_http.clone(),
                tap: Recording {
                    log: b_log.clone(),
                    applied: b_applied.clone(),
                },
            })),
            message: None,
            // Full mode: the ACKs carry the authority's secret.
            management: Some(Arc::new(peers_directory(&[&an]))),
            logger: Arc::new(b_lines.clone()),
            event_auth: Default::default(),
            state: Arc::new(
                RedisPropagationState::connect(&b_redis.url())
                    .await
                    .unwrap(),
            ),
        },
        amqp_broker(Some(&vhost)),
    )
    .await
    .unwrap();

    // a: the authority, on the shared Redis.
    let shared: Arc<dyn KvStore> = Arc::new(RedisStore::connect(SHARED_REDIS).await.unwrap());
    let a_lines = Lines::default();
    let a = create_propagator(
        PropagatorParts {
            amqp_queue: an.clone(),
            propagation_secret: prop_support::secret_of(&an).into(),
            http: Some(Arc::new(auth(
                shared.clone(),
                &format!("{prefix}a"),
                PEPPER_A,
            ))),
            message: None,
            management: Some(Arc::new(management.clone())),
            logger: Arc::new(a_lines.clone()),
            event_auth: Default::default(),
            state: Arc::new(
                RedisPropagationState::connect(SHARED_REDIS)
                    .await
                    .unwrap()
                    .with_prefix(&format!("{prefix}a:")),
            ),
        },
        amqp_broker(Some(&vhost)),
    )
    .await
    .unwrap();
    let c_http = auth(shared.clone(), &format!("{prefix}c"), "pepper-of-c");

    // Every secret the authority will ever send, by hash.
    let ids: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
    let mut version_of = HashMap::new();
    let mut latest = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        let last = if i % ROTATE_EVERY == 0 { 2 } else { 1 };
        for v in 1..=last {
            version_of.insert(
                hash_client_secret(&secret_of(id, v), Some(PEPPER_A)),
                (id.clone(), v),
            );
        }
        latest.insert(
            id.clone(),
            hash_client_secret(&secret_of(id, last), Some(PEPPER_A)),
        );
    }
    let targets = vec![bn.clone(), cn.clone()];
    let a = Arc::new(a);
    for chunk in ids.chunks(n / 8) {
        let mut ensures = tokio::task::JoinSet::new();
        for id in chunk.iter().cloned() {
            let (a, targets) = (a.clone(), targets.clone());
            ensures.spawn(async move {
                a.ensure(EnsureInput {
                    secret: secret_of(&id, 1),
                    client_id: id,
                    targets,
                    ..Default::default()
                })
                .await
                .unwrap();
            });
        }
        while let Some(r) = ensures.join_next().await {
            r.unwrap();
        }
    }
    println!(
        "chaos: {n} credentials ensured in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The faults, fired by progress while the sync runs.
    let faults = Arc::new(Mutex::new(Vec::<String>::new()));
    let fault_task = {
        let (b_applied, faults, vhost, child_slot, log) = (
            b_applied.clone(),
            faults.clone(),
            vhost.clone(),
            child_slot.clone(),
            child_conf.log.clone(),
        );
        let child_conf = ChildConfig {
            authority: child_conf.authority.clone(),
            name: child_conf.name.clone(),
            vhost: child_conf.vhost.clone(),
            prefix: child_conf.prefix.clone(),
            log: child_conf.log.clone(),
        };
        let b_redis_dir = b_redis.dir.clone();
        let _ = b_redis_dir;
        tokio::spawn(async move {
            let wait_b = |at: usize| {
                let b_applied = b_applied.clone();
                async move {
                    while b_applied.load(Ordering::SeqCst) < at {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            };
            // 1. The broker drops every connection of the vhost mid-sync.
            wait_b(n / 5).await;
            tokio::task::spawn_blocking({
                let vhost = vhost.clone();
                move || rabbitmqctl(&["close_all_connections", "--vhost", &vhost, "chaos"])
            })
            .await
            .unwrap();
            faults.lock().unwrap().push(format!(
                "broker closed every connection at b-applied {}",
                b_applied.load(Ordering::SeqCst)
            ));
            // 2. The child peer is killed mid-apply, then restarted.
            while child_applies(&log).len() < n / 2 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let at = child_applies(&log).len();
            child_slot.lock().unwrap().kill();
            tokio::time::sleep(Duration::from_millis(300)).await;
            child_slot.lock().unwrap().start(&child_conf);
            faults
                .lock()
                .unwrap()
                .push(format!("peer c SIGKILLed at c-applied {at}, restarted"));
        })
    };

    // b's Redis is killed mid-apply from here (it owns the PrivateRedis).
    let redis_fault = async {
        while b_applied.load(Ordering::SeqCst) < n * 2 / 5 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let at = b_applied.load(Ordering::SeqCst);
        b_redis.kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        b_redis.spawn();
        faults.lock().unwrap().push(format!(
            "b's redis-server SIGKILLed at b-applied {at}, restarted"
        ));
    };

    // The syncs: the first, a rotation of every fifth credential while its events are in
    // flight, then until every row settles.
    let syncing = async {
        let mut syncs = 0;
        let mut published = 0;
        let mut retrying = 0;
        let s = a.sync().await.unwrap();
        syncs += 1;
        published += s.targets_published;
        retrying += s.targets_retrying;
        for id in ids.iter().step_by(ROTATE_EVERY) {
            a.rotate(RotateUsage {
                client_id: id.clone(),
                secret: secret_of(id, 2),
                track: None,
            })
            .await
            .unwrap();
        }
        // Generous under load: the sync itself takes a few seconds per thousand credentials.
        let deadline = Instant::now() + Duration::from_secs(50 + n as u64 / 40);
        let mut errors_retried = 0;
        loop {
            {
                let mut db = management.db();
                for st in db.status.values_mut() {
                    if st == "error" {
                        *st = "pending".into();
                        errors_retried += 1;
                    }
                }
            }
            let s = a.sync().await.unwrap();
            syncs += 1;
            published += s.targets_published;
            retrying += s.targets_retrying;
            let settled = {
                let db = management.db();
                db.status.values().all(|st| st == "success") && db.status.len() == 2 * n
            };
            if settled {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not settled (b applied {}; b's log {:?}; a's log {:?}): {:?}",
                b_applied.load(Ordering::SeqCst),
                b_lines.last(5),
                a_lines.last(5),
                {
                    let db = management.db();
                    let mut by: HashMap<String, usize> = HashMap::new();
                    for st in db.status.values() {
                        *by.entry(st.clone()).or_default() += 1;
                    }
                    by
                }
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        (syncs, published, retrying, errors_retried)
    };
    let sync_started = Instant::now();
    let (_, (syncs, published, retrying, errors_retried)) = tokio::join!(redis_fault, syncing);
    println!(
        "chaos: settled {:.1} s after the first sync began",
        sync_started.elapsed().as_secs_f64()
    );
    fault_task.await.unwrap();

    // Every target holds exactly the latest secret of every client.
    let mut wrong = 0;
    for id in &ids {
        let want = latest[id].as_str();
        if hash_of(&b_http, id).await.as_deref() != Some(want) {
            wrong += 1;
        }
        if hash_of(&c_http, id).await.as_deref() != Some(want) {
            wrong += 1;
        }
    }
    assert_eq!(wrong, 0, "stored secrets that are not the latest");

    // No older secret applied after a newer one.
    let b_applies = b_log.lock().unwrap().clone();
    let (b_n, b_repeats) = check_order("b", &b_applies, &version_of);
    let c_applies = child_applies(&child_conf.log);
    let (c_n, c_repeats) = check_order("c", &c_applies, &version_of);

    // ACK bookkeeping: every credential reported fully propagated, the last report
    // `success`, and the authority's ack store empty.
    let fully = management.db().fully.clone();
    let mut last_fully: HashMap<&str, &str> = HashMap::new();
    for (id, status) in &fully {
        last_fully.insert(id, status);
    }
    assert_eq!(
        last_fully.len(),
        n,
        "credentials never reported fully propagated"
    );
    assert!(
        last_fully.values().all(|s| *s == "success"),
        "a credential's last report is not success"
    );
    // The last ACK's bookkeeping lands after markCredentialFullyPropagated.
    let mut left = Vec::new();
    for _ in 0..100 {
        left = Vec::new();
        for kind in [
            "ack",
            "client-pending",
            "client-results",
            "client-outstanding",
        ] {
            left.extend(redis_keys(SHARED_REDIS, &format!("{prefix}a:propagation:{kind}:*")).await);
        }
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        left.is_empty(),
        "ack store not empty: {:?}",
        &left[..left.len().min(5)]
    );

    println!("chaos: faults: {:?}", faults.lock().unwrap());
    println!(
        "chaos: {n} credentials ({} rotated), {syncs} syncs, {published} events published, \
         {retrying} publishes retried, {errors_retried} error rows retried",
        n.div_ceil(ROTATE_EVERY)
    );
    println!(
        "chaos: b applied {b_n} ({b_repeats} repeats of the same secret), c applied {c_n} \
         ({c_repeats} repeats); markCredentialFullyPropagated {} calls; {} secrets checked, \
         0 wrong, 0 out of order; {:.1} s",
        fully.len(),
        2 * n,
        started.elapsed().as_secs_f64()
    );
    a.close().await;
    b.close().await;
    delete_redis_keys(SHARED_REDIS, &format!("{prefix}*")).await;
}
