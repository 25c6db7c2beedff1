//! The customer aggregate (`customer-{id}`): identity, profile, consent, account manager,
//! merge and erasure, and the contacts, satisfaction answers and online enquiries recorded on
//! the customer's stream.
//!
//! Rules:
//! - An identifier belongs to one customer at a time. Registering with, or adding, an identifier
//!   the directory says another customer holds is `IdentifierOwned`, naming that owner. Adding
//!   one the customer already holds records nothing, so an integrator can re-send a customer's
//!   identifiers safely; removing one the customer does not hold is `NotFound`, because that is
//!   almost always a wrong number rather than a retry.
//! - Commands that change nothing (the same profile, consent or account manager again) record
//!   nothing.
//! - **Merging.** `MergeCustomers` is handled by the *merged* (duplicate) customer's aggregate
//!   and appends one `CustomersMerged { customerId: merged, survivorId }` to the merged
//!   customer's stream: one command appends to one stream, and it is the merged side whose
//!   behaviour changes. From then on the merged customer refuses every command with
//!   `CustomerMerged`, naming the survivor, but a correction or rating of a contact it recorded. The survivor's stream is not written to; the
//!   survivor's read models pick the merge up from the log (the event concerns both customers
//!   and carries the identifiers that now find the survivor). Merging a customer into itself is
//!   invalid, and merging an already merged customer is `CustomerMerged`.
//! - **Erasure.** An erased customer refuses everything, erasure included (`CustomerErased`),
//!   and so does a merge into an erased survivor.
//!   Erasure is the one command a merged customer still accepts: the right to deletion does not
//!   lapse because the record was a duplicate, and the duplicate's events hold personal data.
//! - A contact id is recorded once per customer (`AlreadyExists`); only recorded contacts can be
//!   corrected or rated (`NotFound`), a contact takes one satisfaction answer, and a contact
//!   cannot start or end in the future. A merged customer's own contacts stay on its stream and
//!   are still corrected and rated there (its history, not new business). A contact another
//!   customer's stream recorded, named under this customer's id (a merged customer's contact
//!   seen on its survivor's timeline, or the other way round), is invalid `contactId`, naming
//!   the customer whose id the correction or rating takes.
//! - A registered identifier that is a policy or claim number is also checked against the
//!   policy's or claim's own stream: its holder's, or a customer merged with the holder.
//! - An enquiry, or a contact, naming a campaign needs it launched.

use std::collections::{BTreeMap, BTreeSet};

use super::links::{
    case_of, claim_of, customers_policy, enquiry_of, launched_campaign, same_customer,
};
use super::{
    Aggregate, CLOCK_SKEW_SECONDS_MAX, ClaimStanding, CustomerStanding, DecisionContext,
    PolicyFacts, PolicyStanding, already_exists, emit, not_found, not_in_future,
};
use crate::commands::{
    AddIdentifier, AssignAccountManager, ChangeConsent, CorrectContact, CustomerCommand,
    EraseCustomer, MergeCustomers, RecordContact, RecordOnlineEnquiry, RecordSatisfaction,
    RegisterCustomer, RemoveIdentifier, UpdateProfile,
};
use crate::events::{
    AccountManagerAssigned, ConsentChanged, ContactCorrected, ContactRecorded, CustomerErased,
    CustomerRegistered, CustomersMerged, Event, IDENTIFIERS_PER_CUSTOMER_MAX, IdentifierAdded,
    IdentifierRemoved, OnlineEnquiryReceived, ProfileUpdated, SatisfactionRecorded,
};
use crate::ids::{CampaignId, CaseId, ContactId, CustomerId, EnquiryId, StaffId};
use crate::kinds::CustomerKind;
use crate::values::{
    Channel, ClaimNumber, FreeText, Identifier, IdentifierKind, PersonName, PolicyNumber,
};
use crate::{DomainError, ValidationError};

const KIND: &str = "customer";

