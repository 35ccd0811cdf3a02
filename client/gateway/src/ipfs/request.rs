//! Parsing a gateway request into typed parts: content path, response
//! format (from `?format=` and `Accept`), CAR parameters, `entity-bytes`
//! and `Range`.
//!
//! Everything here is pure: strings in, values or [`RequestError`]s out, so
//! the rules can be checked against boundary tables without a server.
//! `format` wins over `Accept` (trustless gateway spec, "format"), and CAR
//! query parameters (`car-version`, `car-order`, `car-dups`) win over the
//! matching `Accept` parameters (IPIP-412).

use cid::Cid;

/// Why a request is malformed or asks for something we cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The CID in the path does not parse.
    #[error("invalid CID {input:?}: {reason}")]
    BadCid {
        /// What the client sent.
        input: String,
        /// The parser's complaint.
        reason: String,
    },
    /// A path segment is not allowed (`..`, bad percent-encoding).
    #[error("invalid content path segment {segment:?}: {reason}")]
    BadPath {
        /// The offending segment, as sent.
        segment: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A query parameter has a value we do not understand.
    #[error("invalid {name} parameter {value:?}: expected {expected}")]
    BadParam {
        /// The parameter's name.
        name: &'static str,
        /// Its value.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A known response format that this gateway does not produce.
    #[error(
        "response format {format} is not supported by this gateway; ask for a raw block (?format=raw) or a CAR (?format=car)"
    )]
    NotAcceptable {
        /// The format or media type asked for.
        format: String,
    },
}

/// What kind of response to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Deserialized UnixFS: file bytes or a directory listing.
    Deserialized,
    /// One block, `application/vnd.ipld.raw`.
    Raw,
    /// A CAR stream, `application/vnd.ipld.car`.
    Car(CarParams),
}

/// The negotiated format and whether it came from `Accept` alone (which
/// calls for a `Content-Location` naming the `?format=` URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The response format.
    pub format: Format,
    /// True when `format` was not in the query and `Accept` chose.
    pub from_accept: bool,
}

/// `dag-scope`: which blocks below the path's terminus go in a CAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DagScope {
    /// The whole DAG.
    #[default]
    All,
    /// The blocks needed to read the terminus as one UnixFS entity.
    Entity,
    /// Only the terminus block.
    Block,
}

impl DagScope {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            DagScope::All => "all",
            DagScope::Entity => "entity",
            DagScope::Block => "block",
        }
    }
}

/// `entity-bytes=from:to`, inclusive, before the entity's size is known.
/// Negative values count from the end; `to: None` is `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityBytes {
    /// First byte (negative: from the end).
    pub from: i64,
    /// Last byte, inclusive (negative: from the end); `None` is `*`.
    pub to: Option<i64>,
}

/// How an [`EntityBytes`] resolves against an entity of known size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedBytes {
    /// Bytes `start..end` (exclusive), non-empty and inside the entity.
    Range(u64, u64),
    /// Resolves to no bytes: answered like `dag-scope=block`.
    Empty,
    /// Starts at or past the end of a non-empty entity.
    Outside,
}

impl EntityBytes {
    /// Parses `from:to` per the trustless gateway spec.
    pub fn parse(value: &str) -> Result<EntityBytes, RequestError> {
        let bad = || RequestError::BadParam {
            name: "entity-bytes",
            value: value.to_owned(),
            expected: "from:to with integers (to may be *), from <= to when of the same sign",
        };
        let (from, to) = value.split_once(':').ok_or_else(bad)?;
        let from: i64 = from.parse().map_err(|_| bad())?;
        let to = match to {
            "*" => None,
            to => Some(to.parse::<i64>().map_err(|_| bad())?),
        };
        if let Some(to) = to
            && (from >= 0) == (to >= 0)
            && from > to
        {
            return Err(bad());
        }
        Ok(EntityBytes { from, to })
    }

    /// Resolves against an entity of `size` bytes.
    pub fn resolve(self, size: u64) -> ResolvedBytes {
        let size_i = i128::from(size);
        let from = i128::from(self.from);
        let start = if from < 0 {
            (size_i + from).max(0)
        } else {
            from
        };
        let last = match self.to {
            None => size_i - 1,
            Some(to) if to < 0 => size_i + i128::from(to),
            Some(to) => i128::from(to).min(size_i - 1),
        };
        if size > 0 && start >= size_i {
            return ResolvedBytes::Outside;
        }
        if last < start {
            return ResolvedBytes::Empty;
        }
        // Both bounds now lie in 0..size, so they fit a u64.
        ResolvedBytes::Range(start as u64, (last + 1) as u64)
    }
}

