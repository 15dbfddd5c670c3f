//! The cap on open connections: a slowloris defence without I/O.
//!
//! At most [`MAX_CONNECTIONS`] are open. When a new one comes and all slots are taken, the
//! oldest connection that is not running an operation (typically a client that stalled
//! while sending its request) is evicted to make room, so a flood of stalled connections
//! never holds the agent's memory or keeps a health check out. Only when every slot is
//! running an operation is the new connection closed at once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// The most connections open at once.
pub const MAX_CONNECTIONS: usize = 64;

/// One open connection's slot.
#[derive(Debug, Clone)]
pub struct Slot {
    /// Identifies the slot for [`Slots::release`].
    pub id: u64,
    /// Set while the connection runs an operation (not evicted then).
    pub busy: Arc<AtomicBool>,
    /// Notified when the connection is evicted: it must close.
    pub evict: Arc<Notify>,
}

/// What happened to a new connection.
#[derive(Debug)]
pub enum Admission {
    /// It has a slot; `evicted` says whether an idle connection was closed for it.
    Admitted {
        /// The new connection's slot.
        slot: Slot,
        /// An older idle connection was evicted to make room.
        evicted: bool,
    },
    /// Every slot is running an operation: close it.
    Full,
}

/// The open connections, oldest first.
#[derive(Debug)]
pub struct Slots {
    cap: usize,
    next_id: u64,
    open: VecDeque<Slot>,
}

impl Slots {
    /// Room for `cap` connections.
    pub fn new(cap: usize) -> Slots {
        Slots {
            cap,
            next_id: 0,
            open: VecDeque::new(),
        }
    }

    /// Takes a slot for a new connection, evicting the oldest idle one if all are taken.
    pub fn admit(&mut self) -> Admission {
        let mut evicted = false;
        if self.open.len() >= self.cap {
            let Some(at) = self
                .open
                .iter()
                .position(|s| !s.busy.load(Ordering::Acquire))
            else {
                return Admission::Full;
            };
            if let Some(victim) = self.open.remove(at) {
                victim.evict.notify_one();
                evicted = true;
            }
        }
        self.next_id += 1;
        let slot = Slot {
            id: self.next_id,
            busy: Arc::new(AtomicBool::new(false)),
            evict: Arc::new(Notify::new()),
        };
        self.open.push_back(slot.clone());
        Admission::Admitted { slot, evicted }
    }

    /// Gives the slot back when its connection ends (an evicted one is already gone).
    pub fn release(&mut self, id: u64) {
        self.open.retain(|s| s.id != id);
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// True when no connection is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(slots: &mut Slots) -> (Slot, bool) {
        match slots.admit() {
            Admission::Admitted { slot, evicted } => (slot, evicted),
            Admission::Full => panic!("refused"),
        }
    }

    #[test]
    fn the_oldest_idle_connection_makes_room() {
        let mut slots = Slots::new(3);
        let (a, _) = admitted(&mut slots);
        let (b, _) = admitted(&mut slots);
        let (c, evicted) = admitted(&mut slots);
        assert!(!evicted);
        a.busy.store(true, Ordering::Release);
        // Full: b is the oldest idle one (a runs an operation).
        let (d, evicted) = admitted(&mut slots);
        assert!(evicted);
        assert_eq!(slots.len(), 3);
        let ids: Vec<u64> = slots.open.iter().map(|s| s.id).collect();
        assert_eq!(ids, [a.id, c.id, d.id]);
        // b was told to close (a stored permit: notified() completes at once).
        let told = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(1), b.evict.notified())
                    .await
                    .is_ok()
            });
        assert!(told);
        // Released slots free room without evicting.
        slots.release(c.id);
        slots.release(b.id); // already gone: no effect
        assert!(!admitted(&mut slots).1);
    }

    #[test]
    fn busy_connections_are_never_evicted() {
        let mut slots = Slots::new(2);
        for _ in 0..2 {
            admitted(&mut slots).0.busy.store(true, Ordering::Release);
        }
        assert!(matches!(slots.admit(), Admission::Full));
        assert_eq!(slots.len(), 2);
        assert!(!slots.is_empty());
    }
}