/// A customer's state, as far as decisions need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customer {
    registered: Option<Registered>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Registered {
    id: CustomerId,
    kind: CustomerKind,
    profile: Profile,
    identifiers: BTreeSet<Identifier>,
    /// Marketing consent per channel; a channel never mentioned has no consent (opt-in).
    consents: BTreeMap<Channel, bool>,
    account_manager: Option<(StaffId, StaffId)>,
    contacts: BTreeSet<ContactId>,
    /// Contacts a satisfaction answer was recorded about: one answer a contact.
    rated: BTreeSet<ContactId>,
    enquiries: BTreeSet<EnquiryId>,
    merged_into: Option<CustomerId>,
    erased: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Profile {
    name: PersonName,
    group: Option<PersonName>,
    address: Option<FreeText>,
}

impl Customer {
    /// The customer's id, once registered.
    pub fn id(&self) -> Option<CustomerId> {
        self.registered.as_ref().map(|registered| registered.id)
    }

    pub fn kind(&self) -> Option<CustomerKind> {
        self.registered.as_ref().map(|registered| registered.kind)
    }

    /// The identifiers the customer holds now.
    pub fn identifiers(&self) -> impl Iterator<Item = &Identifier> {
        self.registered
            .iter()
            .flat_map(|registered| registered.identifiers.iter())
    }

    /// The survivor this customer was merged into, if it was.
    pub fn merged_into(&self) -> Option<CustomerId> {
        self.registered
            .as_ref()
            .and_then(|registered| registered.merged_into)
    }

    pub fn is_erased(&self) -> bool {
        self.registered
            .as_ref()
            .is_some_and(|registered| registered.erased)
    }

    /// The account manager and team lead, if assigned.
    pub fn account_manager(&self) -> Option<(&StaffId, &StaffId)> {
        let registered = self.registered.as_ref()?;
        registered
            .account_manager
            .as_ref()
            .map(|(manager, lead)| (manager, lead))
    }

    /// Whether the customer's stream recorded the contact `contact_id`.
    pub fn has_contact(&self, contact_id: ContactId) -> bool {
        self.registered
            .as_ref()
            .is_some_and(|registered| registered.contacts.contains(&contact_id))
    }

    /// Whether the customer has consented to marketing on `channel`.
    pub fn has_consent(&self, channel: Channel) -> bool {
        self.registered
            .as_ref()
            .is_some_and(|registered| registered.consents.get(&channel).copied().unwrap_or(false))
    }

    /// The registered customer `customer_id`, if it still accepts a command: it exists, is not
    /// erased and (unless `merged_allowed`) was not merged away.
    fn live(
        &self,
        customer_id: CustomerId,
        merged_allowed: bool,
    ) -> Result<&Registered, DomainError> {
        let registered = match &self.registered {
            Some(registered) if registered.id == customer_id => registered,
            _ => return Err(not_found(KIND, customer_id)),
        };
        if registered.erased {
            return Err(DomainError::CustomerErased {
                customer: customer_id.to_string(),
            });
        }
        match registered.merged_into {
            Some(survivor) if !merged_allowed => Err(DomainError::CustomerMerged {
                customer: customer_id.to_string(),
                survivor: survivor.to_string(),
            }),
            _ => Ok(registered),
        }
    }

    /// The registered customer `customer_id`, for a correction or rating (`action`, as the
    /// refusal tells the caller to do it) of the contact `contact_id` its stream recorded. A
    /// contact recorded before a merge stays on the merged customer's stream and is corrected
    /// and rated there: history of the merged record, not new business. A contact another
    /// customer's stream recorded (one the caller sees on a survivor's timeline, say) is refused
    /// naming that customer, whose id the command takes.
    fn recorded_here(
        &self,
        customer_id: CustomerId,
        contact_id: ContactId,
        action: &str,
        context: &dyn DecisionContext,
    ) -> Result<&Registered, DomainError> {
        let registered = self.live(customer_id, true)?;
        if registered.contacts.contains(&contact_id) {
            return Ok(registered);
        }
        if let Some(recorder) = context.contact_recorder(contact_id)
            && recorder != customer_id
        {
            return Err(recorded_by_another(contact_id, recorder, action, context));
        }
        match registered.merged_into {
            Some(survivor) => Err(DomainError::CustomerMerged {
                customer: customer_id.to_string(),
                survivor: survivor.to_string(),
            }),
            None => Err(not_found("contact", contact_id)),
        }
    }

    fn register(
        &self,
        command: &RegisterCustomer,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        if self.registered.is_some() {
            return Err(already_exists(KIND, command.customer_id));
        }
        for identifier in &command.identifiers {
            not_owned_by_another(identifier, command.customer_id, context)?;
        }
        emit(CustomerRegistered {
            customer_id: command.customer_id,
            kind: command.kind,
            name: command.name.clone(),
            group: command.group.clone(),
            address: command.address.clone(),
            identifiers: command.identifiers.clone(),
        })
    }

    fn add_identifier(
        &self,
        command: &AddIdentifier,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let registered = self.live(command.customer_id, false)?;
        if registered.identifiers.contains(&command.identifier) {
            return Ok(Vec::new());
        }
        if registered.identifiers.len() >= IDENTIFIERS_PER_CUSTOMER_MAX {
            return Err(ValidationError::new(
                "identifier",
                format!("a customer holds at most {IDENTIFIERS_PER_CUSTOMER_MAX} identifiers"),
            )
            .into());
        }
        not_owned_by_another(&command.identifier, command.customer_id, context)?;
        emit(IdentifierAdded {
            customer_id: command.customer_id,
            identifier: command.identifier.clone(),
        })
    }

    fn remove_identifier(&self, command: &RemoveIdentifier) -> Result<Vec<Event>, DomainError> {
        let registered = self.live(command.customer_id, false)?;
        if !registered.identifiers.contains(&command.identifier) {
            return Err(not_found("identifier", &command.identifier));
        }
        emit(IdentifierRemoved {
            customer_id: command.customer_id,
            identifier: command.identifier.clone(),
        })
    }

    fn update_profile(&self, command: &UpdateProfile) -> Result<Vec<Event>, DomainError> {
        let registered = self.live(command.customer_id, false)?;
        let current = &registered.profile;
        let profile = Profile {
            name: command.name.clone().unwrap_or_else(|| current.name.clone()),
            group: command.group.applied_to(current.group.as_ref()),
            address: command.address.applied_to(current.address.as_ref()),
        };
        if profile == registered.profile {
            return Ok(Vec::new());
        }
        emit(ProfileUpdated {
            customer_id: command.customer_id,
            name: profile.name,
            group: profile.group,
            address: profile.address,
        })
    }

    fn change_consent(&self, command: &ChangeConsent) -> Result<Vec<Event>, DomainError> {
        let registered = self.live(command.customer_id, false)?;
        let current = registered
            .consents
            .get(&command.channel)
            .copied()
            .unwrap_or(false);
        if current == command.granted {
            return Ok(Vec::new());
        }
        emit(ConsentChanged {
            customer_id: command.customer_id,
            channel: command.channel,
            granted: command.granted,
        })
    }

    fn merge(
        &self,
        command: &MergeCustomers,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        if command.survivor_id == command.customer_id {
            return Err(ValidationError::new(
                "survivorId",
                "a customer cannot be merged into itself",
            )
            .into());
        }
        // The survivor lives on another stream: only the context can say it still accepts a
        // merge. A survivor merged away would make a chain (or a cycle); an erased one has no
        // personal data left to unify.
        match context.customer_standing(command.survivor_id) {
            Some(CustomerStanding::Unknown) => {
                return Err(not_found("customer", command.survivor_id));
            }
            Some(CustomerStanding::MergedInto(survivor)) => {
                return Err(DomainError::CustomerMerged {
                    customer: command.survivor_id.to_string(),
                    survivor: survivor.to_string(),
                });
            }
            Some(CustomerStanding::Erased) => {
                return Err(DomainError::CustomerErased {
                    customer: command.survivor_id.to_string(),
                });
            }
            Some(CustomerStanding::Live) | None => {}
        }
        let registered = self.live(command.customer_id, false)?;
        emit(CustomersMerged {
            customer_id: command.customer_id,
            survivor_id: command.survivor_id,
            identifiers: registered.identifiers.iter().cloned().collect(),
            reason: command.reason.clone(),
        })
    }

    fn assign_account_manager(
        &self,
        command: &AssignAccountManager,
    ) -> Result<Vec<Event>, DomainError> {
        let registered = self.live(command.customer_id, false)?;
        let assignment = (command.manager.clone(), command.team_lead.clone());
        if registered.account_manager.as_ref() == Some(&assignment) {
            return Ok(Vec::new());
        }
        emit(AccountManagerAssigned {
            customer_id: command.customer_id,
            manager: assignment.0,
            team_lead: assignment.1,
            previous_manager: registered
                .account_manager
                .as_ref()
                .map(|(manager, _)| manager.clone()),
        })
    }

    fn erase(&self, command: &EraseCustomer) -> Result<Vec<Event>, DomainError> {
        self.live(command.customer_id, true)?;
        emit(CustomerErased {
            customer_id: command.customer_id,
            reason: command.reason,
        })
    }

    fn record_contact(
        &self,
        command: &RecordContact,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let registered = self.live(command.customer_id, false)?;
        if registered.contacts.contains(&command.contact_id) {
            return Err(already_exists("contact", command.contact_id));
        }
        contact_has_ended(command.started_at, command.duration_seconds, context)?;
        let links = ContactLinks {
            policy_number: command.policy_number.as_ref(),
            claim_number: command.claim_number.as_ref(),
            case_id: command.case_id,
            campaign_id: command.campaign_id,
            enquiry_id: command.enquiry_id,
        };
        links.check(registered, context)?;
        emit(ContactRecorded {
            contact_id: command.contact_id,
            customer_id: command.customer_id,
            channel: command.channel,
            direction: command.direction,
            agent: command.agent.clone(),
            started_at: command.started_at,
            duration_seconds: command.duration_seconds,
            topic: command.topic,
            summary: command.summary.clone(),
            outcome: command.outcome,
            policy_number: command.policy_number.clone(),
            claim_number: command.claim_number.clone(),
            case_id: command.case_id,
            campaign_id: command.campaign_id,
            enquiry_id: command.enquiry_id,
        })
    }

    fn correct_contact(
        &self,
        command: &CorrectContact,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let registered = self.recorded_here(
            command.customer_id,
            command.contact_id,
            "correct it",
            context,
        )?;
        contact_has_ended(command.started_at, command.duration_seconds, context)?;
        let links = ContactLinks {
            policy_number: command.policy_number.as_ref(),
            claim_number: command.claim_number.as_ref(),
            case_id: command.case_id,
            campaign_id: command.campaign_id,
            enquiry_id: command.enquiry_id,
        };
        links.check(registered, context)?;
        emit(ContactCorrected {
            contact_id: command.contact_id,
            customer_id: command.customer_id,
            channel: command.channel,
            direction: command.direction,
            agent: command.agent.clone(),
            started_at: command.started_at,
            duration_seconds: command.duration_seconds,
            topic: command.topic,
            summary: command.summary.clone(),
            outcome: command.outcome,
            policy_number: command.policy_number.clone(),
            claim_number: command.claim_number.clone(),
            case_id: command.case_id,
            campaign_id: command.campaign_id,
            enquiry_id: command.enquiry_id,
            reason: command.reason.clone(),
        })
    }

    fn record_satisfaction(
        &self,
        command: &RecordSatisfaction,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        if let Some(contact_id) = command.contact_id {
            // An answer about a contact goes with that contact, on the stream that recorded it.
            let registered = self.recorded_here(
                command.customer_id,
                contact_id,
                "record its answer",
                context,
            )?;
            if registered.rated.contains(&contact_id) {
                return Err(ValidationError::new(
                    "contactId",
                    format!(
                        "one satisfaction answer a contact; contact {contact_id} already has one"
                    ),
                )
                .into());
            }
        } else {
            self.live(command.customer_id, false)?;
        }
        emit(SatisfactionRecorded {
            customer_id: command.customer_id,
            contact_id: command.contact_id,
            csat: command.csat,
            nps: command.nps,
            comment: command.comment.clone(),
        })
    }

    fn record_enquiry(
        &self,
        command: &RecordOnlineEnquiry,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let Some(customer_id) = command.customer_id else {
            return Err(ValidationError::new(
                "customerId",
                "an enquiry from an unknown person goes to its own enquiry stream",
            )
            .into());
        };
        let registered = self.live(customer_id, false)?;
        if registered.enquiries.contains(&command.enquiry_id) {
            return Err(already_exists("enquiry", command.enquiry_id));
        }
        if let Some(campaign) = command.campaign_id {
            launched_campaign(campaign, context)?;
        }
        emit(online_enquiry(command))
    }
}

/// What a contact names on other streams, and the rules on it (module docs).
struct ContactLinks<'a> {
    policy_number: Option<&'a PolicyNumber>,
    claim_number: Option<&'a ClaimNumber>,
    case_id: Option<CaseId>,
    campaign_id: Option<CampaignId>,
    enquiry_id: Option<EnquiryId>,
}

