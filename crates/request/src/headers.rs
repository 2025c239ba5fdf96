//! The request headers that shape a PostgREST request: `Prefer` (RFC 7240, PostgREST
//! "Preferences"), `Range` (PostgREST "Pagination and Count") and `Accept` (PostgREST
//! "Response Formats"). Pure functions over header values.

use crate::error::ParseError;

/// `Prefer: return=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnPreference {
    /// No body (the default for writes).
    Minimal,
    /// No body, but a `Location` header.
    HeadersOnly,
    /// The affected rows, shaped by `select`.
    Representation,
}

/// `Prefer: count=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountPreference {
    /// `count(*)` of the filtered rows.
    Exact,
    /// The engine's estimate from its statistics.
    Planned,
    /// Exact below a threshold, planned above it.
    Estimated,
}

/// `Prefer: resolution=...` (upserts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// `ON CONFLICT DO UPDATE`.
    MergeDuplicates,
    /// `ON CONFLICT DO NOTHING`.
    IgnoreDuplicates,
}

/// `Prefer: missing=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// A key listed in `columns` but absent from a row takes the column default.
    Default,
    /// ... or becomes NULL (the default).
    Null,
}

/// `Prefer: tx=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxEnd {
    /// Commit (the default).
    Commit,
    /// Roll back: a dry run.
    Rollback,
}

/// All preferences of a request, merged from every `Prefer` header.
/// The first value wins for each key; unknown ones are kept in `invalid` for `handling=strict`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    /// `return=`.
    pub return_: Option<ReturnPreference>,
    /// `count=`.
    pub count: Option<CountPreference>,
    /// `resolution=`.
    pub resolution: Option<Resolution>,
    /// `missing=`.
    pub missing: Option<Missing>,
    /// `tx=`.
    pub tx: Option<TxEnd>,
    /// `handling=strict` (true) or `lenient`.
    pub strict: Option<bool>,
    /// `max-affected=N`.
    pub max_affected: Option<u64>,
    /// `timezone=`.
    pub timezone: Option<String>,
    /// `deleted=live|include|only` (Rowbase): the rows of soft-delete tables a request sees.
    pub deleted: Option<crate::ast::DeletedRows>,
    /// `delete=hard` (`true`) or `delete=soft` (Rowbase): whether a DELETE on a soft-delete
    /// table removes rows instead of marking them deleted.
    pub hard_delete: Option<bool>,
    /// Preferences that were not understood, as written.
    pub invalid: Vec<String>,
}

impl Preferences {
    /// Merges the values of every `Prefer` header. Values are split on commas and trimmed.
    pub fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> Preferences {
        let mut p = Preferences::default();
        for token in headers.into_iter().flat_map(|h| h.split(',')).map(str::trim).filter(|t| !t.is_empty()) {
            let (key, value) = token.split_once('=').map_or((token, ""), |(k, v)| (k.trim(), v.trim()));
            let known = match key {
                "return" => set(
                    &mut p.return_,
                    match value {
                        "minimal" => Some(ReturnPreference::Minimal),
                        "headers-only" => Some(ReturnPreference::HeadersOnly),
                        "representation" => Some(ReturnPreference::Representation),
                        _ => None,
                    },
                ),
                "count" => set(
                    &mut p.count,
                    match value {
                        "exact" => Some(CountPreference::Exact),
                        "planned" => Some(CountPreference::Planned),
                        "estimated" => Some(CountPreference::Estimated),
                        _ => None,
                    },
                ),
                "resolution" => set(
                    &mut p.resolution,
                    match value {
                        "merge-duplicates" => Some(Resolution::MergeDuplicates),
                        "ignore-duplicates" => Some(Resolution::IgnoreDuplicates),
                        _ => None,
                    },
                ),
                "missing" => set(
                    &mut p.missing,
                    match value {
                        "default" => Some(Missing::Default),
                        "null" => Some(Missing::Null),
                        _ => None,
                    },
                ),
                "tx" => set(
                    &mut p.tx,
                    match value {
                        "commit" => Some(TxEnd::Commit),
                        "rollback" => Some(TxEnd::Rollback),
                        _ => None,
                    },
                ),
                "handling" => set(
                    &mut p.strict,
                    match value {
                        "strict" => Some(true),
                        "lenient" => Some(false),
                        _ => None,
                    },
                ),
                "max-affected" => set(&mut p.max_affected, value.parse().ok()),
                "timezone" => set(&mut p.timezone, Some(value.to_string()).filter(|v| !v.is_empty())),
                "deleted" => set(
                    &mut p.deleted,
                    match value {
                        "live" => Some(crate::ast::DeletedRows::Live),
                        "include" => Some(crate::ast::DeletedRows::Include),
                        "only" => Some(crate::ast::DeletedRows::Only),
                        _ => None,
                    },
                ),
                "delete" => set(
                    &mut p.hard_delete,
                    match value {
                        "hard" => Some(true),
                        "soft" => Some(false),
                        _ => None,
                    },
                ),
                _ => false,
            };
            if !known {
                p.invalid.push(token.to_string());
            }
        }
        p
    }
}

