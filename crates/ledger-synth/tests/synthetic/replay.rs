//! Replays generated histories through the domain's aggregates: for every event, the command
//! that would have produced it is handled against the state folded from the event's stream so
//! far, and must produce exactly that event. This is the proof that the generator only writes
//! what the ledger's own rules allow.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use ledger_domain::DomainError;
use ledger_domain::aggregates::{
    Aggregate, Campaign, Claim, Customer, DecisionContext, Enquiry, Policy, Process, ServiceCase,
};
use ledger_domain::commands::*;
use ledger_domain::events::Event;
use ledger_domain::ids::{CustomerId, StreamId};
use ledger_domain::values::Identifier;
use ledger_synth::SyntheticEvent;

/// The customer directory as the generated events leave it: who holds each identifier.
#[derive(Default)]
pub struct Directory {
    owners: HashMap<Identifier, CustomerId>,
    held: HashMap<CustomerId, HashSet<Identifier>>,
}

impl Directory {
    fn hold(&mut self, identifier: &Identifier, customer: CustomerId) {
        self.owners.insert(identifier.clone(), customer);
        self.held
            .entry(customer)
            .or_default()
            .insert(identifier.clone());
    }

    fn release(&mut self, identifier: &Identifier, customer: CustomerId) {
        if self.owners.get(identifier) == Some(&customer) {
            self.owners.remove(identifier);
        }
        if let Some(held) = self.held.get_mut(&customer) {
            held.remove(identifier);
        }
    }

    /// Folds one event into the directory.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::CustomerRegistered(registered) => {
                for identifier in &registered.identifiers {
                    self.hold(identifier, registered.customer_id);
                }
            }
            Event::IdentifierAdded(added) => self.hold(&added.identifier, added.customer_id),
            Event::IdentifierRemoved(removed) => {
                self.release(&removed.identifier, removed.customer_id)
            }
            Event::CustomersMerged(merged) => {
                for identifier in &merged.identifiers {
                    self.release(identifier, merged.customer_id);
                    self.hold(identifier, merged.survivor_id);
                }
            }
            Event::CustomerErased(erased) => {
                for identifier in self.held.remove(&erased.customer_id).unwrap_or_default() {
                    self.owners.remove(&identifier);
                }
            }
            _ => {}
        }
    }

    pub fn owner(&self, identifier: &Identifier) -> Option<CustomerId> {
        self.owners.get(identifier).copied()
    }
}

struct Context<'a> {
    directory: &'a Directory,
    now: Timestamp,
}

impl DecisionContext for Context<'_> {
    fn identifier_owner(&self, identifier: &Identifier) -> Option<CustomerId> {
        self.directory.owner(identifier)
    }

    fn now(&self) -> Timestamp {
        self.now
    }
}

/// The folded state of one stream.
enum State {
    Customer(Customer),
    Policy(Policy),
    Claim(Claim),
    Case(ServiceCase),
    Campaign(Campaign),
    Process(Process),
    Enquiry(Enquiry),
}

impl State {
    fn for_stream(stream: &StreamId) -> Self {
        match stream.category() {
            "customer" => Self::Customer(Customer::default()),
            "policy" => Self::Policy(Policy::default()),
            "claim" => Self::Claim(Claim::default()),
            "case" => Self::Case(ServiceCase::default()),
            "campaign" => Self::Campaign(Campaign::default()),
            "process" => Self::Process(Process::default()),
            "enquiry" => Self::Enquiry(Enquiry::default()),
            other => panic!("unknown stream category {other}"),
        }
    }

    fn handle(&self, command: Command, context: &Context<'_>) -> Result<Vec<Event>, DomainError> {
        match (self, command) {
            (Self::Customer(state), Command::Customer(command)) => state.handle(&command, context),
            (Self::Policy(state), Command::Policy(command)) => state.handle(&command, context),
            (Self::Claim(state), Command::Claim(command)) => state.handle(&command, context),
            (Self::Case(state), Command::ServiceCase(command)) => state.handle(&command, context),
            (Self::Campaign(state), Command::Campaign(command)) => state.handle(&command, context),
            (Self::Process(state), Command::Process(command)) => state.handle(&command, context),
            (Self::Enquiry(state), Command::Enquiry(command)) => state.handle(&command, context),
            (_, command) => panic!("{} sent to the wrong kind of stream", command.name()),
        }
    }

