//! `authcore.events`: the core's events engine ([`authcore::events::EventHub`]) in pull
//! mode for asyncio, the Redis distributor and the outgoing webhook policy. Thin: values
//! in, one core call, errors through the one table of `authcore.errors`.

use std::sync::Arc;
use std::time::Instant;

use authcore::events::{
    EventHub as CoreHub, EventMeta, EventsError, HubConfig, RedisDistributor as CoreDistributor,
    SubscribeRequest, encode_frame, inbound, webhook,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors::CatchUnwind;

const MODULE: &str = "authcore.events";

fn events_err(py: Python<'_>, e: &EventsError) -> PyErr {
    crate::errors::raise(py, MODULE, e.code(), e.to_string(), e.status(), "", None)
}

fn ev<T>(py: Python<'_>, r: Result<T, EventsError>) -> PyResult<T> {
    r.map_err(|e| events_err(py, &e))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<EventHub>()?;
    m.add_class::<RedisDistributor>()?;
    m.add_function(wrap_pyfunction!(events_webhook_sign, m)?)?;
    m.add_function(wrap_pyfunction!(events_webhook_verify, m)?)?;
    m.add_function(wrap_pyfunction!(events_webhook_plan, m)?)?;
    m.add_function(wrap_pyfunction!(events_webhook_next_delay, m)?)?;
    m.add_function(wrap_pyfunction!(events_webhook_check_resolved, m)?)?;
    m.add_function(wrap_pyfunction!(events_webhook_check_inbound, m)?)?;
    m.add_class::<WebhookReplayGuard>()?;
    Ok(())
}

/// The engine, every subscriber in pull mode (an asyncio consumer awaits `next`).
#[pyclass(name = "EventHub", module = "authcore.events", frozen)]
pub struct EventHub {
    hub: CoreHub,
    start: Instant,
}

impl EventHub {
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

#[pymethods]
impl EventHub {
    #[new]
    #[pyo3(signature = (*, heartbeat_interval_ms=None, deduplicate=true, max_subscribers=None, max_per_user=None, max_topics=None, max_queue_bytes=None, max_frame_bytes=None, replay_events=None, replay_bytes=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        heartbeat_interval_ms: Option<u64>,
        deduplicate: bool,
        max_subscribers: Option<usize>,
        max_per_user: Option<usize>,
        max_topics: Option<usize>,
        max_queue_bytes: Option<usize>,
        max_frame_bytes: Option<usize>,
        replay_events: Option<usize>,
        replay_bytes: Option<usize>,
    ) -> PyResult<Self> {
        let d = HubConfig::default();
        let cfg = HubConfig {
            heartbeat_interval_ms: heartbeat_interval_ms.unwrap_or(d.heartbeat_interval_ms),
            deduplicate,
            dedupe_window: d.dedupe_window,
            max_subscribers: max_subscribers.unwrap_or(d.max_subscribers),
            max_per_user: max_per_user.unwrap_or(d.max_per_user),
            max_topics: max_topics.unwrap_or(d.max_topics),
            max_queue_bytes: max_queue_bytes.unwrap_or(d.max_queue_bytes),
            max_frame_bytes: max_frame_bytes.unwrap_or(d.max_frame_bytes),
            replay_events: replay_events.unwrap_or(d.replay_events),
            replay_bytes: replay_bytes.unwrap_or(d.replay_bytes),
        };
        Ok(Self {
            hub: ev(py, CoreHub::new(cfg, 0))?,
            start: Instant::now(),
        })
    }

    /// Subscribe; returns `(id, replay_complete)`. Replayed frames are already queued.
    #[pyo3(signature = (topics, user_id=None, tenant_id=None, last_event_id=None))]
    fn subscribe(
        &self,
        py: Python<'_>,
        topics: Vec<String>,
        user_id: Option<String>,
        tenant_id: Option<String>,
        last_event_id: Option<String>,
    ) -> PyResult<(u64, bool)> {
        let req = SubscribeRequest {
            topics,
            user_id,
            tenant_id,
            last_event_id,
            mode: authcore::events::DeliveryMode::Pull,
        };
        let s = ev(py, self.hub.subscribe(req, self.now()))?;
        Ok((s.id, s.replay_complete))
    }

    fn unsubscribe(&self, id: u64) -> bool {
        self.hub.unsubscribe(id)
    }

    /// Encode the frame once and queue it for the topic's subscribers; returns how many.
    #[pyo3(signature = (topic, id, event_type, tenant_id, json))]
    fn publish(
        &self,
        py: Python<'_>,
        topic: &str,
        id: &str,
        event_type: &str,
        tenant_id: Option<&str>,
        json: &str,
    ) -> PyResult<usize> {
        let frame = ev(py, encode_frame(id, event_type, json))?;
        let meta = EventMeta {
            id,
            tenant_id: tenant_id.filter(|t| !t.is_empty()),
        };
        let d = ev(py, self.hub.publish(topic, meta, &frame))?;
        Ok(d.queued)
    }

    /// The frame of an event that is not published (the `connected` frame).
    fn encode(&self, py: Python<'_>, id: &str, event_type: &str, json: &str) -> PyResult<String> {
        Ok(ev(py, encode_frame(id, event_type, json))?.to_string())
    }

    /// Awaitable: the next frames of a subscriber (a list of str), or `None` once it is
    /// gone (unsubscribed, or disconnected by the slow-client policy). Waits without the GIL.
    fn next<'py>(&self, py: Python<'py>, id: u64) -> PyResult<Bound<'py, PyAny>> {
        let hub = self.hub.clone();
        crate::lifecycle::future_into_py(
            py,
            CatchUnwind::new(async move { hub.next(id).await }),
            |py, out| match out {
                Ok(Some(frames)) => {
                    let list = PyList::new(py, frames.iter().map(|f| &**f))?;
                    Ok(list.into_any().unbind())
                }
                Ok(None) => Ok(py.None()),
                Err(p) => Err(crate::errors::panic_err(py, &*p)),
            },
        )
    }

    /// Advance the heartbeat wheel (queues `: heartbeat` for the subscribers due one).
    fn tick(&self) -> usize {
        self.hub.tick(self.now()).queued
    }

    /// Milliseconds between two `tick()` calls (0: heartbeats off).
    #[getter]
    fn tick_ms(&self) -> u64 {
        if self.hub.config().heartbeat_interval_ms == 0 {
            0
        } else {
            self.hub.tick_ms()
        }
    }

    #[getter]
    fn count(&self) -> usize {
        self.hub.count()
    }

    fn count_for_user(&self, user_id: &str) -> usize {
        self.hub.count_for_user(user_id)
    }
}

