//! The settings a request's transaction carries, and the preamble statement each engine opens
//! the transaction with: PostgREST's transaction-scoped settings (its documentation,
//! "Transaction-Scoped Settings": the role and `request.jwt.claims`, set with `set_config(...,
//! true)` before the request's statement), plus Rowbase's own for the audit trail.

/// Who and which request the audit triggers record (docs/schema.md, "Audit").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSettings {
    /// The actor, from the trusted header (`--actor-header`), if any.
    pub actor: Option<String>,
    /// The request id: the client's `X-Request-Id`, or one Rowbase made.
    pub request_id: String,
}

impl AuditSettings {
    /// The actor (empty for none) and the request id, as the preambles bind them.
    pub(crate) fn params(&self) -> Vec<rowbase_plan::Value> {
        use rowbase_plan::Value;
        vec![Value::Text(self.actor.clone().unwrap_or_default()), Value::Text(self.request_id.clone())]
    }
}

/// The settings of one request's transaction. Which of them an engine applies itself is the
/// dialect's part ([`crate::Dialect::preamble`]): PostgreSQL takes the role and the claims
/// natively (so row-level security and SQL reading `current_setting('request.jwt.claims')`
/// see them); on SQLite and MySQL the planner's rules apply them to the statement instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionSettings {
    /// For the audit triggers; `None` where the database keeps no audit log or the request
    /// changes nothing.
    pub audit: Option<AuditSettings>,
    /// The database role the transaction runs as (`SET LOCAL ROLE`), if any.
    pub role: Option<String>,
    /// The verified token's claims as a JSON object, if any.
    pub claims: Option<String>,
    /// The HTTP request (`request.method`, `request.path`, `request.headers`), if any.
    pub request: Option<rowbase_plan::RequestLine>,
}
