//! Listing parameters, checked by hand against Swift's documented behaviour
//! and exhaustively against a brute-force model of the same rules.

use super::tests::{catalog, obj, t};
use super::*;

/// Items as their name, subdirs as "D:" + name.
fn show<T>(entries: &[ListingEntry<T>], name: impl Fn(&T) -> &str) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e {
            ListingEntry::Item(x) => name(x).to_string(),
            ListingEntry::Subdir(s) => format!("D:{s}"),
        })
        .collect()
}

fn q(
    prefix: &str,
    delimiter: Option<char>,
    marker: &str,
    end_marker: &str,
    limit: usize,
    reverse: bool,
) -> ListingQuery {
    ListingQuery {
        prefix: prefix.into(),
        delimiter: delimiter.map(String::from),
        marker: marker.into(),
        end_marker: end_marker.into(),
        limit,
        reverse,
        by_path: false,
    }
}

fn objects(cat: &Catalog, query: &ListingQuery) -> Vec<String> {
    show(&cat.list_objects("a", "c", query).unwrap().unwrap(), |o| {
        &o.name
    })
}

fn with_names(names: &[&str]) -> (tempfile::TempDir, Catalog) {
    let (d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    for (i, n) in names.iter().enumerate() {
        cat.object_put("a", "c", &obj(n, t(10 + i as u64), i as u64))
            .unwrap();
    }
    (d, cat)
}

/// The rules, stated plainly: filter by prefix and the two exclusive
/// bounds, order, collapse names with the delimiter after the prefix into
/// one subdir each (not repeating the lower marker), stop at the limit.
fn model(names: &[&str], q: &ListingQuery) -> Vec<String> {
    let (lo, hi) = if q.reverse {
        (&q.end_marker, &q.marker)
    } else {
        (&q.marker, &q.end_marker)
    };
    let mut cands: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.starts_with(q.prefix.as_str()))
        .filter(|n| lo.is_empty() || *n > lo.as_str())
        .filter(|n| hi.is_empty() || *n < hi.as_str())
        .collect();
    cands.sort_unstable();
    if q.reverse {
        cands.reverse();
    }
    let mut out: Vec<String> = Vec::new();
    for n in cands {
        if out.len() >= q.limit {
            break;
        }
        let rest = &n[q.prefix.len()..];
        match q
            .delimiter
            .as_deref()
            .and_then(|d| rest.find(d).map(|i| &n[..q.prefix.len() + i + d.len()]))
        {
            Some(dir) => {
                let shown = format!("D:{dir}");
                if dir != lo.as_str() && !out.contains(&shown) {
                    out.push(shown);
                }
            }
            None => out.push(n.to_string()),
        }
    }
    out
}

const TREE: &[&str] = &[
    "a",
    "a/",
    "a/b",
    "a/b/c",
    "a/b/d",
    "a/c",
    "a-b",
    "a0",
    "ab",
    "b",
    "b/x",
    "b/y/z",
    "bb",
    "c/",
    "c//d",
    "d/e-f/g",
    "d/e-f/h",
    "d-e",
    "é/1",
    "é/2",
    "日本/語",
    "😀",
    "z",
];

