//! Commands: what a caller asks the ledger to do, named in the imperative (`RecordContact`).
//! A command is checked against the current state of one aggregate by its `handle`, and
//! becomes zero or more events appended to that aggregate's stream, or a `DomainError`.
//!
//! Each command names the stream it goes to ([`Command::stream`]), so the caller knows which
//! aggregate to load. Facts the aggregate already knows (the customer of a claim, the previous
//! account manager, a campaign's running cost) are not asked for again: the aggregate adds them
//! to the events. Values arrive validated (the value types cannot hold a bad value); the rules
//! that span fields or need state are the aggregates'.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::events::{claim_stream, enquiry_stream, policy_stream};
use crate::ids::{
    CampaignId, CaseId, ContactId, CustomerId, EnquiryId, ProcessId, StaffId, StreamId,
};
use crate::kinds::{
    CampaignResponse, CancellationReason, ClaimDocument, ClaimRejectionReason, ContactOutcome,
    CostCategory, CustomerKind, ErasureReason, Payee, Priority, ProductLine, RecommendationStatus,
    RiskRecommendation, SegmentName, ServiceCaseKind, Title,
};
use crate::values::{
    Channel, ClaimNumber, Csat, Direction, FreeText, Identifier, Mobile, Money, Nps, PersonName,
    Plate, PolicyNumber, Topic, Vin,
};

// Customer.

/// Registers a new customer with the identifiers they can be found by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterCustomer {
    pub customer_id: CustomerId,
    pub kind: CustomerKind,
    pub name: PersonName,
    pub group: Option<PersonName>,
    pub address: Option<FreeText>,
    pub identifiers: Vec<Identifier>,
}

/// Lets the customer be found by one more identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddIdentifier {
    pub customer_id: CustomerId,
    pub identifier: Identifier,
}

/// Stops the customer being found by an identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveIdentifier {
    pub customer_id: CustomerId,
    pub identifier: Identifier,
}

/// Changes the customer's profile: each part kept, cleared or set as the command says, so
/// correcting a name's typo leaves the group and the address as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateProfile {
    pub customer_id: CustomerId,
    /// The new name; `None` keeps the current one (a customer always has a name).
    pub name: Option<PersonName>,
    pub group: Edit<PersonName>,
    pub address: Edit<FreeText>,
}

/// What a command does to one optional part of a record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Edit<T> {
    /// Leaves it as it is.
    #[default]
    Keep,
    /// Removes it.
    Clear,
    /// Sets it to this.
    Set(T),
}

impl<T: Clone> Edit<T> {
    /// The part after the edit, given what it is now.
    pub fn applied_to(&self, current: Option<&T>) -> Option<T> {
        match self {
            Self::Keep => current.cloned(),
            Self::Clear => None,
            Self::Set(value) => Some(value.clone()),
        }
    }
}

/// Records that the customer granted or withdrew marketing consent on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeConsent {
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub granted: bool,
}

/// Merges the duplicate `customer_id` into `survivor_id`. Sent to the duplicate's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeCustomers {
    pub customer_id: CustomerId,
    pub survivor_id: CustomerId,
    pub reason: Option<FreeText>,
}

/// Gives the customer an account manager and team lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignAccountManager {
    pub customer_id: CustomerId,
    pub manager: StaffId,
    pub team_lead: StaffId,
}

/// Erases the customer's personal data (crypto-shredding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EraseCustomer {
    pub customer_id: CustomerId,
    pub reason: ErasureReason,
}

// Contact (on the customer's stream).

/// Records one contact with a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordContact {
    pub contact_id: ContactId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub direction: Direction,
    pub agent: StaffId,
    pub started_at: Timestamp,
    pub duration_seconds: u32,
    pub topic: Topic,
    pub summary: FreeText,
    pub outcome: ContactOutcome,
    pub policy_number: Option<PolicyNumber>,
    pub claim_number: Option<ClaimNumber>,
    pub case_id: Option<CaseId>,
    pub campaign_id: Option<CampaignId>,
    pub enquiry_id: Option<EnquiryId>,
}

/// Corrects a recorded contact: every correctable fact as it should have been, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectContact {
    pub contact_id: ContactId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub direction: Direction,
    pub agent: StaffId,
    pub started_at: Timestamp,
    pub duration_seconds: u32,
    pub topic: Topic,
    pub summary: FreeText,
    pub outcome: ContactOutcome,
    pub policy_number: Option<PolicyNumber>,
    pub claim_number: Option<ClaimNumber>,
    pub case_id: Option<CaseId>,
    pub campaign_id: Option<CampaignId>,
    pub enquiry_id: Option<EnquiryId>,
    pub reason: FreeText,
}