impl ContactLinks<'_> {
    fn check(
        &self,
        customer: &Registered,
        context: &dyn DecisionContext,
    ) -> Result<(), DomainError> {
        let whose = "the contact's customer";
        if let Some(number) = self.policy_number {
            customers_policy(number, customer.id, whose, context)?;
        }
        if let Some(number) = self.claim_number {
            claim_of(number, customer.id, whose, context)?;
        }
        if let Some(case) = self.case_id {
            case_of(case, customer.id, whose, context)?;
        }
        if let Some(campaign) = self.campaign_id {
            launched_campaign(campaign, context)?;
        }
        // An enquiry on the customer's own stream is theirs: no need to ask.
        let asked_elsewhere = self
            .enquiry_id
            .filter(|enquiry| !customer.enquiries.contains(enquiry));
        if let Some(enquiry) = asked_elsewhere {
            enquiry_of(enquiry, customer.id, whose, context)?;
        }
        Ok(())
    }
}

/// Refuses a correction or rating of `contact` under another customer's id than `recorder`'s,
/// whose stream recorded it: `action` (on `customerId` `recorder`) is what to do instead.
fn recorded_by_another(
    contact: ContactId,
    recorder: CustomerId,
    action: &str,
    context: &dyn DecisionContext,
) -> DomainError {
    let rule = match context.customer_standing(recorder) {
        Some(CustomerStanding::Erased) => format!(
            "contact {contact} is customer {recorder}'s contact, and {recorder} was erased: \
             nothing more is recorded about it"
        ),
        Some(CustomerStanding::MergedInto(survivor)) => format!(
            "contact {contact} is customer {recorder}'s contact (merged into {survivor}): \
             {action} on customerId {recorder}"
        ),
        _ => format!(
            "contact {contact} is customer {recorder}'s contact: {action} on customerId {recorder}"
        ),
    };
    ValidationError::new("contactId", rule).into()
}

