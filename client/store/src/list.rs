//! `ListObjects` with S3 delimiter semantics.
//!
//! The listing is the sorted sequence of *entries* after `start_after`: a key
//! with `prefix` that has no `delimiter` after the prefix is an entry itself;
//! keys that do are rolled up into the common prefix ending at the first such
//! delimiter, one entry per common prefix. A common prefix counts once toward
//! `max_keys`.
//!
//! A truncated page's `next_start_after` is its last entry, key or common
//! prefix. So that a page may end on a common prefix, a `start_after` that
//! itself lies inside a common prefix (`photos/` or `photos/2024` with
//! delimiter `/`) means "that prefix was already listed": every key under it
//! is skipped. This matches S3's handling of `NextMarker`.
//!
//! Rolled-up keys are never visited one by one: after emitting a common
//! prefix the iterator seeks to the prefix's byte successor.

use rocksdb::ReadOptions;

use crate::{
    error::{Result, StoreError, show_key},
    keys::{self, CF_OBJECTS},
    object::{ObjectRecord, StoredObject},
    store::Store,
};

/// Parameters of one `list_objects` page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only keys starting with this.
    pub prefix: String,
    /// Roll up keys at the first occurrence of this after `prefix`; `None` or
    /// empty means no roll-up.
    pub delimiter: Option<String>,
    /// Only entries after this key or common prefix (exclusive).
    pub start_after: Option<String>,
    /// Maximum number of entries (keys plus common prefixes) in the page.
    pub max_keys: usize,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Keys and their current records, in key order.
    pub entries: Vec<(String, ObjectRecord)>,
    /// Common prefixes, in order, each once.
    pub common_prefixes: Vec<String>,
    /// Whether more entries follow this page.
    pub is_truncated: bool,
    /// When truncated: the last entry of this page, to pass as `start_after`.
    pub next_start_after: Option<String>,
}

/// The common prefix `key` rolls up into, if any.
fn common_prefix_of<'k>(key: &'k str, prefix: &str, delimiter: Option<&str>) -> Option<&'k str> {
    let delimiter = delimiter?;
    let rest = key.strip_prefix(prefix)?;
    let at = rest.find(delimiter)?;
    key.get(..prefix.len() + at + delimiter.len())
}

impl Store {
    /// Lists `bucket` (see the module docs for the exact semantics).
    pub fn list_objects(&self, bucket: &str, query: &ListQuery) -> Result<ListPage> {
        let inner = &self.inner;
        inner.check()?;
        crate::bucket::require_bucket(inner, bucket)?;
        let prefix = query.prefix.as_str();
        let delimiter = query.delimiter.as_deref().filter(|d| !d.is_empty());

        let base = keys::bucket_prefix(bucket);
        let full = |k: &[u8]| [base.as_slice(), k].concat();
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(base.clone());
        if let Some(upper) = keys::prefix_successor(&base) {
            ro.set_iterate_upper_bound(upper);
        }

        // Where to start, and a key to skip if we land on it exactly.
        let mut seek: Vec<u8> = prefix.as_bytes().to_vec();
        let mut skip_equal: Option<&str> = None;
        if let Some(sa) = query.start_after.as_deref() {
            let target = match common_prefix_of(sa, prefix, delimiter) {
                Some(cp) => keys::prefix_successor(cp.as_bytes()),
                None => {
                    skip_equal = Some(sa);
                    Some(sa.as_bytes().to_vec())
                }
            };
            match target {
                Some(t) if t > seek => seek = t,
                Some(_) => {}
                None => return Ok(ListPage::default()),
            }
        }

        let mut page = ListPage::default();
        let mut count = 0usize;
        let mut last: Option<String> = None;
        let mut it = inner.db.raw_iterator_cf_opt(inner.cf(CF_OBJECTS)?, ro);
        it.seek(full(&seek));
        while let (Some(raw), Some(value)) = (it.key(), it.value()) {
            let key = raw
                .get(base.len()..)
                .and_then(|k| std::str::from_utf8(k).ok())
                .ok_or_else(|| StoreError::Corrupt {
                    what: "object key",
                    key: show_key(raw),
                })?;
            if !key.starts_with(prefix) {
                break;
            }
            if skip_equal == Some(key) {
                it.next();
                continue;
            }
            if count == query.max_keys {
                page.is_truncated = true;
                break;
            }
            count += 1;
            if let Some(cp) = common_prefix_of(key, prefix, delimiter) {
                let cp = cp.to_owned();
                let next = keys::prefix_successor(cp.as_bytes());
                page.common_prefixes.push(cp.clone());
                last = Some(cp);
                match next {
                    Some(n) => it.seek(full(&n)),
                    None => break,
                }
            } else {
                let stored: StoredObject = keys::decode("object record", raw, value)?;
                page.entries.push((key.to_owned(), stored.record));
                last = Some(key.to_owned());
                it.next();
            }
        }
        it.status()?;
        if page.is_truncated {
            page.next_start_after = last;
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::common_prefix_of;

    #[test]
    fn common_prefix_table() {
        // (key, prefix, delimiter, expected, case)
        let cases = [
            ("a/b/c", "", Some("/"), Some("a/"), "first delimiter"),
            (
                "a/b/c",
                "a/",
                Some("/"),
                Some("a/b/"),
                "delimiter after prefix only",
            ),
            ("a", "", Some("/"), None, "no delimiter"),
            (
                "a/",
                "a/",
                Some("/"),
                None,
                "delimiter inside prefix does not count",
            ),
            ("xaby", "x", Some("ab"), Some("xab"), "multi-byte delimiter"),
            ("a/b", "", None, None, "no delimiter given"),
            ("b/c", "a", Some("/"), None, "key outside prefix"),
            ("é/x", "", Some("/"), Some("é/"), "non-ASCII key"),
        ];
        for (key, prefix, delim, want, case) in cases {
            assert_eq!(common_prefix_of(key, prefix, delim), want, "{case}");
        }
    }
}