#[test]
fn swift_examples_by_hand() {
    let (_d, cat) = with_names(&["a", "b/1", "b/2", "c/x/y", "c/z", "d"]);
    let all = objects(&cat, &q("", None, "", "", 100, false));
    assert_eq!(all, ["a", "b/1", "b/2", "c/x/y", "c/z", "d"]);
    assert_eq!(
        objects(&cat, &q("", Some('/'), "", "", 100, false)),
        ["a", "D:b/", "D:c/", "d"]
    );
    assert_eq!(
        objects(&cat, &q("c/", Some('/'), "", "", 100, false)),
        ["D:c/x/", "c/z"]
    );
    assert_eq!(
        objects(&cat, &q("", Some('/'), "", "", 100, true)),
        ["d", "D:c/", "D:b/", "a"]
    );
    // Paging with a subdir as the marker does not repeat it.
    assert_eq!(
        objects(&cat, &q("", Some('/'), "b/", "", 100, false)),
        ["D:c/", "d"]
    );
    assert_eq!(
        objects(&cat, &q("", Some('/'), "", "", 2, false)),
        ["a", "D:b/"]
    );
    assert_eq!(
        objects(&cat, &q("", None, "b/1", "c/z", 100, false)),
        ["b/2", "c/x/y"]
    );
    // Reversed, the marker is the upper bound and end_marker the lower one.
    assert_eq!(
        objects(&cat, &q("", None, "c/z", "b/1", 100, true)),
        ["c/x/y", "b/2"]
    );
    assert_eq!(
        objects(&cat, &q("b", None, "", "", 100, true)),
        ["b/2", "b/1"]
    );
    assert_eq!(
        objects(&cat, &q("", None, "", "", 0, false)),
        Vec::<String>::new()
    );
    assert_eq!(
        objects(&cat, &q("zz", None, "", "", 10, false)),
        Vec::<String>::new()
    );
}

