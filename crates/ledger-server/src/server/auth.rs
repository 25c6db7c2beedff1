//! Bearer tokens: who is calling, and in which role. Every request needs one.

use std::collections::HashMap;

use axum::http::HeaderMap;
use ledger_graphql::{Caller, Role};

use crate::config::{Config, RoleName};

/// The configured tokens, looked up on every request.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    callers: HashMap<String, Caller>,
}

fn role(name: RoleName) -> Role {
    match name {
        RoleName::Agent => Role::Agent,
        RoleName::Supervisor => Role::Supervisor,
        RoleName::Analyst => Role::Analyst,
        RoleName::Auditor => Role::Auditor,
        RoleName::Admin => Role::Admin,
    }
}

/// The `WWW-Authenticate` challenge of a 401: this server takes bearer tokens (RFC 6750 §3).
/// No `realm` or `error` parameter: one realm, and a missing token and an unknown one are
/// told apart in the body, not to a crawler probing for tokens.
pub const BEARER_CHALLENGE: &str = "Bearer";

/// Why a request has no caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Unknown,
}

impl AuthError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => "send a bearer token: Authorization: Bearer <token>",
            Self::Unknown => "the bearer token is not one this server knows",
        }
    }
}

impl Tokens {
    pub fn from_config(config: &Config) -> Self {
        let callers = config
            .auth
            .tokens
            .iter()
            .map(|token| {
                (
                    token.token.clone(),
                    Caller {
                        subject: token.subject.clone(),
                        role: role(token.role),
                    },
                )
            })
            .collect();
        Self { callers }
    }

    /// The caller of a request with these headers.
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        let value = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        self.caller_of_authorization(value)
    }

    /// The caller named by an `Authorization` value (`Bearer <token>`, scheme case-insensitive).
    pub fn caller_of_authorization(&self, value: Option<&str>) -> Result<Caller, AuthError> {
        let value = value
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .ok_or(AuthError::Missing)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::Missing)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Missing);
        }
        self.callers
            .get(token.trim())
            .cloned()
            .ok_or(AuthError::Unknown)
    }

    /// The caller named in a websocket `connection_init` payload: `{"Authorization": "Bearer …"}`
    /// (key case-insensitive, as GraphiQL's header editor sends it).
    pub fn caller_of_init_payload(&self, payload: &serde_json::Value) -> Result<Caller, AuthError> {
        let value = payload
            .as_object()
            .and_then(|object| {
                object
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
            })
            .and_then(|(_, value)| value.as_str());
        self.caller_of_authorization(value)
    }
}
