//! `TopicIndex`: topic → subscriber ids, so a publish visits only the subscribers of its
//! topic instead of scanning every connection.
//!
//! Ids are the engine's monotonic subscriber ids, so each topic's set iterates in
//! subscription (insertion) order, as the originals' `for…of` over their connection
//! maps does. A subscriber may also be registered for **all** topics (fuz_app's
//! `channels: null`); [`TopicIndex::next_at_or_after`] merges those in id order.
//!
//! Shared by [`EventHub`](super::EventHub) (node-auth's `SseManager`, `authcore.events`)
//! and [`SubscriberRegistry`](crate::realtime::SubscriberRegistry) (fuz_app's realtime
//! guard).

use std::collections::{BTreeSet, HashMap};

/// Topic → ordered subscriber ids, plus the subscribers of every topic.
#[derive(Debug, Default, Clone)]
pub struct TopicIndex {
    by_topic: HashMap<String, BTreeSet<u64>>,
    all: BTreeSet<u64>,
}

impl TopicIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register `id` for `topics`, or for every topic when `topics` is `None`.
    pub fn insert(&mut self, id: u64, topics: Option<&[String]>) {
        match topics {
            None => {
                self.all.insert(id);
            }
            Some(topics) => {
                for t in topics {
                    self.by_topic.entry(t.clone()).or_default().insert(id);
                }
            }
        }
    }

    /// Remove `id` from `topics` (or from the all-topics set), dropping emptied topics
    /// so the index does not grow with topics nobody holds any more.
    pub fn remove(&mut self, id: u64, topics: Option<&[String]>) {
        match topics {
            None => {
                self.all.remove(&id);
            }
            Some(topics) => {
                for t in topics {
                    if let Some(set) = self.by_topic.get_mut(t.as_str()) {
                        set.remove(&id);
                        if set.is_empty() {
                            self.by_topic.remove(t.as_str());
                        }
                    }
                }
            }
        }
    }

    /// The subscribers of `topic` (exact, case-sensitive match) in id order, the
    /// all-topics subscribers merged in.
    pub fn subscribers<'a>(&'a self, topic: &str) -> impl Iterator<Item = u64> + 'a {
        let named = self.by_topic.get(topic);
        Merge {
            a: named.map(|s| s.iter().copied().peekable()),
            b: self.all.iter().copied().peekable(),
        }
    }

    /// The first subscriber of `topic` whose id is `>= from` (for walks that release a
    /// lock between subscribers).
    pub fn next_at_or_after(&self, topic: &str, from: u64) -> Option<u64> {
        let a = self
            .by_topic
            .get(topic)
            .and_then(|s| s.range(from..).next().copied());
        let b = self.all.range(from..).next().copied();
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Number of subscribers registered under `topic` (all-topics ones excluded).
    pub fn topic_len(&self, topic: &str) -> usize {
        self.by_topic.get(topic).map_or(0, BTreeSet::len)
    }

    /// Number of distinct topics held.
    pub fn topics(&self) -> usize {
        self.by_topic.len()
    }
}

struct Merge<A: Iterator<Item = u64>, B: Iterator<Item = u64>> {
    a: Option<std::iter::Peekable<A>>,
    b: std::iter::Peekable<B>,
}

impl<A: Iterator<Item = u64>, B: Iterator<Item = u64>> Iterator for Merge<A, B> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let a = self.a.as_mut().and_then(|a| a.peek().copied());
        let b = self.b.peek().copied();
        match (a, b) {
            (Some(x), Some(y)) if x <= y => {
                if x == y {
                    self.b.next();
                }
                self.a.as_mut().and_then(Iterator::next)
            }
            (Some(_), None) => self.a.as_mut().and_then(Iterator::next),
            (_, Some(_)) => self.b.next(),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn merges_named_and_all_topics_in_id_order() {
        let mut ix = TopicIndex::new();
        ix.insert(1, Some(&v(&["a"])));
        ix.insert(2, None);
        ix.insert(3, Some(&v(&["a", "b"])));
        ix.insert(4, Some(&v(&["b"])));
        assert_eq!(ix.subscribers("a").collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(ix.subscribers("b").collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(ix.subscribers("zzz").collect::<Vec<_>>(), [2]);
        assert_eq!(ix.next_at_or_after("b", 3), Some(3));
        assert_eq!(ix.next_at_or_after("a", 4), None);
    }

    #[test]
    fn removal_drops_empty_topics() {
        let mut ix = TopicIndex::new();
        ix.insert(7, Some(&v(&["x", "y"])));
        assert_eq!(ix.topics(), 2);
        ix.remove(7, Some(&v(&["x", "y"])));
        assert_eq!(ix.topics(), 0);
        assert_eq!(ix.subscribers("x").count(), 0);
        ix.insert(8, None);
        ix.remove(8, None);
        assert_eq!(ix.subscribers("x").count(), 0);
    }

    #[test]
    fn topic_match_is_exact() {
        let mut ix = TopicIndex::new();
        ix.insert(1, Some(&v(&["user:1"])));
        assert_eq!(ix.subscribers("user:10").count(), 0);
        assert_eq!(ix.subscribers("User:1").count(), 0);
        assert_eq!(ix.topic_len("user:1"), 1);
    }
}