#[test]
fn every_parameter_combination_matches_the_model() {
    let (_d, cat) = with_names(TREE);
    let prefixes = ["", "a", "a/", "a/b", "b", "d/", "é", "日", "zz"];
    let delimiters = [None, Some('/'), Some('-'), Some('本')];
    let markers = [
        "", "a", "a/", "a/b", "a/b/c", "a0", "b/", "c", "d/e-f/", "é/1", "😀", "zzz",
    ];
    let mut checked = 0;
    for prefix in prefixes {
        for delimiter in delimiters {
            for marker in markers {
                for end_marker in ["", "a/b/d", "b", "c//d", "é", "z"] {
                    for limit in [1, 2, 5, 1000] {
                        for reverse in [false, true] {
                            let query = q(prefix, delimiter, marker, end_marker, limit, reverse);
                            assert_eq!(objects(&cat, &query), model(TREE, &query), "{query:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 9 * 4 * 12 * 6 * 4 * 2);
}

#[test]
fn unicode_names_sort_bytewise() {
    let names = [
        "z", "Z", "é", "e", "日本", "😀", "\u{FFFD}", "\u{E000}", "a\u{0}b", "ä", "a",
    ];
    let (_d, cat) = with_names(&names);
    let mut expected: Vec<&str> = names.to_vec();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(objects(&cat, &ListingQuery::default()), expected);
    assert_eq!(expected[..3], ["Z", "a", "a\u{0}b"]);
    assert_eq!(expected[expected.len() - 1], "😀");
    assert_eq!(objects(&cat, &q("日", None, "", "", 10, false)), ["日本"]);
    assert_eq!(
        objects(&cat, &q("", None, "é", "😀", 10, false)),
        ["日本", "\u{E000}", "\u{FFFD}"]
    );
}

#[test]
fn pagination_walk_over_2500_objects() {
    let (_d, cat) = catalog();
    cat.container_create("a", "c", t(1), &[], super::PolicyChoice::default())
        .unwrap();
    let mut names: Vec<String> = (0..2500)
        .map(|i| format!("dir{}/obj-{i:05}", i % 3))
        .collect();
    for (i, n) in names.iter().enumerate() {
        cat.object_put("a", "c", &obj(n, t(10 + i as u64), 1))
            .unwrap();
    }
    names.sort();
    for reverse in [false, true] {
        let mut seen = Vec::new();
        let mut marker = String::new();
        let mut pages = 0;
        loop {
            let page = objects(&cat, &q("", None, &marker, "", 1000, reverse));
            if page.is_empty() {
                break;
            }
            pages += 1;
            marker = page[page.len() - 1].clone();
            seen.extend(page);
        }
        let mut expected = names.clone();
        if reverse {
            expected.reverse();
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, expected);
    }
    // Paging by subdirs, one per page, with each subdir as the next marker.
    let mut marker = String::new();
    let mut dirs = Vec::new();
    loop {
        let page = objects(&cat, &q("", Some('/'), &marker, "", 1, false));
        let Some(last) = page.last() else { break };
        marker = last.trim_start_matches("D:").to_string();
        dirs.extend(page);
    }
    assert_eq!(dirs, ["D:dir0/", "D:dir1/", "D:dir2/"]);
    let info = cat.container_info("a", "c").unwrap().unwrap();
    assert_eq!((info.object_count, info.bytes_used), (2500, 2500));
}

#[test]
fn listing_queries_use_the_deleted_name_index() {
    let (_d, cat) = with_names(&["a", "b"]);
    let conn = rusqlite::Connection::open(cat.container_path("a", "c")).unwrap();
    let plan: Vec<String> = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT name, created_at, size, content_type, etag FROM object
             WHERE deleted = 0 AND name > ? AND name < ? ORDER BY name DESC LIMIT ?",
        )
        .unwrap()
        .query_map(("a", "z", 10), |r| r.get::<_, String>(3))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let plan = plan.join(" | ");
    assert!(
        plan.contains("ix_object_deleted_name (deleted=? AND name>? AND name<?)"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

#[test]
fn account_listing_with_every_parameter() {
    let (_d, cat) = catalog();
    let names = [
        "alpha",
        "beta",
        "beta-1",
        "beta-2",
        "gamma",
        "photos-2024",
        "photos-2025",
        "été",
    ];
    for (i, n) in names.iter().enumerate() {
        cat.container_create(
            "a",
            n,
            t(10 + i as u64),
            &[],
            super::PolicyChoice::default(),
        )
        .unwrap();
    }
    cat.object_put("a", "beta", &obj("o", t(100), 7)).unwrap();
    cat.container_delete("a", "gamma", t(200)).unwrap();
    let list = |query: &ListingQuery| show(&cat.list_containers("a", query).unwrap(), |c| &c.name);
    let live: Vec<&str> = names.iter().copied().filter(|n| *n != "gamma").collect();
    assert_eq!(list(&ListingQuery::default()), live);
    for prefix in ["", "b", "beta", "photos-", "é", "x"] {
        for delimiter in [None, Some('-')] {
            for marker in ["", "beta", "beta-", "photos-2024"] {
                for end_marker in ["", "beta-2", "photos-2025", "zz"] {
                    for limit in [1, 3, 100] {
                        for reverse in [false, true] {
                            let query = q(prefix, delimiter, marker, end_marker, limit, reverse);
                            assert_eq!(list(&query), model(&live, &query), "{query:?}");
                        }
                    }
                }
            }
        }
    }
    let got = cat
        .list_containers("a", &q("beta", None, "", "", 1, false))
        .unwrap();
    assert_eq!(
        got,
        [ListingEntry::Item(ContainerRecord {
            name: "beta".into(),
            object_count: 1,
            bytes_used: 7,
            last_modified: t(11),
            policy_index: 0,
        })]
    );
}

#[test]
fn by_path_lists_only_the_directory_s_own_objects() {
    let names = ["a", "a/", "a/b", "a/b/", "a/b/c", "a/d", "x/", "x/y", "z"];
    let (_d, cat) = with_names(&names);
    let path = |prefix: &str, reverse: bool, limit: usize| {
        let mut query = q(prefix, Some('/'), "", "", limit, reverse);
        query.by_path = true;
        objects(&cat, &query)
    };
    // As Swift's container server answers ?path=a and ?path= (observed).
    assert_eq!(path("a/", false, 100), ["a/b", "a/b/", "a/d"]);
    // Reversed, a deeper name moves the upper bound to its directory, so
    // the directory's marker ("a/b/") is passed over, as in Swift.
    assert_eq!(path("a/", true, 100), ["a/d", "a/b"]);
    assert_eq!(path("a/", false, 2), ["a/b", "a/b/"]);
    assert_eq!(path("", false, 100), ["a", "a/", "x/", "z"]);
    assert_eq!(path("", true, 100), ["z", "a"]);
}
