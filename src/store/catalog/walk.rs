//! Swift's listing walk (container/backend.py `list_objects_iter`, and the
//! account's `list_containers_iter`), over any table with `name` and
//! `deleted` columns and an index on (deleted, name).
//!
//! Each step is one indexed range query (`deleted = 0 AND name > ? AND
//! name < ? ORDER BY name LIMIT ?`) read as a stream. With a delimiter, a
//! name that has the delimiter after the prefix yields one subdir entry, and
//! the next query starts past every name under that subdir, so a directory
//! of a million names costs one row read, not a million.

use rusqlite::types::Value;
use rusqlite::{Connection, Row};

use super::{ListingEntry, ListingQuery};
use crate::store::db::DbFail;

/// The lower end of a name range.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lower {
    /// name > s
    Above(String),
    /// name >= s
    From(String),
}

impl Lower {
    fn value(&self) -> &str {
        match self {
            Lower::Above(s) | Lower::From(s) => s,
        }
    }

    /// The stricter of two lower bounds.
    fn max(self, other: Lower) -> Lower {
        match self.value().cmp(other.value()) {
            std::cmp::Ordering::Greater => self,
            std::cmp::Ordering::Less => other,
            std::cmp::Ordering::Equal => match self {
                Lower::Above(_) => self,
                Lower::From(_) => other,
            },
        }
    }
}

/// The smallest string greater than every string that starts with `prefix`
/// (bytewise UTF-8 order = code point order), or None when there is none
/// (the prefix is all U+10FFFF, and every name >= it starts with it).
pub(super) fn prefix_end(prefix: &str) -> Option<String> {
    let trimmed = prefix.trim_end_matches(char::MAX);
    let last = trimmed.chars().next_back()?;
    let next = match last as u32 + 1 {
        0xD800 => '\u{E000}', // skip the surrogate gap
        n => char::from_u32(n)?,
    };
    let mut out = trimmed[..trimmed.len() - last.len_utf8()].to_string();
    out.push(next);
    Some(out)
}

/// The state of one listing: where the next query starts, and what has been
/// collected.
struct Walk<'q, T> {
    q: &'q ListingQuery,
    /// Moves down (reverse) or up (forward) as rows are read.
    lower: Option<Lower>,
    upper: Option<String>,
    /// Bounds implied by the prefix, combined with the moving ones per query.
    prefix_lower: Option<Lower>,
    prefix_upper: Option<String>,
    /// The client's exclusive lower marker: a subdir equal to it was the last
    /// entry of the previous page and is not listed again (as Swift does).
    repeat_subdir: Option<&'q str>,
    out: Vec<ListingEntry<T>>,
    done: bool,
}

impl<'q, T> Walk<'q, T> {
    fn new(q: &'q ListingQuery) -> Self {
        // Reversed, the marker is the upper bound and end_marker the lower.
        let (low, high) = if q.reverse {
            (&q.end_marker, &q.marker)
        } else {
            (&q.marker, &q.end_marker)
        };
        let nonempty = |s: &'q String| (!s.is_empty()).then_some(s.as_str());
        Walk {
            q,
            lower: nonempty(low).map(|s| Lower::Above(s.to_string())),
            upper: nonempty(high).map(str::to_string),
            prefix_lower: nonempty(&q.prefix).map(|p| Lower::From(p.to_string())),
            prefix_upper: if q.prefix.is_empty() {
                None
            } else {
                prefix_end(&q.prefix)
            },
            repeat_subdir: nonempty(low),
            out: Vec::new(),
            done: q.limit == 0,
        }
    }

    fn remaining(&self) -> usize {
        self.q.limit.saturating_sub(self.out.len())
    }

