//! The request headers Rowbase reads that the `http` crate has no constant for, as constants:
//! a lookup by `&str` parses and lower-cases the name on every request.

use axum::http::HeaderName;

/// `Prefer` (RFC 7240): PostgREST's preferences ("Prefer Header").
pub(crate) const PREFER: HeaderName = HeaderName::from_static("prefer");
/// `Accept-Profile`: the schema a read asks for (PostgREST "Schemas").
pub(crate) const ACCEPT_PROFILE: HeaderName = HeaderName::from_static("accept-profile");
/// `Content-Profile`: the schema a write asks for (PostgREST "Schemas").
pub(crate) const CONTENT_PROFILE: HeaderName = HeaderName::from_static("content-profile");
/// `Accept-Datetime` (RFC 7089): a read of the rows as they were at an instant.
pub(crate) const ACCEPT_DATETIME: HeaderName = HeaderName::from_static("accept-datetime");
/// `apikey`: Supabase clients' key, read as the token when there is no `Authorization`.
pub(crate) const APIKEY: HeaderName = HeaderName::from_static("apikey");
