//! The listing encoders (listing.rs), objects and containers in every
//! format. Properties: plain text is the names, one a line; JSON is ASCII,
//! parses (serde_json) and gives back every field; XML passes a strict
//! reader (stowage_fuzz::xml: escapes `<&>"` and control characters as the
//! encoder intends) and gives back every field, characters XML 1.0 cannot
//! hold read as U+FFFD.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use stowage::node::policy::Policies;
use stowage::store::catalog::{ContainerRecord, ListingEntry, ObjectRecord};
use stowage::store::Timestamp;
use stowage::swift::listing::{listed_type, render_containers, render_objects, Format};
use stowage_fuzz::xml::{self, Element};

enum Entry {
    Item {
        name: String,
        etag: String,
        content_type: String,
        size: u64,
        count: u64,
        timestamp: u64,
    },
    Subdir(String),
}

struct Input {
    parent: String,
    entries: Vec<Entry>,
}

/// Records are separated by RS (0x1e), fields by US (0x1f), so names can
/// hold newlines, tabs and every other character: first the parent's name,
/// then `d<US>subdir` or `o<US>name<US>etag<US>type<US>size<US>count<US>ts`
/// (numbers in decimal; missing or bad ones are 0).
fn parse(text: &str) -> Input {
    let mut records = text.split('\x1e');
    let parent = records.next().unwrap_or_default().to_string();
    let entries = records
        .map(|r| {
            let f: Vec<&str> = r.split('\x1f').collect();
            let field = |i: usize| f.get(i).copied().unwrap_or_default();
            let num = |i: usize| field(i).parse().unwrap_or(0);
            if f[0] == "d" {
                Entry::Subdir(field(1).to_string())
            } else {
                Entry::Item {
                    name: field(1).to_string(),
                    etag: field(2).to_string(),
                    content_type: field(3).to_string(),
                    size: num(4),
                    count: num(5),
                    timestamp: num(6),
                }
            }
        })
        .collect();
    Input { parent, entries }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let input = parse(text);
    let objects: Vec<ListingEntry<ObjectRecord>> = input
        .entries
        .iter()
        .map(|e| match e {
            Entry::Item {
                name,
                etag,
                content_type,
                size,
                timestamp,
                ..
            } => ListingEntry::Item(ObjectRecord {
                name: name.clone(),
                timestamp: Timestamp::from_units(*timestamp),
                size: *size,
                content_type: content_type.clone(),
                etag: etag.clone(),
            }),
            Entry::Subdir(s) => ListingEntry::Subdir(s.clone()),
        })
        .collect();
    let containers: Vec<ListingEntry<ContainerRecord>> = input
        .entries
        .iter()
        .map(|e| match e {
            Entry::Item {
                name,
                size,
                count,
                timestamp,
                ..
            } => ListingEntry::Item(ContainerRecord {
                name: name.clone(),
                object_count: *count,
                bytes_used: *size,
                last_modified: Timestamp::from_units(*timestamp),
                // 0 is the default Policy-0; others are not configured
                // and so left out of the listing.
                policy_index: (*count % 3) as u32,
            }),
            Entry::Subdir(s) => ListingEntry::Subdir(s.clone()),
        })
        .collect();
    let parent = input.parent.as_str();
    let policies = Policies::default();

    let names: String = input
        .entries
        .iter()
        .map(|e| match e {
            Entry::Item { name, .. } | Entry::Subdir(name) => format!("{name}\n"),
        })
        .collect();
    assert_eq!(
        render_objects(parent, &objects, Format::Plain),
        names.as_bytes()
    );
    assert_eq!(
        render_containers(parent, &containers, Format::Plain, &policies),
        names.as_bytes()
    );

    check_object_json(&render_objects(parent, &objects, Format::Json), &objects);
    check_container_json(
        &render_containers(parent, &containers, Format::Json, &policies),
        &containers,
    );
    check_object_xml(
        &render_objects(parent, &objects, Format::Xml),
        parent,
        &objects,
    );
    check_container_xml(
        &render_containers(parent, &containers, Format::Xml, &policies),
        parent,
        &containers,
    );
});

fn json_array(body: &[u8], len: usize) -> Vec<Value> {
    assert!(body.is_ascii(), "JSON listing is not ASCII");
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        panic!(
            "JSON listing is not an array: {:?}",
            String::from_utf8_lossy(body)
        );
    };
    assert_eq!(items.len(), len);
    items
}

fn check_subdir_json(v: &Value, name: &str) {
    assert_eq!(v.as_object().map(|o| o.len()), Some(1));
    assert_eq!(v["subdir"].as_str(), Some(name));
}