    fn apply(&mut self, event: &Event) {
        match self {
            Self::Customer(state) => state.apply(event),
            Self::Policy(state) => state.apply(event),
            Self::Claim(state) => state.apply(event),
            Self::Case(state) => state.apply(event),
            Self::Campaign(state) => state.apply(event),
            Self::Process(state) => state.apply(event),
            Self::Enquiry(state) => state.apply(event),
        }
    }
}

/// Replays `events` in order; returns the first event its aggregate would not have produced.
pub fn replay(events: &[SyntheticEvent]) -> Result<(), String> {
    let mut states: HashMap<StreamId, State> = HashMap::new();
    let mut directory = Directory::default();
    for (index, synthetic) in events.iter().enumerate() {
        let state = states
            .entry(synthetic.stream.clone())
            .or_insert_with(|| State::for_stream(&synthetic.stream));
        let context = Context {
            directory: &directory,
            now: synthetic.occurred_at,
        };
        let decided = state.handle(command_of(&synthetic.event), &context);
        if decided.as_ref() != Ok(&vec![synthetic.event.clone()]) {
            return Err(format!(
                "event {index} at {} on {}: {:?}\nwas decided as {decided:?}",
                synthetic.occurred_at, synthetic.stream, synthetic.event
            ));
        }
        state.apply(&synthetic.event);
        directory.apply(&synthetic.event);
    }
    Ok(())
}

