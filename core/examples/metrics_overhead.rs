//! Cost of the core's metrics on the verification hot path: `HttpVerifier::verify` over the
//! memory store (no network: the worst case for a fixed per-call cost), with recording on
//! and off in ONE process, in interleaved rounds, reported as medians. Also with two
//! threads verifying at once (the shared atomics' cache lines bounce between cores).
//!   cargo run --profile bench-fast -p authcore --example metrics_overhead [rounds] [calls]
//! Prints one JSON object (bench/metrics/run.sh stores it in bench/results/metrics.json).
//! `metrics_overhead count <sign|on|off> <calls>` is the instruction-count mode (see
//! [`count`]), run under callgrind by bench/metrics/run.sh.

use std::sync::Arc;
use std::time::Instant;

use authcore::hmac::clients::Patch;
use authcore::hmac::crypto::{SignInput, hash_client_secret, sign_request};
use authcore::hmac::verify::{HttpRequestParts, VerifyOptions, now_ms};
use authcore::hmac::{HmacAuth, HmacAuthOptions};
use authcore::store::MemoryStore;

struct Req {
    ts: String,
    nonce: String,
    sig: String,
}

fn requests(key: &str, body: &[u8], tag: &str, n: usize) -> Vec<Req> {
    (0..n)
        .map(|i| {
            let ts = now_ms();
            let nonce = format!("{tag}-{i}");
            let sig = sign_request(&SignInput {
                method: "POST",
                path: "/v1/orders",
                timestamp: ts,
                nonce: &nonce,
                body,
                secret: key,
            })
            .unwrap();
            Req {
                ts: authcore::js::number_to_string(ts),
                nonce,
                sig,
            }
        })
        .collect()
}

/// Verifies every request (all must pass); returns ns per call.
async fn run(auth: &HmacAuth, body: &[u8], reqs: &[Req]) -> f64 {
    let t0 = Instant::now();
    for r in reqs {
        let parts = HttpRequestParts {
            method: "POST",
            path: "/v1/orders",
            client_id: Some("bench"),
            signature: Some(&r.sig),
            timestamp: Some(&r.ts),
            nonce: Some(&r.nonce),
            body,
        };
        auth.verifier
            .verify(&parts, VerifyOptions::default())
            .await
            .expect("valid request");
    }
    t0.elapsed().as_nanos() as f64 / reqs.len() as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn new_auth() -> Arc<HmacAuth> {
    let auth = Arc::new(
        HmacAuth::new(
            Arc::new(MemoryStore::new()),
            &HmacAuthOptions {
                namespace: Some("bench".into()),
                max_skew_ms: Some(3_600_000.0),
                ..Default::default()
            },
        )
        .unwrap(),
    );
    auth.clients
        .set_secret(
            "bench",
            "s",
            &Patch::Keep,
            &authcore::hmac::clients::AllowedIps::Keep,
        )
        .await
        .unwrap();
    auth
}

/// Interleaved rounds in pairs: (on, off), (off, on), … (the order alternates so drift
/// hits both sides alike), after one warm-up round. `threads` verifiers run at once per
/// round. Besides the medians of each side, the median of the per-pair ratios on/off (a
/// paired comparison: load that changes between pairs cancels out).
async fn compare(rounds: usize, calls: usize, threads: usize) -> serde_json::Value {
    let key = hash_client_secret("s", None);
    let body = vec![b'x'; 200];
    let auth = new_auth().await;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..rounds * 2 + 1 {
        let pair = round.saturating_sub(1) / 2;
        let first = round % 2 == 1;
        let enabled = round == 0 || (first == (pair % 2 == 0));
        authcore::metrics::set_enabled(enabled);
        let mut tasks = Vec::new();
        for t in 0..threads {
            let reqs = requests(&key, &body, &format!("r{round}t{t}"), calls);
            let auth = auth.clone();
            let body = body.clone();
            tasks.push(tokio::spawn(async move { run(&auth, &body, &reqs).await }));
        }
        let mut ns = 0.0;
        for t in tasks {
            ns += t.await.unwrap();
        }
        let ns = ns / threads as f64;
        if round == 0 {
            continue; // warm-up
        }
        if enabled { &mut on } else { &mut off }.push(ns);
    }
    authcore::metrics::set_enabled(true);
    let (m_on, m_off) = (median(on.clone()), median(off.clone()));
    let ratios: Vec<f64> = on.iter().zip(&off).map(|(a, b)| a / b).collect();
    let paired = median(ratios);
    serde_json::json!({
        "threads": threads,
        "rounds_each": on.len(),
        "calls_per_round_per_thread": calls,
        "ns_per_call_on_median": m_on.round(),
        "ns_per_call_off_median": m_off.round(),
        "calls_per_s_per_thread_on": (1e9 / m_on).round(),
        "calls_per_s_per_thread_off": (1e9 / m_off).round(),
        "overhead_percent": ((m_on / m_off - 1.0) * 100.0 * 100.0).round() / 100.0,
        "paired_overhead_percent": ((paired - 1.0) * 100.0 * 100.0).round() / 100.0,
        "ns_per_call_on_min": on.iter().copied().fold(f64::INFINITY, f64::min).round(),
        "ns_per_call_off_min": off.iter().copied().fold(f64::INFINITY, f64::min).round(),
        "rounds_on_ns": on.iter().map(|v| v.round()).collect::<Vec<_>>(),
        "rounds_off_ns": off.iter().map(|v| v.round()).collect::<Vec<_>>(),
    })
}

/// `count <sign|on|off> <calls>`: one thread, no timing: signs `calls` requests and, for
/// `on`/`off`, verifies them with recording on or off. Run under
/// `valgrind --tool=callgrind` at two sizes (bench/metrics/run.sh): the difference in
/// instructions between the sizes, divided by the difference in calls, is the cost of one
/// call with the fixed costs (start-up, runtime, store setup) cancelled; `sign` is the
/// request-building part to subtract. Instruction counts do not move with the machine's
/// load, unlike wall-clock time.
fn count(mode: &str, calls: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let key = hash_client_secret("s", None);
        let body = vec![b'x'; 200];
        let auth = new_auth().await;
        authcore::metrics::set_enabled(mode == "on");
        let reqs = requests(&key, &body, "count", calls);
        if mode != "sign" {
            run(&auth, &body, &reqs).await;
        }
        std::hint::black_box(&reqs);
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("count") {
        let mode = args.get(1).map_or("on", String::as_str);
        let calls = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(1000);
        count(mode, calls);
        return;
    }
    let rounds: usize = args.first().and_then(|v| v.parse().ok()).unwrap_or(15);
    let calls: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (one, two) = rt.block_on(async {
        let one = compare(rounds, calls, 1).await;
        let two = compare(rounds, calls, 2).await;
        (one, two)
    });
    println!(
        "{}",
        serde_json::json!({
            "what": "HttpVerifier::verify over MemoryStore, 200-byte body, metrics recording on vs off (authcore::metrics::set_enabled), interleaved rounds, medians",
            "one_thread": one,
            "two_threads": two,
        })
    );
}
