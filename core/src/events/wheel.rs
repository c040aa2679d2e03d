//! A hashed timer wheel: one timer for every subscriber's heartbeat, instead of one
//! `setInterval` per connection.
//!
//! Time is split into slots of `slot_ms`; an entry lives in the slot of its due time
//! (modulo the wheel size) and keeps its exact due time, so an entry more than one turn
//! away stays put until a turn reaches it. Cancelled entries are not searched for: the
//! owner ignores a fired id it no longer knows (ids are never reused).

/// The wheel. `advance(now)` returns the ids whose due time is `<= now`.
#[derive(Debug, Clone)]
pub struct TimerWheel {
    slot_ms: u64,
    slots: Vec<Vec<(u64, u64)>>,
    /// The last absolute slot processed.
    processed: u64,
    len: usize,
}

impl TimerWheel {
    /// A wheel of `slots` slots of `slot_ms` milliseconds, starting at `now_ms`.
    pub fn new(slot_ms: u64, slots: usize, now_ms: u64) -> Self {
        let slot_ms = slot_ms.max(1);
        Self {
            slot_ms,
            slots: vec![Vec::new(); slots.max(1)],
            processed: now_ms / slot_ms,
            len: 0,
        }
    }

    /// The slot width, in milliseconds.
    pub fn slot_ms(&self) -> u64 {
        self.slot_ms
    }

    /// Entries held (cancelled ones included until they fire).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no timer is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedule `id` at `due_ms`.
    pub fn schedule(&mut self, id: u64, due_ms: u64) {
        let abs = (due_ms / self.slot_ms).max(self.processed + 1);
        let n = self.slots.len() as u64;
        self.slots[(abs % n) as usize].push((id, due_ms));
        self.len += 1;
    }

    /// Process every slot up to `now_ms`, appending due ids to `out` (in slot order).
    pub fn advance(&mut self, now_ms: u64, out: &mut Vec<u64>) {
        let target = now_ms / self.slot_ms;
        if target <= self.processed {
            return;
        }
        let n = self.slots.len() as u64;
        // A jump longer than one turn visits each slot once.
        let first = self.processed + 1;
        let first = first.max(target.saturating_sub(n - 1));
        for abs in first..=target {
            let slot = &mut self.slots[(abs % n) as usize];
            let before = slot.len();
            slot.retain(|&(id, due)| {
                if due <= now_ms {
                    out.push(id);
                    false
                } else {
                    true
                }
            });
            self.len -= before - slot.len();
        }
        self.processed = target;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_at_due_time_and_not_before() {
        let mut w = TimerWheel::new(100, 8, 0);
        w.schedule(1, 250);
        w.schedule(2, 1_000); // more than one turn (800 ms) away
        let mut out = Vec::new();
        w.advance(199, &mut out);
        assert!(out.is_empty());
        w.advance(299, &mut out);
        assert_eq!(out, [1]);
        out.clear();
        w.advance(950, &mut out);
        assert!(out.is_empty(), "entry one turn away fired early");
        w.advance(1_000, &mut out);
        assert_eq!(out, [2]);
        assert!(w.is_empty());
    }

    #[test]
    fn long_jump_fires_everything_due_once() {
        let mut w = TimerWheel::new(10, 4, 0);
        for id in 0..20 {
            w.schedule(id, 10 + id * 7);
        }
        let mut out = Vec::new();
        w.advance(10_000, &mut out);
        out.sort_unstable();
        assert_eq!(out, (0..20).collect::<Vec<_>>());
        assert!(w.is_empty());
    }

    #[test]
    fn past_due_is_scheduled_in_next_slot() {
        let mut w = TimerWheel::new(10, 4, 100);
        w.schedule(5, 50);
        let mut out = Vec::new();
        w.advance(109, &mut out);
        assert!(out.is_empty());
        w.advance(110, &mut out);
        assert_eq!(out, [5]);
    }
}
