//! The events engine (`authcore::events::EventHub`): topic index, one frame per event,
//! tenant isolation, dedupe, heartbeats on one wheel, bounded queues, replay, limits.

use std::sync::Arc;

use authcore::events::{
    Delivery, EventHub, EventMeta, Frame, HEARTBEAT_FRAME, HubConfig, SubscribeRequest,
    encode_frame,
};

fn topics(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| (*s).to_owned()).collect()
}

fn hub(cfg: HubConfig) -> EventHub {
    EventHub::new(cfg, 0).unwrap()
}

fn no_beat() -> HubConfig {
    HubConfig {
        heartbeat_interval_ms: 0,
        ..HubConfig::default()
    }
}

fn frame(id: &str) -> Frame {
    encode_frame(id, "t", &format!("{{\"id\":\"{id}\"}}")).unwrap()
}

fn publish(h: &EventHub, topic: &str, id: &str, tenant: Option<&str>) -> Delivery {
    h.publish(
        topic,
        EventMeta {
            id,
            tenant_id: tenant,
        },
        &frame(id),
    )
    .unwrap()
}

#[test]
fn publish_reaches_only_the_topic_in_subscription_order() {
    let h = hub(no_beat());
    let a = h
        .subscribe(SubscribeRequest::push(topics(&["global"])), 0)
        .unwrap()
        .id;
    let b = h
        .subscribe(SubscribeRequest::push(topics(&["user:1"])), 0)
        .unwrap()
        .id;
    let c = h
        .subscribe(SubscribeRequest::push(topics(&["user:1", "global"])), 0)
        .unwrap()
        .id;
    assert_eq!(publish(&h, "global", "e1", None).write, [a, c]);
    assert_eq!(publish(&h, "user:1", "e2", None).write, [b, c]);
    assert!(publish(&h, "user:10", "e3", None).write.is_empty());
    assert!(h.unsubscribe(a));
    assert!(!h.unsubscribe(a));
    assert_eq!(publish(&h, "global", "e4", None).write, [c]);
    assert_eq!(h.count(), 2);
}

#[test]
fn tenant_isolation_as_the_original() {
    let h = hub(no_beat());
    let acme = h
        .subscribe(SubscribeRequest::push(topics(&["t"])).tenant("acme"), 0)
        .unwrap()
        .id;
    let none = h
        .subscribe(SubscribeRequest::push(topics(&["t"])), 0)
        .unwrap()
        .id;
    assert_eq!(publish(&h, "t", "1", Some("other")).write, [none]);
    assert_eq!(publish(&h, "t", "2", Some("acme")).write, [acme, none]);
    assert_eq!(publish(&h, "t", "3", None).write, [acme, none]);
}

#[test]
fn dedupe_across_topics_and_interleaved_ids() {
    let h = hub(no_beat());
    let s = h
        .subscribe(SubscribeRequest::push(topics(&["global", "user:u"])), 0)
        .unwrap()
        .id;
    assert_eq!(publish(&h, "global", "A", None).write, [s]);
    assert_eq!(publish(&h, "global", "B", None).write, [s]);
    // The original remembers only the last id: A arriving again after B would duplicate.
    assert!(publish(&h, "user:u", "A", None).write.is_empty());
    assert!(publish(&h, "user:u", "B", None).write.is_empty());
    let off = hub(HubConfig {
        deduplicate: false,
        ..no_beat()
    });
    let s2 = off
        .subscribe(SubscribeRequest::push(topics(&["x"])), 0)
        .unwrap()
        .id;
    assert_eq!(publish(&off, "x", "A", None).write, [s2]);
    assert_eq!(publish(&off, "x", "A", None).write, [s2]);
}

#[test]
fn one_frame_shared_by_every_subscriber_and_the_ring() {
    let h = hub(HubConfig {
        max_queue_bytes: 1 << 20,
        ..no_beat()
    });
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            h.subscribe(SubscribeRequest::pull(topics(&["g"])), 0)
                .unwrap()
                .id,
        );
    }
    let f = frame("shared");
    h.publish(
        "g",
        EventMeta {
            id: "shared",
            tenant_id: None,
        },
        &f,
    )
    .unwrap();
    for id in ids {
        let got = h.try_next(id).unwrap();
        assert!(Arc::ptr_eq(&got[0], &f), "frame was copied per subscriber");
    }
    // 3 queues (drained) + the ring + ours
    assert_eq!(Arc::strong_count(&f), 2);
}

