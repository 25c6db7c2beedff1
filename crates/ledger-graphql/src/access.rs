//! Who may use what: the callers' roles, the one access table, the guard every root field
//! carries, and whether a caller sees personal data or its masked form.
//!
//! The table ([`ACCESS`]) lists every root query field, mutation and subscription, and the few
//! arguments that widen a field (`serviceCases.breachedOnly`), with the roles allowed. Anything
//! not in the table is refused, so a new field is closed until someone decides who may use it.
//! Every root object carries the [`RootAccess`] guard, which reads the field's own name from the
//! context and asks the table; the access-matrix test executes every root field for every role
//! and compares the outcome with [`allowed`].
//!
//! Decisions:
//! - **Agents** read customers, timelines, service histories and the case list, and make the
//!   changes a call-centre agent makes while the customer is on the line: register a customer,
//!   add an identifier, update the profile, record consent, a contact, satisfaction, an online
//!   enquiry or a first notice of loss, open and resolve service cases. An agent subscribes to
//!   its own screen pops only.
//! - **Supervisors** add the queues (breached cases, claims past their guarantee), case
//!   management (assign, escalate, reopen, close), corrections, identifier removal, account
//!   managers, claim documents, risk surveys and their follow-ups, campaign touches and
//!   responses, and process training; they may watch any agent's screen pops.
//! - **Analysts** read everything an agent and a supervisor read, masked, and change nothing.
//!   They cannot look a customer up by personal data (an identifier, or a name prefix), since a
//!   hit would confirm the unmasked value.
//! - **Segments, campaigns, contact statistics, team performance and the process network**
//!   (`segments`, `segment`, `customers.segment`, `campaigns`, `campaign`, `channelStats`,
//!   `busiestHours`, `agentStats`, `managerStats`, `processes`, `process`, `processNetwork`)
//!   are read by supervisors, analysts, auditors and admins; agents work one customer at a
//!   time and see that customer's `segments` and `metrics` (key account, at risk) on the
//!   `Customer` itself. Everyone reads `followUps`, the call-back queue agents work through.
//! - **Auditors** read everything, unmasked (an audit checks the record as written), plus the
//!   raw log: `events`, `ledgerEvents`, `ledger`, `verifyLedger`, `customerAsOf`, and the
//!   Merkle proofs: `inclusionProof`, `consistencyProof`, `signedCheckpoint`, and the record of
//!   who read which customer's personal data (`accessLog`). They change nothing.
//! - **Admins** may do everything, including erasure, merges, process publication and the
//!   commands that other systems feed (policy life cycle, claim handling after the first
//!   notice, campaigns) until integrators have a role of their own.

use async_graphql::{Context, Guard};
use ledger_domain::aggregates::{Aggregate, Claim, Policy};
use ledger_domain::ids::StreamId;
use ledger_domain::values::{Identifier, IdentifierKind};

use crate::errors::ApiError;

/// A caller's role, as the server's bearer token names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum Role {
    Agent,
    Supervisor,
    Analyst,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Self; 5] = [
        Self::Agent,
        Self::Supervisor,
        Self::Analyst,
        Self::Auditor,
        Self::Admin,
    ];

    /// The role's name in tokens and errors: `agent`, `supervisor` ...
    pub fn name(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Supervisor => "supervisor",
            Self::Analyst => "analyst",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
        }
    }

    /// Whether this role sees personal data (names, identifiers, free text) as written.
    pub fn sees_personal_data(self) -> bool {
        !matches!(self, Self::Analyst)
    }
}

/// Who is asking: the server puts one in the request data (and in a websocket connection's
/// data) after checking the bearer token.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The staff or system id the token was issued to; mutations record it as the actor.
    pub subject: String,
    pub role: Role,
}

use Role::{Admin, Agent, Analyst, Auditor, Supervisor};

const READERS: &[Role] = &[Agent, Supervisor, Analyst, Auditor, Admin];
const LOOKUP: &[Role] = &[Agent, Supervisor, Auditor, Admin];
const QUEUES: &[Role] = &[Supervisor, Analyst, Auditor, Admin];
const AUDIT: &[Role] = &[Auditor, Admin];
const CALL_CENTRE: &[Role] = &[Agent, Supervisor, Admin];
const SUPERVISION: &[Role] = &[Supervisor, Admin];
const ADMIN: &[Role] = &[Admin];
/// The read models of the book as a whole: segments, campaigns, contact statistics, team
/// performance, the process network.
const ANALYSIS: &[Role] = &[Supervisor, Analyst, Auditor, Admin];

