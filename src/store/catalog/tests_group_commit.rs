//! Group commit of object rows: many threads of one process writing one
//! container get exactly the results and counts that lone writes would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::tests::{assert_account_totals_match_rows, catalog, obj, t};
use super::*;

const THREADS: u64 = 16;
const OPS: u64 = 60;

#[test]
fn many_threads_one_container_exact_counts_and_results() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    cat.container_create("a", "gone", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    // Tombstones only, so "gone" stays empty and can be deleted mid-way.
    let done_on_gone = AtomicUsize::new(0);
    let deleted = AtomicUsize::new(0);
    let results: Vec<Vec<(bool, bool)>> = std::thread::scope(|s| {
        let deleter = s.spawn(|| {
            while done_on_gone.load(Ordering::SeqCst) < (THREADS * OPS / 2) as usize {
                std::thread::yield_now();
            }
            let outcome = cat.container_delete("a", "gone", t(5)).unwrap();
            deleted.store(1, Ordering::SeqCst);
            outcome
        });
        let writers: Vec<_> = (0..THREADS)
            .map(|w| {
                let (cat, done_on_gone, deleted) = (&cat, &done_on_gone, &deleted);
                s.spawn(move || {
                    let mut seen = Vec::new();
                    for i in 0..OPS {
                        // Shared names, globally unique timestamps.
                        let name = format!("o{}", i % 40);
                        let stamp = t(100 + i * THREADS + w);
                        let ok = if (i + w) % 5 == 0 {
                            cat.object_delete("a", "c", &name, stamp).unwrap()
                        } else {
                            cat.object_put("a", "c", &obj(&name, stamp, w * 1000 + i))
                                .unwrap()
                        };
                        assert!(ok, "container c is live");
                        let after_delete = deleted.load(Ordering::SeqCst) == 1;
                        let ok = cat
                            .object_delete("a", "gone", &format!("g{w}-{i}"), stamp)
                            .unwrap();
                        done_on_gone.fetch_add(1, Ordering::SeqCst);
                        seen.push((after_delete, ok));
                    }
                    while deleted.load(Ordering::SeqCst) == 0 {
                        std::thread::yield_now();
                    }
                    // Started after the delete returned: must see it gone.
                    let late = obj(&format!("late{w}"), t(10_000 + w), 1);
                    seen.push((true, cat.object_put("a", "gone", &late).unwrap()));
                    seen
                })
            })
            .collect();
        assert_eq!(deleter.join().unwrap(), DeleteOutcome::Deleted);
        writers.into_iter().map(|h| h.join().unwrap()).collect()
    });

    // "gone": true until the delete committed, false from then on.
    let half = (THREADS * OPS / 2) as usize;
    let mut trues = 0;
    for seen in &results {
        let first_false = seen.iter().position(|(_, ok)| !ok).unwrap();
        assert!(seen[first_false..].iter().all(|(_, ok)| !ok), "{seen:?}");
        assert!(seen.iter().all(|(after, ok)| !(*after && *ok)), "{seen:?}");
        trues += first_false;
    }
    assert!(trues >= half, "calls done before the delete started saw it");
    assert_eq!(cat.container_info("a", "gone").unwrap(), None);

    // "c": newest record per name wins, whatever order the batches took.
    let mut newest: BTreeMap<String, (Timestamp, Option<u64>)> = BTreeMap::new();
    for w in 0..THREADS {
        for i in 0..OPS {
            let stamp = t(100 + i * THREADS + w);
            let size = ((i + w) % 5 != 0).then_some(w * 1000 + i);
            let e = newest
                .entry(format!("o{}", i % 40))
                .or_insert((stamp, size));
            if stamp > e.0 {
                *e = (stamp, size);
            }
        }
    }
    let expected: Vec<(String, Timestamp, u64)> = newest
        .into_iter()
        .filter_map(|(n, (ts, size))| size.map(|s| (n, ts, s)))
        .collect();
    let listed: Vec<(String, Timestamp, u64)> = cat
        .list_objects("a", "c", &ListingQuery::default())
        .unwrap()
        .unwrap()
        .into_iter()
        .filter_map(|e| match e {
            ListingEntry::Item(o) => Some((o.name, o.timestamp, o.size)),
            ListingEntry::Subdir(_) => None,
        })
        .collect();
    assert_eq!(listed, expected);
    let bytes: u64 = expected.iter().map(|(_, _, s)| s).sum();
    let info = cat.container_info("a", "c").unwrap().unwrap();
    assert_eq!(
        (info.object_count, info.bytes_used),
        (expected.len() as u64, bytes)
    );
    let ai = cat.account_info("a").unwrap();
    assert_eq!(
        (ai.container_count, ai.object_count, ai.bytes_used),
        (1, expected.len() as u64, bytes)
    );
    assert_account_totals_match_rows(&cat, "a");
    assert_eq!(cat.object_rows.queue_count(), 0);
}

#[test]
fn a_bad_row_fails_alone_and_the_batch_still_commits() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    let rows = vec![
        (obj("x", t(10), 5), false),
        // Not storable (sizes are i64 in SQLite): fails the batch's
        // transaction, then only itself.
        (obj("bad", t(11), u64::MAX), false),
        (obj("y", t(12), 7), false),
        (obj("x", t(13), 0), true),
    ];
    let got = cat.commit_object_rows("a", "c", &rows);
    assert_eq!(got.len(), 4);
    assert!(matches!(got[0], Ok(true)));
    assert!(got[1].is_err());
    assert!(matches!(got[2], Ok(true)));
    assert!(matches!(got[3], Ok(true)));
    let info = cat.container_info("a", "c").unwrap().unwrap();
    assert_eq!((info.object_count, info.bytes_used), (1, 7));
    assert_eq!(cat.account_info("a").unwrap().bytes_used, 7);
    assert_eq!(
        cat.commit_object_rows("a", "nope", &rows[2..])
            .into_iter()
            .map(|r| r.unwrap())
            .collect::<Vec<_>>(),
        vec![false, false]
    );
}
