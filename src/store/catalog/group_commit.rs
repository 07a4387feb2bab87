//! Group commit: the threads of one process that write the same container DB
//! at the same time share one transaction, so N object rows cost one write
//! lock, one commit (fsync) and one account update instead of N of each.
//!
//! Each caller queues its item under its key. If no thread is committing for
//! that key, the caller becomes the leader: it takes what is queued (at most
//! `MAX_BATCH`), runs the batch without holding the queue's lock, publishes
//! one result per item and wakes the others. Everyone else waits on the
//! condvar until its own result is there (or leads the next batch). Nobody
//! returns before the batch holding its item has run, so durability is what
//! the batch function gives each item.

use parking_lot::{Condvar, Mutex};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Arc;

/// Most items one batch takes: bounds the transaction and how much longer
/// the leader waits for the others' rows.
pub(super) const MAX_BATCH: usize = 256;

/// Queues per key; a key's queue lives only while someone uses it.
pub(super) struct GroupCommit<K, T, R> {
    queues: Mutex<HashMap<K, Arc<Queue<T, R>>>>,
}

struct Queue<T, R> {
    state: Mutex<State<T, R>>,
    published: Condvar,
}

struct State<T, R> {
    next_id: u64,
    pending: VecDeque<(u64, T)>,
    results: HashMap<u64, R>,
    leading: bool,
}

impl<K: Eq + Hash + Clone, T, R> GroupCommit<K, T, R> {
    pub fn new() -> Self {
        GroupCommit {
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// Drops every queue; each child calls this after fork (no thread of
    /// the child can be inside `submit` yet).
    pub fn clear(&self) {
        self.queues.lock().clear();
    }

    /// Runs `item` in a batch of `run`, which gets the items in queue order
    /// and returns one result per item, in the same order. Results it does
    /// not give (a short Vec, or a panic) become `lost()`.
    pub fn submit(
        &self,
        key: &K,
        item: T,
        run: impl Fn(Vec<T>) -> Vec<R>,
        lost: impl Fn() -> R,
    ) -> R {
        let queue = Arc::clone(
            self.queues
                .lock()
                .entry(key.clone())
                .or_insert_with(|| Arc::new(Queue::new())),
        );
        let user = User {
            map: self,
            key,
            queue: Some(queue),
        };
        user.queue().wait_or_lead(item, &run, &lost)
    }

    #[cfg(test)]
    pub fn queue_count(&self) -> usize {
        self.queues.lock().len()
    }
}

/// One caller's hold on its key's queue; dropping it (also on unwind)
/// forgets the queue once nobody else holds it.
struct User<'a, K: Eq + Hash + Clone, T, R> {
    map: &'a GroupCommit<K, T, R>,
    key: &'a K,
    queue: Option<Arc<Queue<T, R>>>,
}

impl<K: Eq + Hash + Clone, T, R> User<'_, K, T, R> {
    fn queue(&self) -> &Queue<T, R> {
        // Only `drop` takes it out.
        self.queue
            .as_deref()
            .unwrap_or_else(|| unreachable!("queue taken before drop"))
    }
}

impl<K: Eq + Hash + Clone, T, R> Drop for User<'_, K, T, R> {
    fn drop(&mut self) {
        // Clones are only made under this lock, so a count of 1 (the map's)
        // cannot grow meanwhile.
        let mut queues = self.map.queues.lock();
        drop(self.queue.take());
        if queues
            .get(self.key)
            .is_some_and(|q| Arc::strong_count(q) == 1)
        {
            queues.remove(self.key);
        }
    }
}

impl<T, R> Queue<T, R> {
    fn new() -> Self {
        Queue {
            state: Mutex::new(State {
                next_id: 0,
                pending: VecDeque::new(),
                results: HashMap::new(),
                leading: false,
            }),
            published: Condvar::new(),
        }
    }

    fn wait_or_lead(&self, item: T, run: &dyn Fn(Vec<T>) -> Vec<R>, lost: &dyn Fn() -> R) -> R {
        let mut state = self.state.lock();
        let id = state.next_id;
        state.next_id += 1;
        state.pending.push_back((id, item));
        loop {
            if let Some(result) = state.results.remove(&id) {
                return result;
            }
            if state.leading {
                self.published.wait(&mut state);
                continue;
            }
            state.leading = true;
            let take = state.pending.len().min(MAX_BATCH);
            let (ids, items): (Vec<u64>, Vec<T>) = state.pending.drain(..take).unzip();
            drop(state);
            let mut lead = Lead {
                queue: self,
                ids,
                results: None,
                lost,
            };
            lead.results = Some(run(items));
            drop(lead);
            state = self.state.lock();
        }
    }
}

/// The leader's batch in flight. Publishing happens in `drop`, so a leader
/// that panics still hands every waiter a result and gives up the lead,
/// instead of leaving them waiting forever.
struct Lead<'a, T, R> {
    queue: &'a Queue<T, R>,
    ids: Vec<u64>,
    results: Option<Vec<R>>,
    lost: &'a dyn Fn() -> R,
}

impl<T, R> Drop for Lead<'_, T, R> {
    fn drop(&mut self) {
        let mut results = self.results.take().unwrap_or_default().into_iter();
        let mut state = self.queue.state.lock();
        for id in self.ids.drain(..) {
            let result = results.next().unwrap_or_else(self.lost);
            state.results.insert(id, result);
        }
        state.leading = false;
        drop(state);
        self.queue.published.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_caller_gets_its_own_result_and_batches_form() {
        let gc: GroupCommit<u8, u64, u64> = GroupCommit::new();
        let batches = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let (gc, batches) = (&gc, &batches);
                s.spawn(move || {
                    for i in 0..200u64 {
                        let item = t * 1000 + i;
                        let got = gc.submit(
                            &1,
                            item,
                            |items| {
                                batches.fetch_add(1, Ordering::Relaxed);
                                std::thread::sleep(std::time::Duration::from_micros(200));
                                items.into_iter().map(|x| x * 2).collect()
                            },
                            || u64::MAX,
                        );
                        assert_eq!(got, item * 2);
                    }
                });
            }
        });
        assert!(batches.load(Ordering::Relaxed) < 1600, "no batching at all");
        assert_eq!(gc.queue_count(), 0);
    }

    #[test]
    fn a_panicking_leader_releases_its_followers() {
        let gc: GroupCommit<u8, u64, u64> = GroupCommit::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            gc.submit(&1, 7, |_| panic!("boom"), || u64::MAX);
        }));
        assert!(caught.is_err());
        // The queue is usable again, and short result lists become lost().
        assert_eq!(gc.submit(&1, 3, |_| Vec::new(), || 99), 99);
        assert_eq!(gc.submit(&1, 3, |v| v, || 99), 3);
        assert_eq!(gc.queue_count(), 0);
    }
}
