//! Closed vocabularies and small validated texts that event payloads share: customer kinds,
//! contact outcomes, motor product lines, claim documents, service-case kinds and the like.
//!
//! Every enum here is a versioned contract: it travels in JSON as SCREAMING_SNAKE_CASE and in
//! bincode as its variant index, so a variant is only ever added at the end, never renamed,
//! reordered or removed (renaming or reordering would silently change what stored bytes mean).

use std::fmt;

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::values::{FreeText, PersonName};

/// Declares a closed vocabulary: SCREAMING_SNAKE_CASE in JSON, with `ALL` listing every variant
/// (so limits such as "no more product lines than exist" are derived, not typed twice).
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$variant_doc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
        )]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $($(#[$variant_doc])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration (and bincode index) order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The variant as JSON and GraphQL spell it (`CLAIM_FORM`), for messages.
            pub fn wire_name(self) -> String {
                match serde_json::to_value(self) {
                    Ok(serde_json::Value::String(name)) => name,
                    _ => format!("{self:?}"),
                }
            }
        }
    };
}

vocabulary!(
    /// Whether a customer is a person or an organisation (seed 4.2.1 (2): unified contact for
    /// individuals, one-to-one contact for corporate accounts).
    CustomerKind {
        Individual,
        Corporate,
    }
);

vocabulary!(
    /// How a contact ended. Team-performance figures count `Converted` as a conversion.
    ContactOutcome {
        /// The customer's need was met during the contact.
        Resolved,
        /// Someone must come back to the customer (a case, a call-back, a document).
        FollowUpNeeded,
        /// Handed to another agent, department or the claims hotline.
        Transferred,
        /// An outbound attempt nobody answered.
        NoAnswer,
        /// The customer asked to be called back at another time.
        CallbackScheduled,
        /// A sale or renewal was agreed (quote accepted, policy bought or renewed).
        Converted,
        /// An offer was made and turned down.
        Declined,
        /// The customer hung up or left before being served.
        Abandoned,
    }
);

vocabulary!(
    /// Motor insurance product lines (交强险 and the commercial lines after the 2020 reform).
    ProductLine {
        /// 交强险: compulsory traffic accident liability insurance.
        CompulsoryTraffic,
        /// 车损险: damage to the insured vehicle.
        CommercialVehicleDamage,
        /// 第三者责任险: third-party liability.
        CommercialThirdPartyLiability,
        /// 车上人员责任险（司机）: driver seat liability.
        CommercialDriverSeat,
        /// 车上人员责任险（乘客）: passenger seat liability.
        CommercialPassengerSeat,
        /// 全车盗抢险: theft of the whole vehicle.
        CommercialTheft,
        /// 玻璃单独破碎险: glass breakage alone.
        CommercialGlass,
        /// 自燃损失险: spontaneous combustion.
        CommercialSpontaneousCombustion,
        /// 车身划痕损失险: body scratches.
        CommercialScratch,
        /// 发动机涉水损失险: engine water damage.
        CommercialEngineWading,
        /// 新增设备损失险: equipment added after purchase.
        CommercialAddedEquipment,
        /// 修理期间费用补偿险: costs while the vehicle is being repaired.
        CommercialRepairPeriodCompensation,
        /// 医保外医疗费用责任险: medical costs outside social medical insurance.
        CommercialOutOfSocialInsuranceMedical,
        /// 法定节假日限额翻倍险: doubled third-party limit on public holidays.
        CommercialHolidayLimitDoubling,
    }
);

vocabulary!(
    /// Why a policy was cancelled (退保).
    CancellationReason {
        CustomerRequest,
        VehicleSold,
        VehicleScrapped,
        NonPayment,
        DuplicateCover,
        InsurerDecision,
        Other,
    }
);

vocabulary!(
    /// Documents a claim may need, requested all at once (一次性告知和收取索赔资料).
    ClaimDocument {
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
);

vocabulary!(
    /// Who a claim payment goes to.
    PayeeKind {
        /// The policyholder or insured person.
        Insured,
        /// A repairer paid directly (直赔), usually the brand's 4S dealership.
        RepairShop,
        /// An injured or damaged third party.
        ThirdParty,
        Hospital,
        Other,
    }
);

vocabulary!(
    /// Why a claim was rejected.
    ClaimRejectionReason {
        NotCovered,
        PolicyNotInForce,
        LateNotice,
        MissingDocuments,
        SuspectedFraud,
        WithdrawnByCustomer,
        Other,
    }
);

vocabulary!(
    /// The kinds of service case (seed 4.2.1 ③, 4.2.3 2: service and value-added services).
    ServiceCaseKind {
        Consultation,
        Complaint,
        /// 24 小时救援: roadside rescue.
        #[serde(rename = "RESCUE_24H")]
        Rescue24h,
        /// 免现场 / 快速查勘: fast survey without an on-site visit.
        FastSurvey,
        /// 小额案件快速赔付.
        SmallClaimFastPayout,
        /// 4S 店专修: repair at the brand's dealership.
        FourSRepair,
        /// 直赔: direct payment to the repairer.
        DirectPayment,
        /// 预付赔款.
        AdvancePayment,
        /// 分项赔付.
        ItemisedPayment,
        /// 代位求偿.
        Subrogation,
        /// 风险查勘: loss-prevention survey with recommendations.
        RiskSurvey,
    }
);

vocabulary!(
    /// How urgent a service case is.
    Priority {
        Low,
        Normal,
        High,
        Urgent,
    }
);

vocabulary!(
    /// Where a risk recommendation stands after a follow-up.
    RecommendationStatus {
        NotStarted,
        InProgress,
        Implemented,
        Declined,
    }
);

vocabulary!(
    /// What a campaign's money was spent on.
    CostCategory {
        Media,
        Sms,
        Telemarketing,
        Gifts,
        Discounts,
        Events,
        Staff,
        Other,
    }
);

vocabulary!(
    /// How a customer answered a campaign touch.
    CampaignResponse {
        Interested,
        NotInterested,
        /// Asked for a quote or more information.
        Enquired,
        /// Bought or renewed a policy: the response carries the premium won.
        Purchased,
        /// Asked not to be contacted again for marketing.
        OptedOut,
    }
);

vocabulary!(
    /// Why a customer's personal data was erased. An enum rather than free text, because free
    /// text would be sealed under the very key the erasure destroys.
    ErasureReason {
        /// The customer exercised the right to deletion (PIPL art. 47).
        CustomerRequest,
        /// The retention period for the data ended.
        RetentionPeriodEnded,
        /// A court or regulator ordered it.
        LegalOrder,
    }
);

/// Who is paid by a claim settlement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Payee {
    pub kind: PayeeKind,
    pub name: PersonName,
}