/// Records a customer's satisfaction answer (CSAT, NPS or both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSatisfaction {
    pub customer_id: CustomerId,
    pub contact_id: Option<ContactId>,
    pub csat: Option<Csat>,
    pub nps: Option<Nps>,
    pub comment: Option<FreeText>,
}

// Policy.

/// Records a quote under the policy number it will be issued with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotePolicy {
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    pub product_lines: Vec<ProductLine>,
    pub plate: Plate,
    pub vin: Vin,
    pub premium: Money,
    pub period_start: Date,
    pub period_end: Date,
    pub sales_channel: Channel,
    pub campaign_id: Option<CampaignId>,
    pub valid_until: Date,
}

/// Issues a policy (quoted before or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuePolicy {
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    pub product_lines: Vec<ProductLine>,
    pub plate: Plate,
    pub vin: Vin,
    pub premium: Money,
    pub period_start: Date,
    pub period_end: Date,
    pub sales_channel: Channel,
    pub campaign_id: Option<CampaignId>,
}

/// Renews a policy for a new period under the same number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewPolicy {
    pub policy_number: PolicyNumber,
    pub product_lines: Vec<ProductLine>,
    pub premium: Money,
    pub period_start: Date,
    pub period_end: Date,
    pub sales_channel: Channel,
    pub campaign_id: Option<CampaignId>,
}

/// Changes a policy in force: plate, product lines, premium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsePolicy {
    pub policy_number: PolicyNumber,
    pub effective_on: Date,
    pub description: FreeText,
    pub plate: Option<Plate>,
    pub product_lines: Option<Vec<ProductLine>>,
    /// Added (positive) or refunded (negative) premium, in fen.
    pub premium_change: Money,
}

/// Records that a policy's period ended without renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LapsePolicy {
    pub policy_number: PolicyNumber,
    pub lapsed_on: Date,
}

/// Cancels a policy in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelPolicy {
    pub policy_number: PolicyNumber,
    pub cancelled_on: Date,
    pub reason: CancellationReason,
    pub refund: Money,
}

// Claim.

/// Records a first notice of loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportClaim {
    pub claim_number: ClaimNumber,
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    pub loss_occurred_at: Timestamp,
    pub location: FreeText,
    pub description: FreeText,
    pub plate: Option<Plate>,
    pub reported_via: Channel,
    pub injuries: bool,
    pub estimated_loss: Option<Money>,
    pub time_guarantee_working_days: Option<u16>,
}

/// Records the survey and loss assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyClaim {
    pub claim_number: ClaimNumber,
    pub surveyor: StaffId,
    pub on_site: bool,
    pub assessed_loss: Money,
    pub findings: FreeText,
}

/// Asks for every document the claim needs, at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestClaimDocuments {
    pub claim_number: ClaimNumber,
    pub documents: Vec<ClaimDocument>,
    pub requested_via: Channel,
}

/// Records that the claim's documents are complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteClaimDocuments {
    pub claim_number: ClaimNumber,
    pub documents: Vec<ClaimDocument>,
}

/// Settles and pays the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettleClaim {
    pub claim_number: ClaimNumber,
    pub amount: Money,
    pub payee: Payee,
    pub direct_payment: bool,
}

/// Rejects the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectClaim {
    pub claim_number: ClaimNumber,
    pub reason: ClaimRejectionReason,
    pub explanation: FreeText,
}

/// Reopens a settled or rejected claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReopenClaim {
    pub claim_number: ClaimNumber,
    pub reason: FreeText,
}

// Service case.

/// Opens a service case with a deadline: an instant, or a number of working hours from now
/// on the business calendar (the context computes it), or both when they agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenServiceCase {
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub kind: ServiceCaseKind,
    pub priority: Priority,
    pub subject: FreeText,
    pub channel: Channel,
    pub deadline: Option<Timestamp>,
    pub deadline_working_hours: Option<u16>,
    pub policy_number: Option<PolicyNumber>,
    pub claim_number: Option<ClaimNumber>,
    pub contact_id: Option<ContactId>,
}

/// Gives an open case to a member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignServiceCase {
    pub case_id: CaseId,
    pub assignee: StaffId,
}

/// Escalates an open case; `deadline` moves the deadline, `None` keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalateServiceCase {
    pub case_id: CaseId,
    pub escalated_to: StaffId,
    pub reason: FreeText,
    pub priority: Priority,
    pub deadline: Option<Timestamp>,
}