/// Every root field (and field argument, as `field.argument`) and the roles that may use it.
pub const ACCESS: &[(&str, &[Role])] = &[
    // Queries.
    ("viewer", READERS),
    ("customer", READERS),
    ("customerByIdentifier", LOOKUP),
    ("customers", READERS),
    ("customers.search", LOOKUP),
    ("serviceCases", READERS),
    ("serviceCases.breachedOnly", QUEUES),
    ("claimsPastGuarantee", QUEUES),
    ("events", AUDIT),
    ("ledger", AUDIT),
    ("verifyLedger", AUDIT),
    ("customerAsOf", AUDIT),
    ("inclusionProof", AUDIT),
    ("consistencyProof", AUDIT),
    ("signedCheckpoint", AUDIT),
    ("accessLog", AUDIT),
    // Read models of the book (Projections II).
    ("segments", ANALYSIS),
    ("segment", ANALYSIS),
    ("segmentChanges", ANALYSIS),
    ("customers.segment", ANALYSIS),
    ("campaigns", ANALYSIS),
    ("campaign", ANALYSIS),
    ("followUps", READERS),
    ("channelStats", ANALYSIS),
    ("busiestHours", ANALYSIS),
    ("agentStats", ANALYSIS),
    ("managerStats", ANALYSIS),
    ("processes", ANALYSIS),
    ("process", ANALYSIS),
    ("processNetwork", ANALYSIS),
    // Mutations: the customer and contacts.
    ("registerCustomer", CALL_CENTRE),
    ("addIdentifier", CALL_CENTRE),
    ("removeIdentifier", SUPERVISION),
    ("updateProfile", CALL_CENTRE),
    ("changeConsent", CALL_CENTRE),
    ("mergeCustomers", ADMIN),
    ("assignAccountManager", SUPERVISION),
    ("eraseCustomer", ADMIN),
    ("recordContact", CALL_CENTRE),
    ("correctContact", SUPERVISION),
    ("recordSatisfaction", CALL_CENTRE),
    ("recordEnquiry", CALL_CENTRE),
    ("eraseEnquiry", ADMIN),
    // Policies.
    ("quotePolicy", ADMIN),
    ("issuePolicy", ADMIN),
    ("renewPolicy", ADMIN),
    ("endorsePolicy", ADMIN),
    ("lapsePolicy", ADMIN),
    ("cancelPolicy", ADMIN),
    // Claims.
    ("reportClaim", CALL_CENTRE),
    ("surveyClaim", ADMIN),
    ("requestClaimDocuments", SUPERVISION),
    ("completeClaimDocuments", SUPERVISION),
    ("settleClaim", ADMIN),
    ("rejectClaim", ADMIN),
    ("reopenClaim", ADMIN),
    // Service cases.
    ("openServiceCase", CALL_CENTRE),
    ("assignServiceCase", SUPERVISION),
    ("escalateServiceCase", SUPERVISION),
    ("resolveServiceCase", CALL_CENTRE),
    ("reopenServiceCase", SUPERVISION),
    ("closeServiceCase", SUPERVISION),
    ("completeRiskSurvey", SUPERVISION),
    ("followUpRiskRecommendation", SUPERVISION),
    // Marketing.
    ("launchCampaign", ADMIN),
    ("incurCampaignCost", ADMIN),
    ("sendCampaignTouch", SUPERVISION),
    ("recordCampaignResponse", SUPERVISION),
    ("closeCampaign", ADMIN),
    // Processes.
    ("publishProcess", ADMIN),
    ("recordProcessTraining", SUPERVISION),
    // Subscriptions.
    ("ledgerEvents", AUDIT),
    ("customerActivity", READERS),
    ("screenPop", CALL_CENTRE),
    ("screenPop.anyAgent", SUPERVISION),
];

/// Whether `role` may use `field` (a root field name, or `field.argument`). Anything the table
/// does not list is refused.
pub fn allowed(role: Role, field: &str) -> bool {
    ACCESS
        .iter()
        .find(|(name, _)| *name == field)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

/// The caller of this request, or `UNAUTHENTICATED`.
pub fn caller<'a>(ctx: &Context<'a>) -> Result<&'a Caller, ApiError> {
    ctx.data_opt::<Caller>().ok_or(ApiError::Unauthenticated)
}

/// Refuses unless the caller's role may use `field` (see [`ACCESS`]).
pub fn require(ctx: &Context<'_>, field: &str) -> Result<(), ApiError> {
    let caller = caller(ctx)?;
    if allowed(caller.role, field) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            role: caller.role,
            field: field.to_owned(),
        })
    }
}