/// The event recording `command` (shared with the enquiry aggregate).
pub(super) fn online_enquiry(command: &RecordOnlineEnquiry) -> OnlineEnquiryReceived {
    OnlineEnquiryReceived {
        enquiry_id: command.enquiry_id,
        customer_id: command.customer_id,
        campaign_id: command.campaign_id,
        channel: command.channel,
        name: command.name.clone(),
        mobile: command.mobile.clone(),
        plate: command.plate.clone(),
        product_lines: command.product_lines.clone(),
        message: command.message.clone(),
    }
}

/// Refuses an identifier the directory says another customer holds, and a policy or claim
/// number whose own stream names another customer (one not merged with this one) as its holder:
/// a caller quoting the number would be shown the wrong person.
fn not_owned_by_another(
    identifier: &Identifier,
    customer_id: CustomerId,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    let owned = |owner: CustomerId| DomainError::IdentifierOwned {
        identifier: identifier.to_string(),
        owner: owner.to_string(),
    };
    match context.identifier_owner(identifier) {
        Some(owner) if owner != customer_id => return Err(owned(owner)),
        _ => {}
    }
    match record_holder(identifier, context) {
        Some(holder) if !same_customer(holder, customer_id, context) => Err(owned(holder)),
        _ => Ok(()),
    }
}