/// Resolves an open case (at the context's `now`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveServiceCase {
    pub case_id: CaseId,
    pub resolved_by: StaffId,
    pub resolution: FreeText,
}

/// Reopens a resolved or closed case with a new deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReopenServiceCase {
    pub case_id: CaseId,
    pub reason: FreeText,
    pub deadline: Timestamp,
}

/// Closes a resolved case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseServiceCase {
    pub case_id: CaseId,
    pub closed_by: StaffId,
    pub customer_confirmed: bool,
}

/// Records the findings and recommendations of a risk-survey case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteRiskSurvey {
    pub case_id: CaseId,
    pub surveyor: StaffId,
    pub findings: FreeText,
    pub recommendations: Vec<RiskRecommendation>,
}

/// Records a follow-up of one risk recommendation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpRiskRecommendation {
    pub case_id: CaseId,
    pub recommendation: u16,
    pub status: RecommendationStatus,
    pub note: FreeText,
    pub followed_up_by: StaffId,
}

// Marketing.

/// Launches a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchCampaign {
    pub campaign_id: CampaignId,
    pub name: Title,
    pub budget: Money,
    pub channels: Vec<Channel>,
    pub target_segment: SegmentName,
    pub period_start: Date,
    pub period_end: Date,
    pub owner: StaffId,
    pub description: Option<FreeText>,
}

/// Records money spent on a running campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncurCampaignCost {
    pub campaign_id: CampaignId,
    pub amount: Money,
    pub category: CostCategory,
    pub description: FreeText,
}

/// Records that a running campaign reached a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCampaignTouch {
    pub campaign_id: CampaignId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub agent: Option<StaffId>,
    pub contact_id: Option<ContactId>,
}

/// Records a customer's answer to a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCampaignResponse {
    pub campaign_id: CampaignId,
    pub customer_id: CustomerId,
    pub response: CampaignResponse,
    pub channel: Channel,
    pub premium_won: Money,
    pub policy_number: Option<PolicyNumber>,
}

/// Closes a running campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseCampaign {
    pub campaign_id: CampaignId,
    pub summary: Option<FreeText>,
}

/// Records a lead from the web shop awaiting a call-back. Goes to the customer's stream when
/// the customer is known, to the enquiry's own stream otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOnlineEnquiry {
    pub enquiry_id: EnquiryId,
    pub customer_id: Option<CustomerId>,
    pub campaign_id: Option<CampaignId>,
    pub channel: Channel,
    pub name: Option<PersonName>,
    pub mobile: Mobile,
    pub plate: Option<Plate>,
    pub product_lines: Vec<ProductLine>,
    pub message: Option<FreeText>,
}

/// Erases an anonymous online enquiry's personal data (crypto-shredding): the enquiry from
/// someone the web shop could not identify, on its own stream. Cannot be undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EraseEnquiry {
    pub enquiry_id: EnquiryId,
    pub reason: ErasureReason,
}

// Process.

/// Publishes a (new version of a) business process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishProcess {
    pub process_id: ProcessId,
    pub title: Title,
    pub department: Title,
    pub version: u32,
    pub parent: Option<ProcessId>,
    pub links: Vec<ProcessId>,
    pub owner: StaffId,
    pub summary: Option<FreeText>,
}

/// Records that a member of staff was trained on a published version of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordProcessTraining {
    pub process_id: ProcessId,
    pub staff: StaffId,
    pub version: u32,
    pub trainer: Option<StaffId>,
}

/// Gives each listed command a `stream()` computed by one expression.
macro_rules! streams {
    ($($command:ident),+ => |$it:ident| $stream:expr) => {
        $(
            impl $command {
                /// The stream of the aggregate that handles this command.
                pub fn stream(&self) -> StreamId {
                    let $it = self;
                    $stream
                }
            }
        )+
    };
}