#[test]
fn heartbeats_come_from_one_wheel_per_subscriber_phase() {
    let h = hub(HubConfig {
        heartbeat_interval_ms: 1_000,
        ..HubConfig::default()
    });
    assert_eq!(h.tick_ms(), 62);
    let a = h
        .subscribe(SubscribeRequest::push(topics(&["g"])), 0)
        .unwrap()
        .id;
    let b = h
        .subscribe(SubscribeRequest::push(topics(&["g"])), 500)
        .unwrap()
        .id;
    let p = h
        .subscribe(SubscribeRequest::pull(topics(&["g"])), 0)
        .unwrap()
        .id;
    assert!(h.tick(900).write.is_empty());
    let d = h.tick(1_050);
    assert_eq!(d.write, [a]);
    assert_eq!(d.queued, 1);
    assert_eq!(&*h.try_next(p).unwrap()[0], HEARTBEAT_FRAME);
    assert_eq!(h.tick(1_550).write, [b]);
    assert!(h.tick(1_700).write.is_empty());
    h.unsubscribe(a);
    assert!(h.tick(2_100).write.is_empty());
    // Late host timer: one beat, not a burst, then back on the interval.
    assert_eq!(h.tick(10_000).write, [b]);
    assert!(h.tick(10_500).write.is_empty());
    assert_eq!(h.tick(11_100).write, [b]);
}

#[test]
fn blocked_push_subscriber_queues_then_drains_in_order() {
    let h = hub(no_beat());
    let s = h
        .subscribe(SubscribeRequest::push(topics(&["g"])), 0)
        .unwrap()
        .id;
    h.block(s);
    let d = publish(&h, "g", "1", None);
    assert!(d.write.is_empty());
    assert_eq!(d.queued, 1);
    publish(&h, "g", "2", None);
    let frames = h.drain(s);
    assert_eq!(frames.len(), 2);
    assert!(frames[0].starts_with("id: 1\n"));
    assert!(frames[1].starts_with("id: 2\n"));
    assert_eq!(publish(&h, "g", "3", None).write, [s]);
}

#[test]
fn slow_client_over_the_queue_bound_is_disconnected() {
    let one = frame("0").len();
    let h = hub(HubConfig {
        max_queue_bytes: one * 3,
        ..no_beat()
    });
    let slow = h
        .subscribe(SubscribeRequest::push(topics(&["g"])), 0)
        .unwrap()
        .id;
    let fast = h
        .subscribe(SubscribeRequest::push(topics(&["g"])), 0)
        .unwrap()
        .id;
    h.block(slow);
    for i in 0..3 {
        let d = publish(&h, "g", &i.to_string(), None);
        assert_eq!(d.write, [fast]);
        assert!(d.overflowed.is_empty());
    }
    let d = publish(&h, "g", "3", None);
    assert_eq!(d.overflowed, [slow]);
    assert_eq!(d.write, [fast]);
    assert!(!h.contains(slow));
    assert!(h.drain(slow).is_empty());
    assert_eq!(h.count(), 1);
}

#[tokio::test]
async fn pull_consumer_wakes_and_ends_on_overflow() {
    let one = frame("0").len();
    let h = hub(HubConfig {
        max_queue_bytes: one * 2,
        ..no_beat()
    });
    let s = h
        .subscribe(SubscribeRequest::pull(topics(&["g"])), 0)
        .unwrap()
        .id;
    let h2 = h.clone();
    let waiter = tokio::spawn(async move { h2.next(s).await });
    tokio::task::yield_now().await;
    publish(&h, "g", "a", None);
    let got = waiter.await.unwrap().unwrap();
    assert_eq!(got.len(), 1);
    for id in ["b", "c", "d"] {
        publish(&h, "g", id, None);
    }
    // b and c were queued, d overflowed: the subscriber is disconnected (its queue
    // dropped), so `next` ends and the host closes the response.
    assert_eq!(h.next(s).await, None);
    let s2 = h
        .subscribe(SubscribeRequest::pull(topics(&["g"])), 0)
        .unwrap()
        .id;
    h.unsubscribe(s2);
    assert_eq!(h.next(s2).await, None);
}