/// Whether this request's caller sees personal data masked. Without a caller, everything is
/// masked (no field resolves without one anyway).
pub fn masked(ctx: &Context<'_>) -> bool {
    ctx.data_opt::<Caller>()
        .is_none_or(|caller| !caller.role.sees_personal_data())
}

/// The guard on every root query, mutation and subscription field: the field's own name,
/// checked against [`ACCESS`].
#[derive(Debug, Clone, Copy)]
pub struct RootAccess;

impl Guard for RootAccess {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let field = ctx.item.node.name.node.as_str();
        require(ctx, field).map_err(Into::into)
    }
}

/// Personal text as a masked caller sees it: present, but not readable.
pub const MASKED_TEXT: &str = "[masked]";

/// Free text as a caller sees it: [`MASKED_TEXT`] for analysts.
pub fn shown_text(text: Option<&ledger_domain::values::FreeText>, masked: bool) -> Option<String> {
    text.map(|text| {
        if masked {
            MASKED_TEXT.to_owned()
        } else {
            text.to_string()
        }
    })
}

/// An identifier's value as a caller sees it: through the domain's mask for analysts
/// (`***************9999` for a claim number), [`MASKED_TEXT`] should it not parse.
pub fn shown_identifier(kind: IdentifierKind, value: &str, masked: bool) -> String {
    if !masked {
        return value.to_owned();
    }
    Identifier::parse("value", kind, value)
        .map_or_else(|_| MASKED_TEXT.to_owned(), |identifier| identifier.mask())
}

/// A stream's name as a caller sees it. A policy's and a claim's streams are named by their
/// numbers (`claim-CXA2026220100009999`), which analysts see masked like every other place
/// they show (`claim-***************9999`); the other streams are named by ids they see as
/// they are.
pub fn shown_stream(stream: &StreamId, masked: bool) -> String {
    let kind = match stream.category() {
        Policy::CATEGORY => IdentifierKind::PolicyNumber,
        Claim::CATEGORY => IdentifierKind::ClaimNumber,
        _ => return stream.to_string(),
    };
    match stream.as_str().split_once('-') {
        Some((category, number)) if masked => {
            format!("{category}-{}", shown_identifier(kind, number, masked))
        }
        _ => stream.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policys_and_a_claims_stream_show_their_numbers_masked() {
        let stream = |name: &str| StreamId::parse("stream", name).unwrap();
        let claim = stream("claim-CXA2026220100009999");
        assert_eq!(shown_stream(&claim, true), "claim-***************9999");
        assert_eq!(shown_stream(&claim, false), "claim-CXA2026220100009999");
        let policy = stream("policy-PXA2026220100001234");
        assert_eq!(shown_stream(&policy, true), "policy-***************1234");
        let customer = stream("customer-0190a5e2-8c3b-7d4e-9f00-00000000c001");
        assert_eq!(shown_stream(&customer, true), customer.as_str());
    }

    #[test]
    fn the_table_names_each_field_once() {
        let mut names: Vec<&str> = ACCESS.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a field is listed twice");
    }

    #[test]
    fn analysts_and_auditors_change_nothing() {
        for (field, roles) in ACCESS {
            let is_read = matches!(
                *field,
                "viewer"
                    | "customer"
                    | "customerByIdentifier"
                    | "customers"
                    | "customers.search"
                    | "serviceCases"
                    | "serviceCases.breachedOnly"
                    | "claimsPastGuarantee"
                    | "events"
                    | "ledger"
                    | "verifyLedger"
                    | "customerAsOf"
                    | "inclusionProof"
                    | "consistencyProof"
                    | "signedCheckpoint"
                    | "accessLog"
                    | "segments"
                    | "segment"
                    | "segmentChanges"
                    | "customers.segment"
                    | "campaigns"
                    | "campaign"
                    | "followUps"
                    | "channelStats"
                    | "busiestHours"
                    | "agentStats"
                    | "managerStats"
                    | "processes"
                    | "process"
                    | "processNetwork"
                    | "ledgerEvents"
                    | "customerActivity"
                    | "screenPop"
                    | "screenPop.anyAgent"
            );
            if !is_read {
                assert!(
                    !roles.contains(&Analyst) && !roles.contains(&Auditor),
                    "{field}"
                );
                assert!(roles.contains(&Admin), "{field}");
            }
        }
        assert!(!allowed(Agent, "unknownField"));
    }
}