streams!(
    RegisterCustomer, AddIdentifier, RemoveIdentifier, UpdateProfile, ChangeConsent,
    MergeCustomers, AssignAccountManager, EraseCustomer, RecordContact, CorrectContact,
    RecordSatisfaction
    => |command| StreamId::customer(command.customer_id)
);
streams!(
    QuotePolicy, IssuePolicy, RenewPolicy, EndorsePolicy, LapsePolicy, CancelPolicy
    => |command| policy_stream(&command.policy_number)
);
streams!(
    ReportClaim, SurveyClaim, RequestClaimDocuments, CompleteClaimDocuments, SettleClaim,
    RejectClaim, ReopenClaim
    => |command| claim_stream(&command.claim_number)
);
streams!(
    OpenServiceCase, AssignServiceCase, EscalateServiceCase, ResolveServiceCase,
    ReopenServiceCase, CloseServiceCase, CompleteRiskSurvey, FollowUpRiskRecommendation
    => |command| StreamId::case(command.case_id)
);
streams!(
    LaunchCampaign, IncurCampaignCost, SendCampaignTouch, RecordCampaignResponse, CloseCampaign
    => |command| StreamId::campaign(command.campaign_id)
);
streams!(
    RecordOnlineEnquiry => |command| enquiry_stream(command.enquiry_id, command.customer_id)
);
streams!(EraseEnquiry => |command| enquiry_stream(command.enquiry_id, None));
streams!(PublishProcess, RecordProcessTraining => |command| StreamId::process(command.process_id));

/// Declares one aggregate's command enum, with `name()`, `stream()` and a `From` per command.
macro_rules! command_enum {
    ($(#[$doc:meta])* $enum:ident { $($command:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $enum {
            $($command($command)),+
        }

        impl $enum {
            /// The command's name: `RecordContact`.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$command(_) => stringify!($command)),+
                }
            }

            /// The stream of the aggregate that handles the command.
            pub fn stream(&self) -> StreamId {
                match self {
                    $(Self::$command(command) => command.stream()),+
                }
            }
        }

        $(
            impl From<$command> for $enum {
                fn from(command: $command) -> Self {
                    Self::$command(command)
                }
            }
        )+
    };
}

command_enum!(
    /// Commands handled by the customer aggregate (stream `customer-{id}`), including contacts,
    /// satisfaction and online enquiries from known customers.
    CustomerCommand {
        RegisterCustomer,
        AddIdentifier,
        RemoveIdentifier,
        UpdateProfile,
        ChangeConsent,
        MergeCustomers,
        AssignAccountManager,
        EraseCustomer,
        RecordContact,
        CorrectContact,
        RecordSatisfaction,
        RecordOnlineEnquiry,
    }
);
command_enum!(
    /// Commands handled by the policy aggregate (stream `policy-{number}`).
    PolicyCommand {
        QuotePolicy,
        IssuePolicy,
        RenewPolicy,
        EndorsePolicy,
        LapsePolicy,
        CancelPolicy,
    }
);
command_enum!(
    /// Commands handled by the claim aggregate (stream `claim-{number}`).
    ClaimCommand {
        ReportClaim,
        SurveyClaim,
        RequestClaimDocuments,
        CompleteClaimDocuments,
        SettleClaim,
        RejectClaim,
        ReopenClaim,
    }
);
command_enum!(
    /// Commands handled by the service-case aggregate (stream `case-{id}`).
    ServiceCaseCommand {
        OpenServiceCase,
        AssignServiceCase,
        EscalateServiceCase,
        ResolveServiceCase,
        ReopenServiceCase,
        CloseServiceCase,
        CompleteRiskSurvey,
        FollowUpRiskRecommendation,
    }
);
command_enum!(
    /// Commands handled by the campaign aggregate (stream `campaign-{id}`).
    CampaignCommand {
        LaunchCampaign,
        IncurCampaignCost,
        SendCampaignTouch,
        RecordCampaignResponse,
        CloseCampaign,
    }
);
command_enum!(
    /// Commands handled by the process aggregate (stream `process-{id}`).
    ProcessCommand { PublishProcess, RecordProcessTraining }
);
command_enum!(
    /// Commands handled by the enquiry aggregate (stream `enquiry-{id}`): enquiries from
    /// people the web shop could not identify.
    EnquiryCommand { RecordOnlineEnquiry, EraseEnquiry }
);

/// Any command, grouped by the aggregate that handles it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Customer(CustomerCommand),
    Policy(PolicyCommand),
    Claim(ClaimCommand),
    ServiceCase(ServiceCaseCommand),
    Campaign(CampaignCommand),
    Process(ProcessCommand),
    Enquiry(EnquiryCommand),
}

