//! The Redis pub/sub distributor: fan-out of events across processes (node-auth's
//! `ISseDistributor`, and `authcore.events` in Python), so that an event published in one
//! process reaches each subscriber of every process exactly once.
//!
//! Every process publishes to one channel and is subscribed to it, so its own events come
//! back too (the original's self-echo contract: a manager with a distributor delivers
//! only what comes back). A message is the topic as a JSON string, a newline, then the
//! event's JSON text, untouched, so a Node and a Python process read each other's events.
//!
//! The subscription runs on its own connection in a task that reconnects (500 ms, then
//! doubling to 10 s) when Redis goes away; messages wait in a bounded queue of
//! [`DISTRIBUTOR_QUEUE`] for the host's [`RedisDistributor::next`]; past it new messages
//! are dropped and counted ([`RedisDistributor::dropped`]).

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_core::Stream;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::EventsError;

/// Messages held for a host that has not read them yet.
pub const DISTRIBUTOR_QUEUE: usize = 65_536;

/// `"<topic as a JSON string>\n<event JSON>"`.
pub fn encode_envelope(topic: &str, event_json: &str) -> String {
    let t = serde_json::to_string(topic).unwrap_or_else(|_| "\"\"".to_owned());
    let mut s = String::with_capacity(t.len() + 1 + event_json.len());
    s.push_str(&t);
    s.push('\n');
    s.push_str(event_json);
    s
}

/// The topic and event JSON of a message; `None` for anything else.
pub fn decode_envelope(msg: &str) -> Option<(String, String)> {
    let (t, ev) = msg.split_once('\n')?;
    let topic: String = serde_json::from_str(t).ok()?;
    Some((topic, ev.to_owned()))
}

fn err(e: impl std::fmt::Display) -> EventsError {
    EventsError::Distributor(format!("redis distributor: {e}"))
}

/// Where `PUBLISH` goes: one server, or any node of a cluster (Redis Cluster forwards a
/// classic `PUBLISH` to every node, so a subscriber on any node receives it).
#[derive(Clone)]
enum Publisher {
    Server(redis::aio::ConnectionManager),
    Cluster(redis::cluster_async::ClusterConnection),
}

/// A connected distributor. Dropping it stops the subscription.
pub struct RedisDistributor {
    channel: String,
    publisher: Publisher,
    rx: Mutex<mpsc::Receiver<(String, String)>>,
    dropped: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RedisDistributor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDistributor")
            .field("channel", &self.channel)
            .finish()
    }
}

impl Drop for RedisDistributor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn subscribe_once(
    client: &redis::Client,
    channel: &str,
    tx: &mpsc::Sender<(String, String)>,
    dropped: &AtomicU64,
    ready: &mut Option<oneshot::Sender<Result<(), EventsError>>>,
) -> Result<(), EventsError> {
    let mut pubsub = client.get_async_pubsub().await.map_err(err)?;
    pubsub.subscribe(channel).await.map_err(err)?;
    if let Some(r) = ready.take() {
        let _ = r.send(Ok(()));
    }
    let mut stream = pubsub.into_on_message();
    while let Some(msg) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        let Ok(payload) = msg.get_payload::<String>() else {
            continue;
        };
        if let Some(m) = decode_envelope(&payload)
            && tx.try_send(m).is_err()
        {
            if tx.is_closed() {
                return Ok(());
            }
            dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

impl RedisDistributor {
    /// Connect to `url` and subscribe to `channel`; returns once the subscription is
    /// active, so nothing published after it is missed. `redis://…` (`rediss://`,
    /// `unix://`) is one server; `redis+cluster://host:port[,host:port…]`
    /// (`rediss+cluster://`) a Redis Cluster: `PUBLISH` goes through the cluster client
    /// and the subscription to one seed node (the next one after a lost connection), since
    /// a cluster delivers every classic `PUBLISH` on every node.
    pub async fn connect(url: &str, channel: &str) -> Result<Self, EventsError> {
        let (publisher, subscribers) = match crate::store::cluster_nodes(url) {
            Some(nodes) => {
                let nodes = nodes.map_err(err)?;
                let conn = crate::store::RedisClusterStore::connect(url)
                    .await
                    .map_err(err)?
                    .connection();
                let clients = nodes
                    .iter()
                    .map(|n| redis::Client::open(n.as_str()).map_err(err))
                    .collect::<Result<Vec<_>, _>>()?;
                (Publisher::Cluster(conn), clients)
            }
            None => {
                let client = redis::Client::open(url).map_err(err)?;
                let publisher = redis::aio::ConnectionManager::new(client.clone())
                    .await
                    .map_err(err)?;
                (Publisher::Server(publisher), vec![client])
            }
        };
        let (tx, rx) = mpsc::channel(DISTRIBUTOR_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let (ready_tx, ready_rx) = oneshot::channel();
        let ch = channel.to_owned();
        let d = Arc::clone(&dropped);
        let task = tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut backoff = Duration::from_millis(500);
            let mut next = 0usize;
            loop {
                // One server: always the same client. A cluster: each seed node in turn
                // (the first connect tries them all before it fails).
                let client = &subscribers[next % subscribers.len()];
                next += 1;
                let r = subscribe_once(client, &ch, &tx, &d, &mut ready).await;
                if tx.is_closed() {
                    return;
                }
                if let Err(e) = r {
                    if ready.is_some() && next < subscribers.len() {
                        continue;
                    }
                    if let Some(rd) = ready.take() {
                        let _ = rd.send(Err(e));
                        return;
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        });
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(err("subscription task ended")),
        }
        Ok(Self {
            channel: channel.to_owned(),
            publisher,
            rx: Mutex::new(rx),
            dropped,
            task,
        })
    }

    /// `PUBLISH` the event to every process (this one included).
    pub async fn publish(&self, topic: &str, event_json: &str) -> Result<(), EventsError> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel)
            .arg(encode_envelope(topic, event_json));
        let _: i64 = match self.publisher.clone() {
            Publisher::Server(mut c) => cmd.query_async(&mut c).await,
            Publisher::Cluster(mut c) => cmd.query_async(&mut c).await,
        }
        .map_err(err)?;
        Ok(())
    }

    /// The next `(topic, event JSON)` received; `None` once closed.
    pub async fn next(&self) -> Option<(String, String)> {
        self.rx.lock().await.recv().await
    }

    /// Stop the subscription (pending `next` calls end with `None`).
    pub async fn close(&self) {
        self.task.abort();
        self.rx.lock().await.close();
    }

    /// Messages dropped because the host did not read them in time.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trip() {
        for topic in ["global", "user:a\nb", "custom:\"x\"", ""] {
            let m = encode_envelope(topic, r#"{"id":"1","data":"a\nb"}"#);
            assert_eq!(
                decode_envelope(&m),
                Some((topic.to_owned(), r#"{"id":"1","data":"a\nb"}"#.to_owned()))
            );
        }
        assert_eq!(decode_envelope("no newline"), None);
        assert_eq!(decode_envelope("notjson\n{}"), None);
    }
}