fn check_object_json(body: &[u8], entries: &[ListingEntry<ObjectRecord>]) {
    for (v, e) in json_array(body, entries.len()).iter().zip(entries) {
        match e {
            ListingEntry::Item(o) => {
                assert_eq!(v["name"].as_str(), Some(o.name.as_str()));
                assert_eq!(v["hash"].as_str(), Some(o.etag.as_str()));
                let (listed, bytes) = listed_type(&o.content_type, o.size);
                assert_eq!(v["content_type"].as_str(), Some(listed.as_str()));
                assert_eq!(v["bytes"].as_u64(), Some(bytes));
                let modified = o.timestamp.iso8601();
                assert_eq!(v["last_modified"].as_str(), Some(modified.as_str()));
            }
            ListingEntry::Subdir(s) => check_subdir_json(v, s),
        }
    }
}

fn check_container_json(body: &[u8], entries: &[ListingEntry<ContainerRecord>]) {
    for (v, e) in json_array(body, entries.len()).iter().zip(entries) {
        match e {
            ListingEntry::Item(c) => {
                assert_eq!(v["name"].as_str(), Some(c.name.as_str()));
                assert_eq!(v["count"].as_u64(), Some(c.object_count));
                assert_eq!(v["bytes"].as_u64(), Some(c.bytes_used));
                let modified = c.last_modified.iso8601();
                assert_eq!(v["last_modified"].as_str(), Some(modified.as_str()));
                assert_eq!(v["storage_policy"].as_str(), policy_name(c));
            }
            ListingEntry::Subdir(s) => check_subdir_json(v, s),
        }
    }
}

/// The policy a container row names: Policy-0 (index 0) is the one
/// configured by default; any other index is left out.
fn policy_name(c: &ContainerRecord) -> Option<&'static str> {
    (c.policy_index == 0).then_some("Policy-0")
}

fn xml_root(body: &[u8], tag: &str, parent: &str) -> Element {
    let text = std::str::from_utf8(body).expect("XML listing is not UTF-8");
    let root = xml::parse(text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    assert_eq!(root.name, tag);
    assert_eq!(root.attrs.len(), 1);
    assert_eq!(root.attr("name"), Some(xml::lossy(parent).as_str()));
    root
}

/// `fields` are (tag, text) in the order Swift writes them.
fn check_fields(el: &Element, tag: &str, fields: &[(&str, &str)]) {
    assert_eq!(el.name, tag);
    assert!(el.attrs.is_empty());
    let kids: Vec<&Element> = el.elements().collect();
    assert_eq!(kids.len(), fields.len(), "<{tag}> children");
    assert_eq!(el.text(), "", "text directly inside <{tag}>");
    for (kid, (name, text)) in kids.iter().zip(fields) {
        assert_eq!(kid.name, *name);
        assert!(kid.attrs.is_empty() && kid.elements().next().is_none());
        assert_eq!(kid.text(), xml::lossy(text), "<{name}>");
    }
}

fn check_object_xml(body: &[u8], parent: &str, entries: &[ListingEntry<ObjectRecord>]) {
    let root = xml_root(body, "container", parent);
    assert_eq!(root.text(), "");
    let kids: Vec<&Element> = root.elements().collect();
    assert_eq!(kids.len(), entries.len());
    for (el, e) in kids.into_iter().zip(entries) {
        match e {
            ListingEntry::Item(o) => {
                let (listed, bytes) = listed_type(&o.content_type, o.size);
                check_fields(
                    el,
                    "object",
                    &[
                        ("name", &o.name),
                        ("hash", &o.etag),
                        ("bytes", &bytes.to_string()),
                        ("content_type", &listed),
                        ("last_modified", &o.timestamp.iso8601()),
                    ],
                )
            }
            ListingEntry::Subdir(s) => {
                assert_eq!(el.name, "subdir");
                assert_eq!(el.attr("name"), Some(xml::lossy(s).as_str()));
                let mut plain = el.clone();
                plain.attrs.clear();
                check_fields(&plain, "subdir", &[("name", s)]);
            }
        }
    }
}

fn check_container_xml(body: &[u8], parent: &str, entries: &[ListingEntry<ContainerRecord>]) {
    let root = xml_root(body, "account", parent);
    // A newline after the opening tag and after each entry.
    assert_eq!(root.text(), "\n".repeat(entries.len() + 1));
    let kids: Vec<&Element> = root.elements().collect();
    assert_eq!(kids.len(), entries.len());
    for (el, e) in kids.into_iter().zip(entries) {
        match e {
            ListingEntry::Item(c) => {
                let (count, bytes) = (c.object_count.to_string(), c.bytes_used.to_string());
                let modified = c.last_modified.iso8601();
                let mut fields = vec![
                    ("name", c.name.as_str()),
                    ("count", &count),
                    ("bytes", &bytes),
                    ("last_modified", &modified),
                ];
                fields.extend(policy_name(c).map(|p| ("storage_policy", p)));
                check_fields(el, "container", &fields)
            }
            ListingEntry::Subdir(s) => {
                assert_eq!(el.name, "subdir");
                assert_eq!(el.attr("name"), Some(xml::lossy(s).as_str()));
                assert!(el.children.is_empty());
            }
        }
    }
}