impl std::fmt::Display for EntityBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to {
            Some(to) => write!(f, "{}:{to}", self.from),
            None => write!(f, "{}:*", self.from),
        }
    }
}

/// CAR response parameters (IPIP-412). Only version 1 and DFS order exist
/// here; `order=unk` requests are answered in DFS order, which satisfies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CarParams {
    /// Send a block again every time the walk reaches it (`dups=y`).
    pub dups: bool,
    /// Which blocks below the terminus to send.
    pub scope: DagScope,
    /// Byte range of a file terminus; implies `dag-scope=entity`.
    pub entity_bytes: Option<EntityBytes>,
}

impl CarParams {
    /// The `Content-Type` of the CAR this produces.
    pub fn content_type(&self) -> String {
        format!(
            "application/vnd.ipld.car; version=1; order=dfs; dups={}",
            if self.dups { "y" } else { "n" }
        )
    }
}

/// The query parameters this gateway reads (others are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `format`.
    pub format: Option<String>,
    /// `dag-scope`.
    pub dag_scope: Option<String>,
    /// `entity-bytes`.
    pub entity_bytes: Option<String>,
    /// `car-version`.
    pub car_version: Option<String>,
    /// `car-order`.
    pub car_order: Option<String>,
    /// `car-dups`.
    pub car_dups: Option<String>,
    /// `filename`.
    pub filename: Option<String>,
    /// `download`.
    pub download: Option<String>,
}

impl Query {
    /// Parses a raw query string (`a=b&c=d`, percent-encoded).
    pub fn parse(raw: Option<&str>) -> Result<Query, RequestError> {
        let mut query = Query::default();
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value =
                percent_decode(&value.replace('+', " ")).ok_or_else(|| RequestError::BadParam {
                    name: "query",
                    value: pair.to_owned(),
                    expected: "valid percent-encoded UTF-8",
                })?;
            let slot = match key {
                "format" => &mut query.format,
                "dag-scope" => &mut query.dag_scope,
                "entity-bytes" => &mut query.entity_bytes,
                "car-version" => &mut query.car_version,
                "car-order" => &mut query.car_order,
                "car-dups" => &mut query.car_dups,
                "filename" => &mut query.filename,
                "download" => &mut query.download,
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(query)
    }
}

/// Formats that name a response type this gateway knows but does not make.
const UNSUPPORTED_FORMATS: [&str; 6] =
    ["tar", "dag-json", "dag-cbor", "json", "cbor", "ipns-record"];

/// Decides the response format from the query and the `Accept` header.
pub fn negotiate(query: &Query, accept: Option<&str>) -> Result<Negotiated, RequestError> {
    let from_accept = accept.map(parse_accept).transpose()?.flatten();
    let format = match query.format.as_deref() {
        Some("raw") => Format::Raw,
        Some("car") => {
            // The Accept header's CAR parameters still apply when it asked for a CAR.
            let base = match from_accept {
                Some(Format::Car(p)) => p,
                _ => CarParams::default(),
            };
            Format::Car(car_params(query, base)?)
        }
        Some(f) if UNSUPPORTED_FORMATS.contains(&f) => {
            return Err(RequestError::NotAcceptable {
                format: f.to_owned(),
            });
        }
        Some(f) => {
            return Err(RequestError::BadParam {
                name: "format",
                value: f.to_owned(),
                expected: "raw or car",
            });
        }
        None => {
            let format = match from_accept {
                Some(Format::Car(p)) => Format::Car(car_params(query, p)?),
                Some(f) => f,
                None => Format::Deserialized,
            };
            let from_accept = format != Format::Deserialized;
            return Ok(Negotiated {
                format,
                from_accept,
            });
        }
    };
    Ok(Negotiated {
        format,
        from_accept: false,
    })
}

/// Applies the CAR query parameters over what `Accept` asked for.
fn car_params(query: &Query, mut params: CarParams) -> Result<CarParams, RequestError> {
    if let Some(v) = query.car_version.as_deref()
        && v != "1"
    {
        return Err(RequestError::BadParam {
            name: "car-version",
            value: v.to_owned(),
            expected: "1",
        });
    }
    if let Some(v) = query.car_order.as_deref()
        && !matches!(v, "dfs" | "unk")
    {
        return Err(RequestError::BadParam {
            name: "car-order",
            value: v.to_owned(),
            expected: "dfs or unk",
        });
    }
    match query.car_dups.as_deref() {
        None => {}
        Some("y") => params.dups = true,
        Some("n") => params.dups = false,
        Some(v) => {
            return Err(RequestError::BadParam {
                name: "car-dups",
                value: v.to_owned(),
                expected: "y or n",
            });
        }
    }
    params.scope = match query.dag_scope.as_deref() {
        None | Some("all") => DagScope::All,
        Some("entity") => DagScope::Entity,
        Some("block") => DagScope::Block,
        Some(v) => {
            return Err(RequestError::BadParam {
                name: "dag-scope",
                value: v.to_owned(),
                expected: "all, entity or block",
            });
        }
    };
    if let Some(v) = query.entity_bytes.as_deref() {
        params.entity_bytes = Some(EntityBytes::parse(v)?);
    }
    Ok(params)
}

/// One media range of an `Accept` header.
struct MediaRange<'a> {
    essence: String,
    params: Vec<(String, &'a str)>,
    q: f32,
}

fn parse_media_range(item: &str) -> Option<MediaRange<'_>> {
    let mut parts = item.split(';');
    let essence = parts.next()?.trim().to_ascii_lowercase();
    if essence.is_empty() {
        return None;
    }
    let mut q = 1.0;
    let mut params = Vec::new();
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim().trim_matches('"');
        if k == "q" {
            q = v.parse().unwrap_or(0.0);
        } else {
            params.push((k, v));
        }
    }
    Some(MediaRange { essence, params, q })
}