/// The command that, handled now, records `event`.
pub fn command_of(event: &Event) -> Command {
    match event.clone() {
        Event::CustomerRegistered(e) => RegisterCustomer {
            customer_id: e.customer_id,
            kind: e.kind,
            name: e.name,
            group: e.group,
            address: e.address,
            identifiers: e.identifiers,
        }
        .into(),
        Event::IdentifierAdded(e) => AddIdentifier {
            customer_id: e.customer_id,
            identifier: e.identifier,
        }
        .into(),
        Event::IdentifierRemoved(e) => RemoveIdentifier {
            customer_id: e.customer_id,
            identifier: e.identifier,
        }
        .into(),
        Event::ProfileUpdated(e) => UpdateProfile {
            customer_id: e.customer_id,
            name: Some(e.name),
            group: e.group.map_or(Edit::Clear, Edit::Set),
            address: e.address.map_or(Edit::Clear, Edit::Set),
        }
        .into(),
        Event::ConsentChanged(e) => ChangeConsent {
            customer_id: e.customer_id,
            channel: e.channel,
            granted: e.granted,
        }
        .into(),
        Event::CustomersMerged(e) => MergeCustomers {
            customer_id: e.customer_id,
            survivor_id: e.survivor_id,
            reason: e.reason,
        }
        .into(),
        Event::AccountManagerAssigned(e) => AssignAccountManager {
            customer_id: e.customer_id,
            manager: e.manager,
            team_lead: e.team_lead,
        }
        .into(),
        Event::CustomerErased(e) => EraseCustomer {
            customer_id: e.customer_id,
            reason: e.reason,
        }
        .into(),
        Event::EnquiryErased(e) => EraseEnquiry {
            enquiry_id: e.enquiry_id,
            reason: e.reason,
        }
        .into(),
        Event::ContactRecorded(e) => RecordContact {
            contact_id: e.contact_id,
            customer_id: e.customer_id,
            channel: e.channel,
            direction: e.direction,
            agent: e.agent,
            started_at: e.started_at,
            duration_seconds: e.duration_seconds,
            topic: e.topic,
            summary: e.summary,
            outcome: e.outcome,
            policy_number: e.policy_number,
            claim_number: e.claim_number,
            case_id: e.case_id,
            campaign_id: e.campaign_id,
            enquiry_id: e.enquiry_id,
        }
        .into(),
        Event::ContactCorrected(e) => CorrectContact {
            contact_id: e.contact_id,
            customer_id: e.customer_id,
            channel: e.channel,
            direction: e.direction,
            agent: e.agent,
            started_at: e.started_at,
            duration_seconds: e.duration_seconds,
            topic: e.topic,
            summary: e.summary,
            outcome: e.outcome,
            policy_number: e.policy_number,
            claim_number: e.claim_number,
            case_id: e.case_id,
            campaign_id: e.campaign_id,
            enquiry_id: e.enquiry_id,
            reason: e.reason,
        }
        .into(),
        Event::SatisfactionRecorded(e) => RecordSatisfaction {
            customer_id: e.customer_id,
            contact_id: e.contact_id,
            csat: e.csat,
            nps: e.nps,
            comment: e.comment,
        }
        .into(),
        Event::PolicyQuoted(e) => QuotePolicy {
            policy_number: e.policy_number,
            customer_id: e.customer_id,
            product_lines: e.product_lines,
            plate: e.plate,
            vin: e.vin,
            premium: e.premium,
            period_start: e.period_start,
            period_end: e.period_end,
            sales_channel: e.sales_channel,
            campaign_id: e.campaign_id,
            valid_until: e.valid_until,
        }
        .into(),
        Event::PolicyIssued(e) => IssuePolicy {
            policy_number: e.policy_number,
            customer_id: e.customer_id,
            product_lines: e.product_lines,
            plate: e.plate,
            vin: e.vin,
            premium: e.premium,
            period_start: e.period_start,
            period_end: e.period_end,
            sales_channel: e.sales_channel,
            campaign_id: e.campaign_id,
        }
        .into(),
        Event::PolicyRenewed(e) => RenewPolicy {
            policy_number: e.policy_number,
            product_lines: e.product_lines,
            premium: e.premium,
            period_start: e.period_start,
            period_end: e.period_end,
            sales_channel: e.sales_channel,
            campaign_id: e.campaign_id,
        }
        .into(),
        Event::PolicyEndorsed(e) => EndorsePolicy {
            policy_number: e.policy_number,
            effective_on: e.effective_on,
            description: e.description,
            plate: e.plate,
            product_lines: e.product_lines,
            premium_change: e.premium_change,
        }
        .into(),
        Event::PolicyLapsed(e) => LapsePolicy {
            policy_number: e.policy_number,
            lapsed_on: e.lapsed_on,
        }
        .into(),
        Event::PolicyCancelled(e) => CancelPolicy {
            policy_number: e.policy_number,
            cancelled_on: e.cancelled_on,
            reason: e.reason,
            refund: e.refund,
        }
        .into(),
        Event::ClaimReported(e) => ReportClaim {
            claim_number: e.claim_number,
            policy_number: e.policy_number,
            customer_id: e.customer_id,
            loss_occurred_at: e.loss_occurred_at,
            location: e.location,
            description: e.description,
            plate: e.plate,
            reported_via: e.reported_via,
            injuries: e.injuries,
            estimated_loss: e.estimated_loss,
            time_guarantee_working_days: e.time_guarantee_working_days,
        }
        .into(),
        Event::ClaimSurveyed(e) => SurveyClaim {
            claim_number: e.claim_number,
            surveyor: e.surveyor,
            on_site: e.on_site,
            assessed_loss: e.assessed_loss,
            findings: e.findings,
        }
        .into(),
        Event::ClaimDocumentsRequested(e) => RequestClaimDocuments {
            claim_number: e.claim_number,
            documents: e.documents,
            requested_via: e.requested_via,
        }
        .into(),
        Event::ClaimDocumentsCompleted(e) => CompleteClaimDocuments {
            claim_number: e.claim_number,
            documents: e.documents,
        }
        .into(),
        Event::ClaimSettled(e) => SettleClaim {
            claim_number: e.claim_number,
            amount: e.amount,
            payee: e.payee,
            direct_payment: e.direct_payment,
        }
        .into(),
        Event::ClaimRejected(e) => RejectClaim {
            claim_number: e.claim_number,
            reason: e.reason,
            explanation: e.explanation,
        }
        .into(),
        Event::ClaimReopened(e) => ReopenClaim {
            claim_number: e.claim_number,
            reason: e.reason,
        }
        .into(),
        Event::ServiceCaseOpened(e) => OpenServiceCase {
            case_id: e.case_id,
            customer_id: e.customer_id,
            kind: e.kind,
            priority: e.priority,
            subject: e.subject,
            channel: e.channel,
            deadline: Some(e.deadline),
            deadline_working_hours: e.deadline_working_hours,
            policy_number: e.policy_number,
            claim_number: e.claim_number,
            contact_id: e.contact_id,
        }
        .into(),
        Event::ServiceCaseAssigned(e) => AssignServiceCase {
            case_id: e.case_id,
            assignee: e.assignee,
        }
        .into(),
        Event::ServiceCaseEscalated(e) => EscalateServiceCase {
            case_id: e.case_id,
            escalated_to: e.escalated_to,
            reason: e.reason,
            priority: e.priority,
            deadline: Some(e.deadline),
        }
        .into(),
        Event::ServiceCaseResolved(e) => ResolveServiceCase {
            case_id: e.case_id,
            resolved_by: e.resolved_by,
            resolution: e.resolution,
        }
        .into(),
        Event::ServiceCaseReopened(e) => ReopenServiceCase {
            case_id: e.case_id,
            reason: e.reason,
            deadline: e.deadline,
        }
        .into(),
        Event::ServiceCaseClosed(e) => CloseServiceCase {
            case_id: e.case_id,
            closed_by: e.closed_by,
            customer_confirmed: e.customer_confirmed,
        }
        .into(),
        Event::RiskSurveyCompleted(e) => CompleteRiskSurvey {
            case_id: e.case_id,
            surveyor: e.surveyor,
            findings: e.findings,
            recommendations: e.recommendations,
        }
        .into(),
        Event::RiskRecommendationFollowedUp(e) => FollowUpRiskRecommendation {
            case_id: e.case_id,
            recommendation: e.recommendation,
            status: e.status,
            note: e.note,
            followed_up_by: e.followed_up_by,
        }
        .into(),
        Event::CampaignLaunched(e) => LaunchCampaign {
            campaign_id: e.campaign_id,
            name: e.name,
            budget: e.budget,
            channels: e.channels,
            target_segment: e.target_segment,
            period_start: e.period_start,
            period_end: e.period_end,
            owner: e.owner,
            description: e.description,
        }
        .into(),
        Event::CampaignCostIncurred(e) => IncurCampaignCost {
            campaign_id: e.campaign_id,
            amount: e.amount,
            category: e.category,
            description: e.description,
        }
        .into(),
        Event::CampaignTouchSent(e) => SendCampaignTouch {
            campaign_id: e.campaign_id,
            customer_id: e.customer_id,
            channel: e.channel,
            agent: e.agent,
            contact_id: e.contact_id,
        }
        .into(),
        Event::CampaignResponded(e) => RecordCampaignResponse {
            campaign_id: e.campaign_id,
            customer_id: e.customer_id,
            response: e.response,
            channel: e.channel,
            premium_won: e.premium_won,
            policy_number: e.policy_number,
        }
        .into(),
        Event::CampaignClosed(e) => CloseCampaign {
            campaign_id: e.campaign_id,
            summary: e.summary,
        }
        .into(),
        Event::OnlineEnquiryReceived(e) => RecordOnlineEnquiry {
            enquiry_id: e.enquiry_id,
            customer_id: e.customer_id,
            campaign_id: e.campaign_id,
            channel: e.channel,
            name: e.name,
            mobile: e.mobile,
            plate: e.plate,
            product_lines: e.product_lines,
            message: e.message,
        }
        .into(),
        Event::ProcessPublished(e) => PublishProcess {
            process_id: e.process_id,
            title: e.title,
            department: e.department,
            version: e.version,
            parent: e.parent,
            links: e.links,
            owner: e.owner,
            summary: e.summary,
        }
        .into(),
        Event::ProcessTrainingRecorded(e) => RecordProcessTraining {
            process_id: e.process_id,
            staff: e.staff,
            version: e.version,
            trainer: e.trainer,
        }
        .into(),
    }
}
