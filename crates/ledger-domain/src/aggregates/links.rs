//! The rules on what a command names from another stream: a claim's or contact's policy, a
//! contact's service case, campaign and enquiry. Each asks the [`DecisionContext`] and checks
//! nothing when the context cannot tell (`None`).
//!
//! "The customer" of a rule includes the customers merged with it: a policy issued to a
//! duplicate that was merged into the survivor is the survivor's, and the other way round, so
//! both sides of a merge are followed to their last survivor and compared.

use super::{
    CampaignStanding, CaseStanding, ClaimStanding, CustomerStanding, DecisionContext,
    EnquiryStanding, PolicyFacts, PolicyStanding, not_found,
};
use crate::ids::{CampaignId, CaseId, CustomerId, EnquiryId};
use crate::values::{ClaimNumber, Identifier, PolicyNumber};
use crate::{DomainError, ValidationError};

/// The most merges followed from a customer to its last survivor. A merge into a customer
/// already merged away is refused, so a chain only grows when a survivor is merged later;
/// sixteen is far beyond any real chain, and bounds the walk should the directory hold a cycle.
pub const MERGE_HOPS_MAX: usize = 16;

/// The customer `customer` ends up as after following its merges (at most [`MERGE_HOPS_MAX`]).
fn last_survivor(customer: CustomerId, context: &dyn DecisionContext) -> CustomerId {
    let mut current = customer;
    for _ in 0..MERGE_HOPS_MAX {
        match context.customer_standing(current) {
            Some(CustomerStanding::MergedInto(survivor)) => current = survivor,
            _ => break,
        }
    }
    current
}

/// Whether `first` and `second` are the same customer, directly or through merges.
/// The customer a new record is for (a quote, a policy, a claim, a case, a campaign's touch or
/// response): registered, not merged away (the survivor takes new business) and not erased.
/// A context that cannot tell does not check.
pub fn new_business_for(
    customer: CustomerId,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    match context.customer_standing(customer) {
        Some(CustomerStanding::Unknown) => Err(DomainError::NotFound {
            kind: "customer",
            id: customer.to_string(),
        }),
        Some(CustomerStanding::MergedInto(survivor)) => Err(DomainError::CustomerMerged {
            customer: customer.to_string(),
            survivor: survivor.to_string(),
        }),
        Some(CustomerStanding::Erased) => Err(DomainError::CustomerErased {
            customer: customer.to_string(),
        }),
        Some(CustomerStanding::Live) | None => Ok(()),
    }
}

pub fn same_customer(first: CustomerId, second: CustomerId, context: &dyn DecisionContext) -> bool {
    first == second || last_survivor(first, context) == last_survivor(second, context)
}

/// The policy `number`, issued to `customer` (`whose` says who that is in the rule: "the
/// claim's customer"): a quote covers nothing. `Ok(None)` when the context cannot tell.
pub fn issued_policy(
    number: &PolicyNumber,
    customer: CustomerId,
    whose: &str,
    context: &dyn DecisionContext,
) -> Result<Option<PolicyFacts>, DomainError> {
    match context.policy(number) {
        None => Ok(None),
        Some(PolicyStanding::Unknown) => Err(not_found("policy", number)),
        Some(PolicyStanding::Quoted { .. }) => Err(ValidationError::new(
            "policyNumber",
            format!("a policy issued to {whose}; {number} was only quoted"),
        )
        .into()),
        Some(PolicyStanding::Issued(facts)) => {
            held_by(number, facts.holder, customer, whose, context)?;
            Ok(Some(facts))
        }
    }
}

/// Refuses a policy (issued or quoted) that does not exist or is another customer's.
pub fn customers_policy(
    number: &PolicyNumber,
    customer: CustomerId,
    whose: &str,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    match context.policy(number) {
        None => Ok(()),
        Some(PolicyStanding::Unknown) => Err(not_found("policy", number)),
        Some(
            PolicyStanding::Quoted { holder } | PolicyStanding::Issued(PolicyFacts { holder, .. }),
        ) => held_by(number, holder, customer, whose, context),
    }
}

fn held_by(
    number: &PolicyNumber,
    holder: CustomerId,
    customer: CustomerId,
    whose: &str,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    if same_customer(holder, customer, context) {
        return Ok(());
    }
    Err(ValidationError::new(
        "policyNumber",
        format!(
            "a policy held by {whose} (or by a customer merged with it); {number} is held by \
             another customer"
        ),
    )
    .into())
}

/// Refuses a service case that was never opened, or was opened for another customer.
pub fn case_of(
    case: CaseId,
    customer: CustomerId,
    whose: &str,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    match context.service_case(case) {
        None => Ok(()),
        Some(CaseStanding::Unknown) => Err(not_found("service case", case)),
        Some(CaseStanding::Opened { customer: owner })
            if same_customer(owner, customer, context) =>
        {
            Ok(())
        }
        Some(CaseStanding::Opened { .. }) => Err(ValidationError::new(
            "caseId",
            format!(
                "a service case of {whose} (or of a customer merged with it); {case} is another \
                 customer's"
            ),
        )
        .into()),
    }
}

/// Refuses a claim that was never reported, or was reported for another customer.
pub fn claim_of(
    number: &ClaimNumber,
    customer: CustomerId,
    whose: &str,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    match context.claim(number) {
        None => Ok(()),
        Some(ClaimStanding::Unknown) => Err(not_found("claim", number)),
        Some(ClaimStanding::Reported { customer: owner })
            if same_customer(owner, customer, context) =>
        {
            Ok(())
        }
        Some(ClaimStanding::Reported { .. }) => Err(ValidationError::new(
            "claimNumber",
            format!(
                "a claim of {whose} (or of a customer merged with it); {number} is another \
                 customer's"
            ),
        )
        .into()),
    }
}

/// Refuses a policy or claim number that another customer (not one merged with `customer`)
/// holds as a registered identifier: quoting, issuing or reporting it for `customer` would
/// leave the caller lookup by that number finding the other one.
pub fn number_not_held_by_another(
    identifier: &Identifier,
    customer: CustomerId,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    match context.identifier_owner(identifier) {
        Some(owner) if !same_customer(owner, customer, context) => {
            Err(DomainError::IdentifierOwned {
                identifier: identifier.to_string(),
                owner: owner.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// Refuses a campaign that was never launched.
pub fn launched_campaign(
    campaign: CampaignId,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    match context.campaign(campaign) {
        Some(CampaignStanding::Unknown) => Err(not_found("campaign", campaign)),
        Some(CampaignStanding::Launched) | None => Ok(()),
    }
}

/// Refuses an enquiry that was never received, or was sent by a known customer other than
/// `customer`: a contact naming it would count as that customer's call-back and take their
/// enquiry out of the call-back queue.
pub fn enquiry_of(
    enquiry: EnquiryId,
    customer: CustomerId,
    whose: &str,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    match context.enquiry(enquiry) {
        None | Some(EnquiryStanding::Anonymous) => Ok(()),
        Some(EnquiryStanding::Unknown) => Err(not_found("enquiry", enquiry)),
        Some(EnquiryStanding::FromCustomer(sender)) if same_customer(sender, customer, context) => {
            Ok(())
        }
        Some(EnquiryStanding::FromCustomer(_)) => Err(ValidationError::new(
            "enquiryId",
            format!(
                "an enquiry sent by {whose} (or by a customer merged with it) or by nobody known; \
                 {enquiry} was sent by another customer"
            ),
        )
        .into()),
    }
}
