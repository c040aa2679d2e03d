//! Latency and throughput of `HttpVerifier::verify` against a real Redis, from Rust alone
//! (no binding): the floor that the Node and Python numbers in bench/ can be compared with.
//!   cargo run --profile bench-fast -p authcore --example verify_redis_latency [redis_url]

use std::sync::Arc;
use std::time::Instant;

use authcore::hmac::clients::Patch;
use authcore::hmac::crypto::{SignInput, hash_client_secret, sign_request};
use authcore::hmac::verify::{HttpRequestParts, VerifyOptions, now_ms};
use authcore::hmac::{HmacAuth, HmacAuthOptions};
use authcore::store::RedisStore;

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/".into());
    let store = Arc::new(RedisStore::connect(&url).await.expect("redis"));
    let ns = format!("authcore-bench:{}", std::process::id());
    let auth = Arc::new(
        HmacAuth::new(
            store.clone(),
            &HmacAuthOptions {
                namespace: Some(ns.clone()),
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
    let key = hash_client_secret("s", None);
    let body = vec![b'x'; 200];
    let make = |i: usize| {
        let ts = now_ms();
        let nonce = format!("n{i}");
        let sig = sign_request(&SignInput {
            method: "POST",
            path: "/v1/x",
            timestamp: ts,
            nonce: &nonce,
            body: &body,
            secret: &key,
        })
        .unwrap();
        (authcore::js::number_to_string(ts), nonce, sig)
    };
    for conc in [1usize, 64] {
        let n = 20_000;
        let reqs: Vec<_> = (0..n).map(|i| make(i + conc * 1_000_000)).collect();
        let reqs = Arc::new(reqs);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..conc {
            let auth = auth.clone();
            let reqs = reqs.clone();
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = w;
                while i < reqs.len() {
                    let (ts, nonce, sig) = &reqs[i];
                    let parts = HttpRequestParts {
                        method: "POST",
                        path: "/v1/x",
                        client_id: Some("bench"),
                        signature: Some(sig),
                        timestamp: Some(ts),
                        nonce: Some(nonce),
                        body: &body,
                    };
                    let t = Instant::now();
                    auth.verifier
                        .verify(&parts, VerifyOptions::default())
                        .await
                        .expect("valid");
                    lat.push(t.elapsed().as_micros() as u64);
                    i += conc;
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let secs = started.elapsed().as_secs_f64();
        all.sort_unstable();
        println!(
            "concurrency {conc:>2}: {:>8.0} verifies/s  p50 {} us  p99 {} us",
            n as f64 / secs,
            all[all.len() / 2],
            all[all.len() * 99 / 100]
        );
    }
    let mut conn = store.connection();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{ns}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    for k in keys {
        let _: i64 = redis::cmd("DEL")
            .arg(&k)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}