impl Command {
    /// The command's name: `RecordContact`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Customer(command) => command.name(),
            Self::Policy(command) => command.name(),
            Self::Claim(command) => command.name(),
            Self::ServiceCase(command) => command.name(),
            Self::Campaign(command) => command.name(),
            Self::Process(command) => command.name(),
            Self::Enquiry(command) => command.name(),
        }
    }

    /// The stream of the aggregate that handles the command; load that stream, hand the
    /// command to its aggregate, append the events with the version loaded as expected.
    pub fn stream(&self) -> StreamId {
        match self {
            Self::Customer(command) => command.stream(),
            Self::Policy(command) => command.stream(),
            Self::Claim(command) => command.stream(),
            Self::ServiceCase(command) => command.stream(),
            Self::Campaign(command) => command.stream(),
            Self::Process(command) => command.stream(),
            Self::Enquiry(command) => command.stream(),
        }
    }

    /// When what the command records happened, when the command itself says so: a contact
    /// happened when it ended (`startedAt` + `durationSeconds`), whenever an agent enters it.
    /// `None`: it happens when it is decided (the envelope's `occurredAt` is then now).
    pub fn business_time(&self) -> Option<Timestamp> {
        match self {
            Self::Customer(CustomerCommand::RecordContact(contact)) => {
                crate::events::contact_ended_at(contact.started_at, contact.duration_seconds)
            }
            _ => None,
        }
    }
}

/// `From<command> for Command` for each command of one aggregate.
macro_rules! into_command {
    ($group:ident($enum:ident): $($command:ident),+ $(,)?) => {
        $(
            impl From<$command> for Command {
                fn from(command: $command) -> Self {
                    Self::$group($enum::$command(command))
                }
            }
        )+
    };
}

into_command!(Customer(CustomerCommand):
    RegisterCustomer, AddIdentifier, RemoveIdentifier, UpdateProfile, ChangeConsent,
    MergeCustomers, AssignAccountManager, EraseCustomer, RecordContact, CorrectContact,
    RecordSatisfaction,
);
into_command!(Policy(PolicyCommand):
    QuotePolicy, IssuePolicy, RenewPolicy, EndorsePolicy, LapsePolicy, CancelPolicy,
);
into_command!(Claim(ClaimCommand):
    ReportClaim, SurveyClaim, RequestClaimDocuments, CompleteClaimDocuments, SettleClaim,
    RejectClaim, ReopenClaim,
);
into_command!(ServiceCase(ServiceCaseCommand):
    OpenServiceCase, AssignServiceCase, EscalateServiceCase, ResolveServiceCase,
    ReopenServiceCase, CloseServiceCase, CompleteRiskSurvey, FollowUpRiskRecommendation,
);
into_command!(Campaign(CampaignCommand):
    LaunchCampaign, IncurCampaignCost, SendCampaignTouch, RecordCampaignResponse, CloseCampaign,
);
into_command!(Process(ProcessCommand): PublishProcess, RecordProcessTraining);

impl From<EraseEnquiry> for Command {
    fn from(command: EraseEnquiry) -> Self {
        Self::Enquiry(EnquiryCommand::EraseEnquiry(command))
    }
}

impl From<RecordOnlineEnquiry> for Command {
    /// An enquiry goes to its customer when the customer is known, to itself otherwise (the
    /// same rule as [`RecordOnlineEnquiry::stream`]).
    fn from(command: RecordOnlineEnquiry) -> Self {
        if command.customer_id.is_some() {
            Self::Customer(CustomerCommand::RecordOnlineEnquiry(command))
        } else {
            Self::Enquiry(EnquiryCommand::RecordOnlineEnquiry(command))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples;

    #[test]
    fn commands_name_themselves_and_their_stream() {
        let command = Command::from(CloseCampaign {
            campaign_id: samples::campaign_id(),
            summary: None,
        });
        assert_eq!(command.name(), "CloseCampaign");
        assert_eq!(command.stream(), StreamId::campaign(samples::campaign_id()));
        let lapse = Command::from(LapsePolicy {
            policy_number: samples::policy_number(),
            lapsed_on: jiff::civil::date(2025, 3, 16),
        });
        assert_eq!(lapse.stream().as_str(), "policy-PJLA2024000123");
    }

    #[test]
    fn enquiries_route_by_whether_the_customer_is_known() {
        let mut enquiry = RecordOnlineEnquiry {
            enquiry_id: samples::enquiry_id(),
            customer_id: None,
            campaign_id: Some(samples::campaign_id()),
            channel: Channel::Web,
            name: None,
            mobile: samples::mobile(),
            plate: None,
            product_lines: Vec::new(),
            message: None,
        };
        let anonymous = Command::from(enquiry.clone());
        assert!(matches!(anonymous, Command::Enquiry(_)));
        assert_eq!(anonymous.stream().category(), "enquiry");
        enquiry.customer_id = Some(samples::individual_customer_id());
        let known = Command::from(enquiry);
        assert!(matches!(known, Command::Customer(_)));
        assert_eq!(
            known.stream(),
            StreamId::customer(samples::individual_customer_id())
        );
    }
}