    /// The SQL condition and parameters of the next query.
    fn range(&self) -> (String, Vec<Value>) {
        let lower = match (self.lower.clone(), self.prefix_lower.clone()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let upper = match (&self.upper, &self.prefix_upper) {
            (Some(a), Some(b)) => Some(a.min(b).clone()),
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        let mut sql = String::from("deleted = 0");
        let mut args = Vec::new();
        match lower {
            Some(Lower::Above(s)) => {
                sql.push_str(" AND name > ?");
                args.push(Value::Text(s));
            }
            Some(Lower::From(s)) => {
                sql.push_str(" AND name >= ?");
                args.push(Value::Text(s));
            }
            None => {}
        }
        if let Some(s) = upper {
            sql.push_str(" AND name < ?");
            args.push(Value::Text(s));
        }
        (sql, args)
    }

    /// Takes one row (in scan order). Returns false when the rest of this
    /// query's rows are not wanted: a subdir was found, so the next query
    /// starts past it.
    fn offer(
        &mut self,
        name: String,
        item: impl FnOnce(String) -> Result<T, DbFail>,
    ) -> Result<bool, DbFail> {
        if self.remaining() == 0 {
            self.done = true;
            return Ok(false);
        }
        if let Some(dir) = self.subdir_of(&name) {
            // By path, a name ending at its first '/' after the directory
            // ("dir/sub/") is an object of the directory.
            if self.q.by_path && dir == name {
                return self.take(name, item);
            }
            if self.q.reverse {
                self.upper = Some(dir.clone());
            } else {
                match prefix_end(&dir) {
                    Some(next) => self.lower = Some(Lower::From(next)),
                    None => self.done = true,
                }
            }
            if self.repeat_subdir != Some(dir.as_str()) && !self.q.by_path {
                self.out.push(ListingEntry::Subdir(dir));
            }
            return Ok(false);
        }
        if self.q.by_path && name == self.q.prefix {
            // The directory's own marker object is not in its listing.
            self.skip_past(name);
            return Ok(true);
        }
        self.take(name, item)
    }

    /// Moves the scan past `name` without listing it.
    fn skip_past(&mut self, name: String) {
        if self.q.reverse {
            self.upper = Some(name);
        } else {
            self.lower = Some(Lower::Above(name));
        }
    }

    /// Lists `name` as an item and moves the scan past it.
    fn take(
        &mut self,
        name: String,
        item: impl FnOnce(String) -> Result<T, DbFail>,
    ) -> Result<bool, DbFail> {
        if self.q.reverse {
            self.upper = Some(name.clone());
        } else {
            self.lower = Some(Lower::Above(name.clone()));
        }
        self.out.push(ListingEntry::Item(item(name)?));
        Ok(true)
    }

    /// `prefix + part up to and including the delimiter`, if the name has
    /// the delimiter after the prefix.
    fn subdir_of(&self, name: &str) -> Option<String> {
        let delim = self.q.delimiter.as_deref()?;
        let rest = name.strip_prefix(self.q.prefix.as_str())?;
        let at = rest.find(delim)?;
        let end = self.q.prefix.len() + at + delim.len();
        Some(name[..end].to_string())
    }
}

/// Lists `table` (whose first selected column must be `name`) as `q` asks;
/// `item` turns a row into a record. Run it inside one read transaction so
/// that every batch sees the same snapshot.
pub(super) fn list<T>(
    conn: &Connection,
    table: &str,
    columns: &str,
    q: &ListingQuery,
    mut item: impl FnMut(&Row<'_>, String) -> Result<T, DbFail>,
) -> Result<Vec<ListingEntry<T>>, DbFail> {
    let mut walk = Walk::new(q);
    let order = if q.reverse { "DESC" } else { "ASC" };
    while !walk.done && walk.remaining() > 0 {
        let (cond, mut args) = walk.range();
        let asked = walk.remaining();
        args.push(Value::Integer(i64::try_from(asked).unwrap_or(i64::MAX)));
        // A handful of distinct texts per table: they stay in the statement cache.
        let sql =
            format!("SELECT {columns} FROM {table} WHERE {cond} ORDER BY name {order} LIMIT ?");
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut seen = 0usize;
        let mut cut_short = false;
        while let Some(row) = rows.next()? {
            seen += 1;
            let name: String = row.get(0)?;
            if !walk.offer(name, |name| item(row, name))? {
                cut_short = true;
                break;
            }
        }
        if seen == 0 || (!cut_short && seen < asked) {
            walk.done = true;
        }
    }
    Ok(walk.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_least_upper_bound() {
        assert_eq!(prefix_end("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_end("a/").as_deref(), Some("a0"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}\u{10FFFF}"), None);
        assert_eq!(prefix_end(""), None);
        let end = prefix_end("é").unwrap();
        assert!("éz\u{10FFFF}".as_bytes() < end.as_bytes());
        assert!("é".as_bytes() < end.as_bytes());
    }

    #[test]
    fn lower_bounds_combine_to_the_stricter() {
        let a = Lower::Above("b".into());
        assert_eq!(a.clone().max(Lower::From("a".into())), a);
        assert_eq!(a.clone().max(Lower::From("b".into())), a);
        assert_eq!(Lower::From("c".into()).max(a), Lower::From("c".into()));
    }
}