/// Sets `slot` to `value` unless already set (first wins). Returns whether `value` was valid.
fn set<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    match value {
        Some(v) => {
            if slot.is_none() {
                *slot = Some(v);
            }
            true
        }
        None => false,
    }
}

/// A `Range: first-[last]` request header (`Range-Unit` is ignored, as PostgREST does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeHeader {
    /// Offset of the first row, 0-based.
    pub first: u64,
    /// Offset of the last row, inclusive; `None` for an open range (`10-`).
    pub last: Option<u64>,
}

/// Parses a `Range` header value such as `0-24`, `10-` or `items=0-24`.
///
/// Errors: `PGRST103` (416) when the last row comes before the first; a value that is not a
/// range at all is ignored (`Ok(None)`), as PostgREST ignores it.
pub fn parse_range(value: &str) -> Result<Option<RangeHeader>, ParseError> {
    let v = value.trim();
    let v = v.strip_prefix("items=").unwrap_or(v);
    let Some((a, b)) = v.split_once('-') else { return Ok(None) };
    let Ok(first) = a.trim().parse::<u64>() else { return Ok(None) };
    let last = match b.trim() {
        "" => None,
        s => match s.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => return Ok(None),
        },
    };
    if let Some(l) = last {
        if l < first {
            return Err(ParseError::range(
                "Requested range not satisfiable",
                Some(format!("The lower bound ({first}) must be less than or equal to the upper bound ({l})")),
            ));
        }
    }
    Ok(Some(RangeHeader { first, last }))
}

/// The response formats a read can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json` (also `*/*` and no Accept): an array.
    Json,
    /// `application/vnd.pgrst.object+json`: exactly one row, as an object.
    SingleObject,
    /// `text/csv`.
    Csv,
    /// `application/openapi+json` (root only).
    OpenApi,
}

impl MediaType {
    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::Json => "application/json; charset=utf-8",
            MediaType::SingleObject => "application/vnd.pgrst.object+json; charset=utf-8",
            MediaType::Csv => "text/csv; charset=utf-8",
            MediaType::OpenApi => "application/openapi+json; charset=utf-8",
        }
    }
}

/// Picks the best of `offered` for an `Accept` header (q-values honoured; `*/*` and an absent
/// header choose the first offered). `Err` carries the media types asked for, for `PGRST107`.
pub fn negotiate(accept: Option<&str>, offered: &[MediaType]) -> Result<MediaType, String> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(offered[0]);
    };
    let mut best: Option<(f32, usize, MediaType)> = None;
    for (index, range) in accept.split(',').enumerate() {
        let mut parts = range.split(';').map(str::trim);
        let essence = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts.filter_map(|p| p.strip_prefix("q=")).find_map(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let candidate = match essence.as_str() {
            "*/*" | "application/*" => Some(offered[0]),
            "application/json" => Some(MediaType::Json),
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => Some(MediaType::SingleObject),
            "application/vnd.pgrst.array+json" => Some(MediaType::Json),
            "text/csv" => Some(MediaType::Csv),
            "application/openapi+json" => Some(MediaType::OpenApi),
            _ => None,
        };
        if let Some(m) = candidate.filter(|m| offered.contains(m)) {
            if best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && index < bi)) {
                best = Some((q, index, m));
            }
        }
    }
    best.map(|(_, _, m)| m).ok_or_else(|| accept.to_string())
}