/// What one media range asks of us.
enum Wish {
    Serve(Format),
    /// A type we know but cannot produce (or a CAR variant we do not make).
    Unsupported,
    /// Any type we do not know: browsers' `text/html`, `*/*`, `image/*`...
    Other,
}

fn wish(range: &MediaRange<'_>) -> Wish {
    match range.essence.as_str() {
        "application/vnd.ipld.raw" => Wish::Serve(Format::Raw),
        "application/vnd.ipld.car" => {
            let mut params = CarParams::default();
            for (k, v) in &range.params {
                match (k.as_str(), *v) {
                    ("version", "1") | ("order", "dfs" | "unk" | "") => {}
                    ("dups", "y") => params.dups = true,
                    ("dups", "n") => params.dups = false,
                    ("version" | "order" | "dups", _) => return Wish::Unsupported,
                    _ => {}
                }
            }
            Wish::Serve(Format::Car(params))
        }
        "application/x-tar"
        | "application/vnd.ipld.dag-json"
        | "application/vnd.ipld.dag-cbor"
        | "application/vnd.ipfs.ipns-record" => Wish::Unsupported,
        _ => Wish::Other,
    }
}

/// The best format an `Accept` header asks for: `Some` for raw or CAR,
/// `None` for a deserialized response, or 406 when it names only IPFS
/// formats we do not produce.
fn parse_accept(header: &str) -> Result<Option<Format>, RequestError> {
    let mut ranges: Vec<MediaRange<'_>> = header
        .split(',')
        .filter_map(parse_media_range)
        .filter(|r| r.q > 0.0)
        .collect();
    // Stable: equal weights keep the client's order.
    ranges.sort_by(|a, b| b.q.total_cmp(&a.q));
    let mut unsupported = None;
    for range in &ranges {
        match wish(range) {
            Wish::Serve(format) => return Ok(Some(format)),
            Wish::Other => return Ok(None),
            Wish::Unsupported => {
                unsupported.get_or_insert_with(|| range.essence.clone());
            }
        }
    }
    match unsupported {
        Some(format) => Err(RequestError::NotAcceptable { format }),
        None => Ok(None),
    }
}

/// A single `Range: bytes=` request, before the file size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-` or `first-last` (inclusive).
    FromTo(u64, Option<u64>),
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// How a [`ByteRange`] resolves against the file size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// Bytes `start..end` (exclusive).
    Partial(u64, u64),
    /// 416: no byte of the range exists.
    Unsatisfiable,
}

/// Parses a `Range` header. Anything but one well-formed `bytes` range
/// yields `None`, and the whole file is served (RFC 9110 §14.2 lets a
/// server ignore a `Range` it does not support; several ranges included).
pub fn parse_range(header: &str) -> Option<ByteRange> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return last.parse().ok().map(ByteRange::Suffix);
    }
    let first: u64 = first.parse().ok()?;
    let last = match last {
        "" => None,
        l => Some(l.parse::<u64>().ok()?),
    };
    if last.is_some_and(|l| l < first) {
        return None;
    }
    Some(ByteRange::FromTo(first, last))
}

