//! GraphQL enums mirroring the domain's closed vocabularies. Each converts both ways with the
//! domain type (async-graphql's `remote`), and each item is named as the domain's JSON names
//! it (`WECHAT`, `RESCUE_24H`), so the API and the event interchange speak one vocabulary.

use async_graphql::Enum;
use ledger_domain::{kinds, values};

/// The channel a contact came through.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "values::Channel")]
pub enum Channel {
    Phone,
    Web,
    #[graphql(name = "WECHAT")]
    WeChat,
    SelfServiceTerminal,
    WalkIn,
    Email,
    Fax,
    Post,
    App,
}

/// Who started a contact.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "values::Direction")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// What a contact was about.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "values::Topic")]
pub enum Topic {
    Enquiry,
    Complaint,
    ClaimReport,
    Renewal,
    Quote,
    Payment,
    ServiceRequest,
    Feedback,
    Marketing,
}

/// The kinds of identifier a customer can be known by.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "values::IdentifierKind")]
pub enum IdentifierKind {
    Mobile,
    Landline,
    #[graphql(name = "WECHAT")]
    WeChat,
    Email,
    IdCard,
    SocialCreditCode,
    Plate,
    Vin,
    PolicyNumber,
    ClaimNumber,
}

/// Whether a customer is a person or an organisation.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::CustomerKind")]
pub enum CustomerKind {
    Individual,
    Corporate,
}

/// How a contact ended.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::ContactOutcome")]
pub enum ContactOutcome {
    Resolved,
    FollowUpNeeded,
    Transferred,
    NoAnswer,
    CallbackScheduled,
    Converted,
    Declined,
    Abandoned,
}

/// Motor insurance product lines.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::ProductLine")]
pub enum ProductLine {
    CompulsoryTraffic,
    CommercialVehicleDamage,
    CommercialThirdPartyLiability,
    CommercialDriverSeat,
    CommercialPassengerSeat,
    CommercialTheft,
    CommercialGlass,
    CommercialSpontaneousCombustion,
    CommercialScratch,
    CommercialEngineWading,
    CommercialAddedEquipment,
    CommercialRepairPeriodCompensation,
    CommercialOutOfSocialInsuranceMedical,
    CommercialHolidayLimitDoubling,
}

/// Why a policy was cancelled.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::CancellationReason")]
pub enum CancellationReason {
    CustomerRequest,
    VehicleSold,
    VehicleScrapped,
    NonPayment,
    DuplicateCover,
    InsurerDecision,
    Other,
}

/// Documents a claim may need.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::ClaimDocument")]
pub enum ClaimDocument {
    ClaimForm,
    IdCard,
    DrivingLicence,
    VehicleLicence,
    AccidentCertificate,
    PoliceReport,
    RepairInvoice,
    RepairEstimate,
    MedicalRecords,
    MedicalInvoices,
    BankAccount,
    Photos,
    PowerOfAttorney,
    Other,
}

/// Who a claim payment goes to.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::PayeeKind")]
pub enum PayeeKind {
    Insured,
    RepairShop,
    ThirdParty,
    Hospital,
    Other,
}

/// Why a claim was rejected.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::ClaimRejectionReason")]
pub enum ClaimRejectionReason {
    NotCovered,
    PolicyNotInForce,
    LateNotice,
    MissingDocuments,
    SuspectedFraud,
    WithdrawnByCustomer,
    Other,
}

/// The kinds of service case.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::ServiceCaseKind")]
pub enum ServiceCaseKind {
    Consultation,
    Complaint,
    #[graphql(name = "RESCUE_24H")]
    Rescue24h,
    FastSurvey,
    SmallClaimFastPayout,
    #[graphql(name = "FOUR_S_REPAIR")]
    FourSRepair,
    DirectPayment,
    AdvancePayment,
    ItemisedPayment,
    Subrogation,
    RiskSurvey,
}

/// How urgent a service case is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::Priority")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

/// Where a risk recommendation stands after a follow-up.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::RecommendationStatus")]
pub enum RecommendationStatus {
    NotStarted,
    InProgress,
    Implemented,
    Declined,
}

/// What a campaign's money was spent on.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::CostCategory")]
pub enum CostCategory {
    Media,
    Sms,
    Telemarketing,
    Gifts,
    Discounts,
    Events,
    Staff,
    Other,
}

/// How a customer answered a campaign touch.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::CampaignResponse")]
pub enum CampaignResponse {
    Interested,
    NotInterested,
    Enquired,
    Purchased,
    OptedOut,
}

/// Why a customer's personal data was erased.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "kinds::ErasureReason")]
pub enum ErasureReason {
    CustomerRequest,
    RetentionPeriodEnded,
    LegalOrder,
}

/// Where a service case is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service_history::CaseStatus")]
pub enum CaseStatus {
    Open,
    Resolved,
    Closed,
}

/// Where a claim is in its handling.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service_history::ClaimStatus")]
pub enum ClaimStatus {
    Reported,
    Surveyed,
    DocumentsRequested,
    DocumentsCompleted,
    Settled,
    Rejected,
    Reopened,
}

/// Where a claim's time guarantee came from.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuaranteeSource {
    /// The claim's first notice carried a promised number of working days.
    Claim,
    /// The guarantee table's entry for a product line of the policy (see `guaranteeProductLine`).
    ProductLine,
    /// The guarantee table's default.
    Default,
}

/// Converts a list of GraphQL enum values to the domain's.
pub fn to_domain<T: Copy + Into<D>, D>(items: &[T]) -> Vec<D> {
    items.iter().map(|item| (*item).into()).collect()
}