/// The core's Redis pub/sub distributor.
#[pyclass(name = "RedisDistributor", module = "authcore.events", frozen)]
pub struct RedisDistributor {
    inner: Arc<CoreDistributor>,
}

#[pymethods]
impl RedisDistributor {
    /// Awaitable: connect to `url` and subscribe to `channel`.
    #[staticmethod]
    fn connect<'py>(py: Python<'py>, url: String, channel: String) -> PyResult<Bound<'py, PyAny>> {
        crate::lifecycle::future_into_py(
            py,
            CatchUnwind::new(async move { CoreDistributor::connect(&url, &channel).await }),
            |py, out| match out {
                Ok(Ok(d)) => Ok(Py::new(py, RedisDistributor { inner: Arc::new(d) })?.into_any()),
                Ok(Err(e)) => Err(events_err(py, &e)),
                Err(p) => Err(crate::errors::panic_err(py, &*p)),
            },
        )
    }

    /// Awaitable: publish an event (JSON text) to every process, this one included.
    fn publish<'py>(
        &self,
        py: Python<'py>,
        topic: String,
        json: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let d = Arc::clone(&self.inner);
        crate::lifecycle::future_into_py(
            py,
            CatchUnwind::new(async move { d.publish(&topic, &json).await }),
            |py, out| match out {
                Ok(Ok(())) => Ok(py.None()),
                Ok(Err(e)) => Err(events_err(py, &e)),
                Err(p) => Err(crate::errors::panic_err(py, &*p)),
            },
        )
    }

    /// Awaitable: the next `(topic, json)`, or `None` once closed.
    fn next<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = Arc::clone(&self.inner);
        crate::lifecycle::future_into_py(
            py,
            CatchUnwind::new(async move { d.next().await }),
            |py, out| match out {
                Ok(Some((t, j))) => Ok((t, j).into_pyobject(py)?.into_any().unbind()),
                Ok(None) => Ok(py.None()),
                Err(p) => Err(crate::errors::panic_err(py, &*p)),
            },
        )
    }

    /// Awaitable: stop the subscription.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = Arc::clone(&self.inner);
        crate::lifecycle::future_into_py(
            py,
            CatchUnwind::new(async move { d.close().await }),
            |py, out| match out {
                Ok(()) => Ok(py.None()),
                Err(p) => Err(crate::errors::panic_err(py, &*p)),
            },
        )
    }

    #[getter]
    fn dropped(&self) -> u64 {
        self.inner.dropped()
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
#[pyfunction]
fn events_webhook_sign(body: &str, secret: &str) -> String {
    webhook::sign(body, secret)
}

/// Constant-time signature check.
#[pyfunction]
fn events_webhook_verify(body: &str, secret: &str, signature: &str) -> bool {
    webhook::verify(body, secret, signature)
}

fn plan_dict<'py>(py: Python<'py>, p: &webhook::DeliveryPlan) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("url", &p.url)?;
    d.set_item("host", &p.host)?;
    d.set_item("delivery_id", &p.delivery_id)?;
    d.set_item("headers", p.headers.clone())?;
    d.set_item("max_retries", p.max_retries)?;
    d.set_item("retry_delay_ms", p.retry_delay_ms)?;
    d.set_item("timeout_ms", p.timeout_ms)?;
    d.set_item("allow_internal", p.allow_internal)?;
    Ok(d)
}