impl crate::personal::Erase for Payee {
    fn erase(&mut self) {
        self.name.erase();
    }
}

/// One rectification recommendation from a risk survey (整改意见), numbered within its survey
/// so follow-ups can name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RiskRecommendation {
    /// 1, 2, 3 ... unique within the survey.
    pub number: u16,
    pub text: FreeText,
    /// When the customer should have implemented it.
    pub due_on: Date,
}

impl crate::personal::Erase for RiskRecommendation {
    fn erase(&mut self) {
        self.text.erase();
    }
}

/// Declares a string-backed text validated by `$validate`, carried as its normalised text in
/// JSON and bincode alike.
macro_rules! validated_text {
    ($(#[$doc:meta])* $name:ident, $validate:path) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
        )]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and normalises `text`; `field` names the input in the error.
            pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
                $validate(text).map(Self).map_err(|rule| ValidationError::new(field, rule))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                if text.is_empty() && crate::personal::erased_values_allowed() {
                    return Ok(Self(text));
                }
                Self::parse("", &text)
            }
        }

        impl $name {
            /// Whether this is an erased value (see [`crate::personal`]): never true of a parsed one.
            pub fn is_erased(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl crate::personal::Erase for $name {
            fn erase(&mut self) {
                self.0.clear();
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    };
}

/// The longest title accepted, in characters.
pub const TITLE_CHARS_MAX: usize = 200;

/// The longest segment name accepted, in characters.
pub const SEGMENT_NAME_CHARS_MAX: usize = 64;

validated_text!(
    /// A short label that is not personal data: a campaign's name, a process's title, a
    /// department (1 to 200 characters, trimmed, no control characters).
    Title, validate_title
);
validated_text!(
    /// A segment's name as the segments projection knows it: `key-accounts`, `renewal-due`
    /// (1 to 64 lower-case letters, digits and `-`, starting with a letter).
    SegmentName, validate_segment_name
);

fn validate_title(text: &str) -> Result<String, String> {
    let text = text.trim();
    let length = text.chars().count();
    if length == 0 || length > TITLE_CHARS_MAX || text.chars().any(char::is_control) {
        return Err(format!(
            "a name, title or department is 1 to {TITLE_CHARS_MAX} characters (trimmed) \
             without control characters"
        ));
    }
    Ok(text.to_owned())
}

fn validate_segment_name(text: &str) -> Result<String, String> {
    let text = text.trim();
    let starts_with_letter = text.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !starts_with_letter
        || text.len() > SEGMENT_NAME_CHARS_MAX
        || !text.chars().all(allowed)
        || text.ends_with('-')
    {
        return Err(format!(
            "a segment name is 1 to {SEGMENT_NAME_CHARS_MAX} lower-case letters, digits and -, \
             starting with a letter, such as key-accounts"
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            Title::parse("title", "  2024 续保季 ").unwrap().as_str(),
            "2024 续保季"
        );
        for bad in ["", "   ", "a\u{7}b", &"长".repeat(TITLE_CHARS_MAX + 1)] {
            let error = Title::parse("title", bad).unwrap_err();
            assert_eq!(error.field, "title");
            assert!(
                error
                    .rule
                    .starts_with("a name, title or department is 1 to"),
                "{error}"
            );
        }
        assert!(Title::parse("title", &"长".repeat(TITLE_CHARS_MAX)).is_ok());
    }

    #[test]
    fn segment_names_are_kebab_case() {
        assert_eq!(
            SegmentName::parse("s", "renewal-due").unwrap().as_str(),
            "renewal-due"
        );
        for bad in [
            "",
            "Key-Accounts",
            "1st",
            "at risk",
            "dormant-",
            &"a".repeat(SEGMENT_NAME_CHARS_MAX + 1),
        ] {
            assert!(SegmentName::parse("s", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vocabularies_are_screaming_snake_case_in_json() {
        assert_eq!(
            serde_json::to_value(ProductLine::CompulsoryTraffic).unwrap(),
            "COMPULSORY_TRAFFIC"
        );
        assert_eq!(
            serde_json::to_value(ServiceCaseKind::Rescue24h).unwrap(),
            "RESCUE_24H"
        );
        assert_eq!(
            serde_json::to_value(ServiceCaseKind::FourSRepair).unwrap(),
            "FOUR_S_REPAIR"
        );
        assert_eq!(
            serde_json::to_value(ContactOutcome::FollowUpNeeded).unwrap(),
            "FOLLOW_UP_NEEDED"
        );
        assert_eq!(ProductLine::ALL.len(), 14);
    }
}