impl ByteRange {
    /// Resolves against a file of `size` bytes.
    pub fn resolve(self, size: u64) -> RangeAnswer {
        match self {
            ByteRange::FromTo(first, _) if first >= size => RangeAnswer::Unsatisfiable,
            ByteRange::FromTo(first, last) => {
                RangeAnswer::Partial(first, last.map_or(size, |l| l.saturating_add(1).min(size)))
            }
            ByteRange::Suffix(0) => RangeAnswer::Unsatisfiable,
            ByteRange::Suffix(_) if size == 0 => RangeAnswer::Unsatisfiable,
            ByteRange::Suffix(n) => RangeAnswer::Partial(size.saturating_sub(n), size),
        }
    }
}

/// Parses the CID of a content path.
pub fn parse_cid(input: &str) -> Result<Cid, RequestError> {
    Cid::try_from(input).map_err(|e| RequestError::BadCid {
        input: input.to_owned(),
        reason: e.to_string(),
    })
}

/// Splits the part of the URL path after `/ipfs/` into the CID string, the
/// decoded path segments below it, and whether it ended with a `/`.
pub fn split_content_path(rest: &str) -> Result<(String, Vec<String>, bool), RequestError> {
    let trailing_slash = rest.ends_with('/');
    let mut raw = rest.split('/');
    let cid = raw.next().unwrap_or_default().to_owned();
    let mut segments = Vec::new();
    for seg in raw.filter(|s| !s.is_empty()) {
        let decoded = percent_decode(seg).ok_or_else(|| RequestError::BadPath {
            segment: seg.to_owned(),
            reason: "bad percent-encoding or not UTF-8",
        })?;
        match decoded.as_str() {
            "." => continue,
            ".." => {
                return Err(RequestError::BadPath {
                    segment: seg.to_owned(),
                    reason: "`..` is not allowed",
                });
            }
            d if d.contains('/') => {
                return Err(RequestError::BadPath {
                    segment: seg.to_owned(),
                    reason: "encoded `/` in a name",
                });
            }
            _ => segments.push(decoded),
        }
    }
    Ok((cid, segments, trailing_slash))
}