fn plan_from_dict(d: &Bound<'_, PyDict>) -> PyResult<webhook::DeliveryPlan> {
    let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
        d.get_item(k)?
            .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(k.to_owned()))
    };
    Ok(webhook::DeliveryPlan {
        url: get("url")?.extract()?,
        host: get("host")?.extract()?,
        delivery_id: get("delivery_id")?.extract()?,
        headers: Vec::new(),
        max_retries: get("max_retries")?
            .extract::<u32>()?
            .min(webhook::MAX_WEBHOOK_RETRIES),
        retry_delay_ms: get("retry_delay_ms")?
            .extract::<u64>()?
            .min(webhook::MAX_WEBHOOK_DELAY_MS),
        timeout_ms: get("timeout_ms")?.extract()?,
        allow_internal: get("allow_internal")?.extract()?,
    })
}

/// Plan a delivery: `url`, `host`, `delivery_id`, `headers` (pairs, in order),
/// `max_retries`, `retry_delay_ms`, `timeout_ms`, `allow_internal`.
#[pyfunction]
#[pyo3(signature = (url, event_name, timestamp, body, *, secret=None, max_retries=None, retry_delay_ms=None, timeout_ms=None, allow_internal=false))]
#[allow(clippy::too_many_arguments)]
fn events_webhook_plan<'py>(
    py: Python<'py>,
    url: String,
    event_name: &str,
    timestamp: &str,
    body: &str,
    secret: Option<String>,
    max_retries: Option<f64>,
    retry_delay_ms: Option<f64>,
    timeout_ms: Option<f64>,
    allow_internal: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let t = webhook::WebhookTarget {
        url,
        secret,
        max_retries,
        retry_delay_ms,
        timeout_ms,
        allow_internal,
    };
    let p = ev(py, webhook::plan(&t, event_name, timestamp, body))?;
    plan_dict(py, &p)
}

/// Milliseconds before the next attempt, or `None` to stop (`status` None: network error).
#[pyfunction]
#[pyo3(signature = (plan, attempt, status=None))]
fn events_webhook_next_delay(
    plan: &Bound<'_, PyDict>,
    attempt: u32,
    status: Option<u16>,
) -> PyResult<Option<u64>> {
    Ok(webhook::next_delay_random(
        &plan_from_dict(plan)?,
        attempt,
        status,
    ))
}

/// Refuse a plan whose host resolved to an internal address.
#[pyfunction]
fn events_webhook_check_resolved(
    py: Python<'_>,
    plan: &Bound<'_, PyDict>,
    addresses: Vec<String>,
) -> PyResult<()> {
    ev(
        py,
        webhook::check_resolved_text(&plan_from_dict(plan)?, &addresses),
    )
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The core's check of a signed inbound delivery against the system clock:
/// `(ok, code, error, status, replay_keys)`.
#[pyfunction]
#[pyo3(signature = (body, secret, signature, timestamp, delivery_id, window_ms))]
fn events_webhook_check_inbound(
    body: &str,
    secret: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    delivery_id: Option<&str>,
    window_ms: u64,
) -> (
    bool,
    Option<&'static str>,
    Option<&'static str>,
    u16,
    Vec<String>,
) {
    let r = inbound::check(&inbound::InboundRequest {
        body,
        secret,
        signature,
        timestamp,
        delivery_id,
        now_ms: unix_ms(),
        window_ms: window_ms.min(inbound::MAX_INBOUND_WINDOW_MS),
    });
    match r {
        Ok(keys) => (true, None, None, 200, keys),
        Err(e) => (
            false,
            Some(e.code()),
            Some(e.message()),
            e.status(),
            Vec::new(),
        ),
    }
}

/// The core's in-process replay store of inbound deliveries.
#[pyclass(name = "WebhookReplayGuard", module = "authcore.events", frozen)]
pub struct WebhookReplayGuard {
    inner: inbound::ReplayGuard,
}

#[pymethods]
impl WebhookReplayGuard {
    #[new]
    #[pyo3(signature = (capacity=None))]
    fn new(capacity: Option<usize>) -> Self {
        Self {
            inner: inbound::ReplayGuard::new(capacity.unwrap_or(inbound::DEFAULT_REPLAY_CAPACITY)),
        }
    }

    /// Claim every key for `ttl_ms`: False if any is already held (nothing claimed then).
    fn claim(&self, keys: Vec<String>, ttl_ms: u64) -> bool {
        self.inner.claim(&keys, unix_ms(), ttl_ms)
    }

    /// Give keys back (the delivery was not processed).
    fn release(&self, keys: Vec<String>) {
        self.inner.release(&keys);
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}