#[test]
fn replay_after_last_event_id() {
    let h = hub(no_beat());
    publish(&h, "global", "1", None);
    publish(&h, "user:u", "2", None);
    publish(&h, "global", "2", None);
    publish(&h, "tenant:b", "3", Some("b"));
    publish(&h, "global", "4", Some("b"));
    publish(&h, "global", "5", None);
    let r = h
        .subscribe(
            SubscribeRequest::push(topics(&["global", "user:u"]))
                .tenant("a")
                .last_event_id("1"),
            0,
        )
        .unwrap();
    assert!(r.replay_complete);
    let ids: Vec<&str> = r
        .replay
        .iter()
        .map(|f| f.lines().next().unwrap().trim_start_matches("id: "))
        .collect();
    // 2 once (dedupe across its two topics), 4 skipped (tenant b), 5.
    assert_eq!(ids, ["2", "5"]);
    let gap = h
        .subscribe(
            SubscribeRequest::push(topics(&["global"])).last_event_id("nope"),
            0,
        )
        .unwrap();
    assert!(!gap.replay_complete);
    assert!(gap.replay.is_empty());
}

#[test]
fn replay_ring_is_bounded() {
    let h = hub(HubConfig {
        replay_events: 4,
        ..no_beat()
    });
    for i in 0..10 {
        publish(&h, "g", &i.to_string(), None);
    }
    assert_eq!(h.replay_len(), 4);
    let old = h
        .subscribe(SubscribeRequest::push(topics(&["g"])).last_event_id("2"), 0)
        .unwrap();
    assert!(!old.replay_complete);
    let recent = h
        .subscribe(SubscribeRequest::push(topics(&["g"])).last_event_id("7"), 0)
        .unwrap();
    assert_eq!(recent.replay.len(), 2);
    let by_bytes = hub(HubConfig {
        replay_bytes: frame("0").len() * 2,
        ..no_beat()
    });
    for i in 0..10 {
        publish(&by_bytes, "g", &i.to_string(), None);
    }
    assert_eq!(by_bytes.replay_len(), 2);
}

#[test]
fn limits_refuse_with_codes() {
    let h = hub(HubConfig {
        max_subscribers: 3,
        max_per_user: 2,
        max_topics: 2,
        max_frame_bytes: 64,
        ..no_beat()
    });
    h.subscribe(SubscribeRequest::push(topics(&["a"])).user("u"), 0)
        .unwrap();
    let second = h
        .subscribe(SubscribeRequest::push(topics(&["a"])).user("u"), 0)
        .unwrap();
    let e = h
        .subscribe(SubscribeRequest::push(topics(&["a"])).user("u"), 0)
        .unwrap_err();
    assert_eq!(e.code(), "EVENTS_TOO_MANY_FOR_USER");
    assert_eq!(h.count_for_user("u"), 2);
    let e = h
        .subscribe(SubscribeRequest::push(topics(&["a", "b", "c"])), 0)
        .unwrap_err();
    assert_eq!(e.code(), "EVENTS_TOO_MANY_TOPICS");
    // duplicates count once
    h.subscribe(SubscribeRequest::push(topics(&["a", "a", "b"])), 0)
        .unwrap();
    let e = h
        .subscribe(SubscribeRequest::push(topics(&["a"])), 0)
        .unwrap_err();
    assert_eq!(e.code(), "EVENTS_TOO_MANY_SUBSCRIBERS");
    h.unsubscribe(second.id);
    assert_eq!(h.count_for_user("u"), 1);
    h.subscribe(SubscribeRequest::push(topics(&["a"])).user("u"), 0)
        .unwrap();
    let big = encode_frame("x", "t", &"9".repeat(100)).unwrap();
    let e = h
        .publish(
            "a",
            EventMeta {
                id: "x",
                tenant_id: None,
            },
            &big,
        )
        .unwrap_err();
    assert_eq!(e.code(), "EVENTS_EVENT_TOO_LARGE");
    let e = EventHub::new(
        HubConfig {
            max_queue_bytes: 0,
            ..HubConfig::default()
        },
        0,
    )
    .unwrap_err();
    assert_eq!(e.code(), "EVENTS_INVALID_SETTING");
}