/// The customer a policy or claim number belongs to, as the policy's or claim's own stream
/// says; `None` for other kinds, for a number nobody quoted, issued or reported, and when the
/// context cannot tell.
fn record_holder(identifier: &Identifier, context: &dyn DecisionContext) -> Option<CustomerId> {
    match identifier.kind() {
        IdentifierKind::PolicyNumber => {
            let number = PolicyNumber::parse("value", identifier.value()).ok()?;
            match context.policy(&number)? {
                PolicyStanding::Quoted { holder }
                | PolicyStanding::Issued(PolicyFacts { holder, .. }) => Some(holder),
                PolicyStanding::Unknown => None,
            }
        }
        IdentifierKind::ClaimNumber => {
            let number = ClaimNumber::parse("value", identifier.value()).ok()?;
            match context.claim(&number)? {
                ClaimStanding::Reported { customer } => Some(customer),
                ClaimStanding::Unknown => None,
            }
        }
        _ => None,
    }
}

impl Aggregate for Customer {
    type Command = CustomerCommand;
    const CATEGORY: &'static str = "customer";

    fn apply(&mut self, event: &Event) {
        if let Event::CustomerRegistered(registered) = event {
            if self.id().is_some_and(|id| id != registered.customer_id) {
                return;
            }
            self.registered = Some(Registered {
                id: registered.customer_id,
                kind: registered.kind,
                profile: Profile {
                    name: registered.name.clone(),
                    group: registered.group.clone(),
                    address: registered.address.clone(),
                },
                identifiers: registered.identifiers.iter().cloned().collect(),
                consents: BTreeMap::new(),
                account_manager: None,
                contacts: BTreeSet::new(),
                rated: BTreeSet::new(),
                enquiries: BTreeSet::new(),
                merged_into: None,
                erased: false,
            });
            return;
        }
        let Some(state) = self.registered.as_mut() else {
            return;
        };
        // Only this customer's own events change it. The first customer an event concerns owns
        // the stream it is on (a merge names the survivor second); events of other streams
        // that mention the customer fall through the match below.
        if event.customer_ids().first() != Some(&state.id) {
            return;
        }
        match event {
            Event::IdentifierAdded(added) => {
                state.identifiers.insert(added.identifier.clone());
            }
            Event::IdentifierRemoved(removed) => {
                state.identifiers.remove(&removed.identifier);
            }
            Event::ProfileUpdated(updated) => {
                state.profile = Profile {
                    name: updated.name.clone(),
                    group: updated.group.clone(),
                    address: updated.address.clone(),
                };
            }
            Event::ConsentChanged(changed) => {
                state.consents.insert(changed.channel, changed.granted);
            }
            Event::CustomersMerged(merged) => {
                // The identifiers now find the survivor.
                state.merged_into = Some(merged.survivor_id);
                state.identifiers.clear();
            }
            Event::AccountManagerAssigned(assigned) => {
                state.account_manager =
                    Some((assigned.manager.clone(), assigned.team_lead.clone()));
            }
            Event::CustomerErased(_) => {
                state.erased = true;
                state.identifiers.clear();
            }
            Event::ContactRecorded(contact) => {
                state.contacts.insert(contact.contact_id);
            }
            Event::SatisfactionRecorded(answer) => {
                state.rated.extend(answer.contact_id);
            }
            Event::OnlineEnquiryReceived(enquiry) => {
                state.enquiries.insert(enquiry.enquiry_id);
            }
            _ => {}
        }
    }