/// Decodes `%XX` escapes; `None` for a bad escape or non-UTF-8 result.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes a path segment for use in a URL (RFC 3986 unreserved
/// characters pass through).
pub fn percent_encode_segment(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> Query {
        Query::parse(Some(raw)).unwrap_or_default()
    }

    #[test]
    fn entity_bytes_parse_table() {
        // (input, expected) — each row hits one rule of the spec's grammar.
        type Parsed = Option<(i64, Option<i64>)>;
        let rows: [(&str, Parsed); 11] = [
            ("0:1000", Some((0, Some(1000)))),
            ("0:*", Some((0, None))),
            ("499:-1000", Some((499, Some(-1000)))), // mixed signs are allowed
            ("-1024:*", Some((-1024, None))),
            ("-101:-1", Some((-101, Some(-1)))),
            ("0:0", Some((0, Some(0)))),
            ("10000:500", None),   // from > to, both positive
            ("-1000:-2000", None), // from > to, both negative
            (":2000", None),
            ("1:2:3", None),
            ("aaa:1", None),
        ];
        for (input, want) in rows {
            let got = EntityBytes::parse(input).ok().map(|e| (e.from, e.to));
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn entity_bytes_resolve_table() {
        let size = 1000;
        let rows = [
            ("0:*", ResolvedBytes::Range(0, 1000)),
            ("0:0", ResolvedBytes::Range(0, 1)),
            ("10:19", ResolvedBytes::Range(10, 20)),
            ("900:5000", ResolvedBytes::Range(900, 1000)), // clamped at the end
            ("-10:*", ResolvedBytes::Range(990, 1000)),
            ("-5000:*", ResolvedBytes::Range(0, 1000)), // clamped at the start
            ("499:-400", ResolvedBytes::Range(499, 601)),
            ("499:-1000", ResolvedBytes::Empty), // resolves to nothing
            ("1000:*", ResolvedBytes::Outside),
            ("2000:3000", ResolvedBytes::Outside),
        ];
        for (input, want) in rows {
            let eb = EntityBytes::parse(input).unwrap_or(EntityBytes {
                from: -1,
                to: Some(-1),
            });
            assert_eq!(eb.resolve(size), want, "{input}");
        }
        assert_eq!(
            EntityBytes { from: 0, to: None }.resolve(0),
            ResolvedBytes::Empty
        );
    }

    #[test]
    fn range_header_table() {
        let size = 100;
        let rows = [
            ("bytes=0-9", Some(RangeAnswer::Partial(0, 10))),
            ("bytes=90-", Some(RangeAnswer::Partial(90, 100))),
            ("bytes=90-1000", Some(RangeAnswer::Partial(90, 100))),
            ("bytes=-10", Some(RangeAnswer::Partial(90, 100))),
            ("bytes=-1000", Some(RangeAnswer::Partial(0, 100))),
            ("bytes=100-", Some(RangeAnswer::Unsatisfiable)),
            ("bytes=-0", Some(RangeAnswer::Unsatisfiable)),
            ("bytes=5-1", None),     // invalid: ignored
            ("bytes=0-1,5-6", None), // several ranges: ignored
            ("items=0-1", None),
            ("bytes=x-1", None),
        ];
        for (header, want) in rows {
            assert_eq!(
                parse_range(header).map(|r| r.resolve(size)),
                want,
                "{header}"
            );
        }
    }

    #[test]
    fn format_wins_over_accept_and_accept_params_apply() {
        let raw = negotiate(&q("format=raw"), Some("application/vnd.ipld.car"));
        assert_eq!(
            raw,
            Ok(Negotiated {
                format: Format::Raw,
                from_accept: false
            })
        );

        let car = negotiate(
            &q(""),
            Some("application/vnd.ipld.car; version=1; order=dfs; dups=y"),
        );
        let want = CarParams {
            dups: true,
            ..CarParams::default()
        };
        assert_eq!(
            car,
            Ok(Negotiated {
                format: Format::Car(want),
                from_accept: true
            })
        );

        // car-dups in the query overrides dups in Accept.
        let car = negotiate(&q("car-dups=n"), Some("application/vnd.ipld.car;dups=y"));
        assert_eq!(car.map(|n| n.format), Ok(Format::Car(CarParams::default())));

        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(
            negotiate(&q(""), Some(browser)).map(|n| n.format),
            Ok(Format::Deserialized)
        );
        assert_eq!(
            negotiate(&q(""), None).map(|n| n.format),
            Ok(Format::Deserialized)
        );
    }

    #[test]
    fn accept_weights_and_unsupported_variants() {
        let pick = |accept: &str| negotiate(&q(""), Some(accept)).map(|n| n.format);
        assert_eq!(
            pick("application/vnd.ipld.car;q=0.5, application/vnd.ipld.raw"),
            Ok(Format::Raw)
        );
        // An unsupported CAR variant falls through to the next preference.
        assert_eq!(
            pick(
                "application/vnd.ipld.car;order=foo, application/vnd.ipld.car;order=dfs;dups=y;q=0.5"
            ),
            Ok(Format::Car(CarParams {
                dups: true,
                ..CarParams::default()
            }))
        );
        assert!(matches!(
            pick("application/vnd.ipld.car;version=2"),
            Err(RequestError::NotAcceptable { .. })
        ));
        assert!(matches!(
            pick("application/x-tar"),
            Err(RequestError::NotAcceptable { .. })
        ));
        assert!(matches!(
            pick("application/vnd.ipld.raw;q=0"),
            Ok(Format::Deserialized)
        ));
    }

    #[test]
    fn bad_query_values_are_named() {
        let bad = |raw: &str| match negotiate(&q(raw), None) {
            Err(RequestError::BadParam { name, .. }) => name,
            other => panic!("{raw}: expected BadParam, got {other:?}"),
        };
        assert_eq!(bad("format=zip"), "format");
        assert_eq!(bad("format=car&dag-scope=some"), "dag-scope");
        assert_eq!(bad("format=car&entity-bytes=5:1"), "entity-bytes");
        assert_eq!(bad("format=car&car-version=2"), "car-version");
        assert_eq!(bad("format=car&car-order=bfs"), "car-order");
        assert_eq!(bad("format=car&car-dups=maybe"), "car-dups");
        assert!(matches!(
            negotiate(&q("format=tar"), None),
            Err(RequestError::NotAcceptable { .. })
        ));
    }

    #[test]
    fn content_paths_split_and_decode() {
        let split = split_content_path;
        assert_eq!(
            split("bafy/a%20b/c/"),
            Ok(("bafy".into(), vec!["a b".into(), "c".into()], true))
        );
        assert_eq!(split("bafy"), Ok(("bafy".into(), vec![], false)));
        assert_eq!(
            split("bafy//./x"),
            Ok(("bafy".into(), vec!["x".into()], false))
        );
        assert!(split("bafy/../x").is_err());
        assert!(split("bafy/a%2Fb").is_err());
        assert!(split("bafy/%zz").is_err());
        assert_eq!(percent_encode_segment("a b/ü"), "a%20b%2F%C3%BC");
    }
}