    fn handle(
        &self,
        command: &CustomerCommand,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        match command {
            CustomerCommand::RegisterCustomer(command) => self.register(command, context),
            CustomerCommand::AddIdentifier(command) => self.add_identifier(command, context),
            CustomerCommand::RemoveIdentifier(command) => self.remove_identifier(command),
            CustomerCommand::UpdateProfile(command) => self.update_profile(command),
            CustomerCommand::ChangeConsent(command) => self.change_consent(command),
            CustomerCommand::MergeCustomers(command) => self.merge(command, context),
            CustomerCommand::AssignAccountManager(command) => self.assign_account_manager(command),
            CustomerCommand::EraseCustomer(command) => self.erase(command),
            CustomerCommand::RecordContact(command) => self.record_contact(command, context),
            CustomerCommand::CorrectContact(command) => self.correct_contact(command, context),
            CustomerCommand::RecordSatisfaction(command) => {
                self.record_satisfaction(command, context)
            }
            CustomerCommand::RecordOnlineEnquiry(command) => self.record_enquiry(command, context),
        }
    }
}

/// A contact is recorded once it has happened: it cannot start, or end, in the future (beyond
/// the clocks' drift, [`CLOCK_SKEW_SECONDS_MAX`]), nor before 1990
/// ([`super::CONTACT_STARTED_AT_EARLIEST_SECONDS`]). Its end is when the ledger dates it.
fn contact_has_ended(
    started_at: jiff::Timestamp,
    duration_seconds: u32,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    if let Some(rule) = super::contact_started_too_early(started_at) {
        return Err(ValidationError::new("startedAt", rule).into());
    }
    if !not_in_future(started_at, context) {
        return Err(ValidationError::new(
            "startedAt",
            format!(
                "a contact cannot start in the future (more than {CLOCK_SKEW_SECONDS_MAX} s, \
                     the clocks' drift, after now)"
            ),
        )
        .into());
    }
    let ended = crate::events::contact_ended_at(started_at, duration_seconds);
    if !ended.is_some_and(|ended| not_in_future(ended, context)) {
        return Err(ValidationError::new(
            "durationSeconds",
            format!(
                "a contact cannot end in the future: startedAt + durationSeconds is more than \
                 {CLOCK_SKEW_SECONDS_MAX} s (the clocks' drift) after now"
            ),
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
