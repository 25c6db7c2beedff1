//! Realistic, valid sample events: at least one of every catalogue type, with values that pass
//! the real rules (a Jilin plate, a VIN and ID card with correct check characters ...).
//!
//! Round-trip tests, schema examples, documentation and other crates' tests start from these,
//! so they are a plain public function rather than test-only code. Ids are fixed, so the same
//! call always returns the same events.

use jiff::Timestamp;
use jiff::civil::{Date, date};
use uuid::Uuid;

use crate::events::{
    AccountManagerAssigned, CampaignClosed, CampaignCostIncurred, CampaignLaunched,
    CampaignResponded, CampaignTouchSent, ClaimDocumentsCompleted, ClaimDocumentsRequested,
    ClaimRejected, ClaimReopened, ClaimReported, ClaimSettled, ClaimSurveyed, ConsentChanged,
    ContactCorrected, ContactRecorded, CustomerErased, CustomerRegistered, CustomersMerged,
    EnquiryErased, Event, IdentifierAdded, IdentifierRemoved, OnlineEnquiryReceived,
    PolicyCancelled, PolicyEndorsed, PolicyIssued, PolicyLapsed, PolicyQuoted, PolicyRenewed,
    ProcessPublished, ProcessTrainingRecorded, ProfileUpdated, RiskRecommendationFollowedUp,
    RiskSurveyCompleted, SatisfactionRecorded, ServiceCaseAssigned, ServiceCaseClosed,
    ServiceCaseEscalated, ServiceCaseOpened, ServiceCaseReopened, ServiceCaseResolved,
};
use crate::ids::{CampaignId, CaseId, ContactId, CustomerId, EnquiryId, ProcessId, StaffId};
use crate::kinds::{
    CampaignResponse, CancellationReason, ClaimDocument, ClaimRejectionReason, ContactOutcome,
    CostCategory, CustomerKind, ErasureReason, Payee, PayeeKind, Priority, ProductLine,
    RecommendationStatus, RiskRecommendation, SegmentName, ServiceCaseKind, Title,
};
use crate::values::{
    Channel, ClaimNumber, Csat, Direction, FreeText, Identifier, IdentifierKind, Mobile, Money,
    Nps, PersonName, Plate, PolicyNumber, Topic, Vin,
};

/// 张三, an individual customer in Changchun.
pub fn individual_customer_id() -> CustomerId {
    CustomerId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0001))
}

/// 吉林一汽物流有限公司, a corporate group customer.
pub fn corporate_customer_id() -> CustomerId {
    CustomerId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0002))
}

/// A duplicate registration of 张三, merged into [`individual_customer_id`].
pub fn duplicate_customer_id() -> CustomerId {
    CustomerId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0003))
}

pub fn contact_id() -> ContactId {
    ContactId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0101))
}

pub fn case_id() -> CaseId {
    CaseId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0201))
}

pub fn risk_survey_case_id() -> CaseId {
    CaseId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0202))
}

pub fn campaign_id() -> CampaignId {
    CampaignId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0301))
}

pub fn enquiry_id() -> EnquiryId {
    EnquiryId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0401))
}

pub fn process_id() -> ProcessId {
    ProcessId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0501))
}

pub fn parent_process_id() -> ProcessId {
    ProcessId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0502))
}

pub fn linked_process_id() -> ProcessId {
    ProcessId::from_uuid(Uuid::from_u128(0x0190_a5e2_8c3b_7d4e_9f00_0000_0000_0503))
}

pub fn policy_number() -> PolicyNumber {
    PolicyNumber::parse("policyNumber", "PJLA2024000123").expect("a valid policy number")
}

pub fn claim_number() -> ClaimNumber {
    ClaimNumber::parse("claimNumber", "CJLA2024000456").expect("a valid claim number")
}

pub fn mobile() -> Mobile {
    Mobile::parse("mobile", "13800138000").expect("a valid mobile number")
}

pub fn plate() -> Plate {
    Plate::parse("plate", "吉A12345").expect("a valid plate")
}

pub fn vin() -> Vin {
    Vin::parse("vin", "LSVAM4187C2184847").expect("a valid VIN")
}

/// Every identifier kind but policy and claim numbers, with valid values.
pub fn identifiers() -> Vec<Identifier> {
    [
        (IdentifierKind::Mobile, "13800138000"),
        (IdentifierKind::WeChat, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        (IdentifierKind::Email, "zhang.san@example.com"),
        (IdentifierKind::IdCard, "11010519491231002X"),
        (IdentifierKind::Plate, "吉A12345"),
        (IdentifierKind::Vin, "LSVAM4187C2184847"),
    ]
    .into_iter()
    .map(|(kind, value)| identifier(kind, value))
    .collect()
}

pub fn identifier(kind: IdentifierKind, value: &str) -> Identifier {
    Identifier::parse("identifier", kind, value).expect("a valid sample identifier")
}

pub fn staff(id: &str) -> StaffId {
    StaffId::parse("staff", id).expect("a valid staff id")
}

pub fn text(value: &str) -> FreeText {
    FreeText::parse("text", value).expect("valid free text")
}

pub fn name(value: &str) -> PersonName {
    PersonName::parse("name", value).expect("a valid name")
}

pub fn title(value: &str) -> Title {
    Title::parse("title", value).expect("a valid title")
}

pub fn timestamp(rfc3339: &str) -> Timestamp {
    rfc3339.parse().expect("a valid RFC 3339 instant")
}

/// 2024-03-15, 09:30 in Changchun: the moment most samples happen around.
pub fn sample_time() -> Timestamp {
    timestamp("2024-03-15T01:30:00Z")
}

fn yuan(amount: i64) -> Money {
    Money::from_fen(amount * 100)
}

fn policy_lines() -> Vec<ProductLine> {
    vec![
        ProductLine::CompulsoryTraffic,
        ProductLine::CommercialVehicleDamage,
        ProductLine::CommercialThirdPartyLiability,
        ProductLine::CommercialDriverSeat,
    ]
}

const PERIOD_START: Date = date(2024, 3, 16);
const PERIOD_END: Date = date(2025, 3, 15);

/// At least one valid instance of every event type in the catalogue, in catalogue order.
pub fn sample_events() -> Vec<Event> {
    let mut events = customer_events();
    events.extend(contact_events());
    events.extend(policy_events());
    events.extend(claim_events());
    events.extend(service_case_events());
    events.extend(marketing_events());
    events.extend(process_events());
    events
}

fn customer_events() -> Vec<Event> {
    let customer_id = individual_customer_id();
    vec![
        CustomerRegistered {
            customer_id,
            kind: CustomerKind::Individual,
            name: name("张三"),
            group: None,
            address: Some(text("吉林省长春市朝阳区人民大街 1 号")),
            identifiers: identifiers(),
        }
        .into(),
        CustomerRegistered {
            customer_id: corporate_customer_id(),
            kind: CustomerKind::Corporate,
            name: name("吉林一汽物流有限公司"),
            group: Some(name("中国第一汽车集团有限公司")),
            address: None,
            identifiers: vec![
                identifier(IdentifierKind::SocialCreditCode, "91350100M000100Y43"),
                identifier(IdentifierKind::Landline, "0431-88886666"),
            ],
        }
        .into(),
        IdentifierAdded {
            customer_id,
            identifier: identifier(IdentifierKind::PolicyNumber, "PJLA2024000123"),
        }
        .into(),
        IdentifierRemoved {
            customer_id,
            identifier: identifier(IdentifierKind::Email, "zhang.san@example.com"),
        }
        .into(),
        ProfileUpdated {
            customer_id,
            name: name("张三"),
            group: None,
            address: Some(text("吉林省长春市南关区解放大路 88 号")),
        }
        .into(),
        ConsentChanged {
            customer_id,
            channel: Channel::WeChat,
            granted: true,
        }
        .into(),
        CustomersMerged {
            customer_id: duplicate_customer_id(),
            survivor_id: customer_id,
            identifiers: vec![identifier(IdentifierKind::Mobile, "13900139000")],
            reason: Some(text("同一身份证号重复建档")),
        }
        .into(),
        AccountManagerAssigned {
            customer_id: corporate_customer_id(),
            manager: staff("am-0007"),
            team_lead: staff("tl-0002"),
            previous_manager: Some(staff("am-0003")),
        }
        .into(),
        CustomerErased {
            customer_id: duplicate_customer_id(),
            reason: ErasureReason::CustomerRequest,
        }
        .into(),
    ]
}

/// The contact with 张三 about his accident, as first recorded.
pub fn sample_contact() -> ContactRecorded {
    ContactRecorded {
        contact_id: contact_id(),
        customer_id: individual_customer_id(),
        channel: Channel::Phone,
        direction: Direction::Inbound,
        agent: staff("agent-0042"),
        started_at: sample_time(),
        duration_seconds: 312,
        topic: Topic::ClaimReport,
        summary: text("客户报案：长春市人民大街追尾，无人伤，已安排快速查勘。"),
        outcome: ContactOutcome::FollowUpNeeded,
        policy_number: Some(policy_number()),
        claim_number: Some(claim_number()),
        case_id: Some(case_id()),
        campaign_id: None,
        enquiry_id: None,
    }
}

fn contact_events() -> Vec<Event> {
    let contact = sample_contact();
    let correction = ContactCorrected {
        duration_seconds: 372,
        ..contact.corrected(text("通话时长按话务系统记录更正"))
    };
    vec![
        contact.into(),
        correction.into(),
        SatisfactionRecorded {
            customer_id: individual_customer_id(),
            contact_id: Some(contact_id()),
            csat: Some(Csat::parse("csat", 4).expect("a valid CSAT")),
            nps: Some(Nps::parse("nps", 9).expect("a valid NPS")),
            comment: Some(text("处理及时，态度很好")),
        }
        .into(),
    ]
}

fn policy_events() -> Vec<Event> {
    let customer_id = individual_customer_id();
    vec![
        PolicyQuoted {
            policy_number: policy_number(),
            customer_id,
            product_lines: policy_lines(),
            plate: plate(),
            vin: vin(),
            premium: yuan(4_860),
            period_start: PERIOD_START,
            period_end: PERIOD_END,
            sales_channel: Channel::Phone,
            campaign_id: Some(campaign_id()),
            valid_until: date(2024, 3, 31),
        }
        .into(),
        PolicyIssued {
            policy_number: policy_number(),
            customer_id,
            product_lines: policy_lines(),
            plate: plate(),
            vin: vin(),
            premium: yuan(4_860),
            period_start: PERIOD_START,
            period_end: PERIOD_END,
            sales_channel: Channel::Phone,
            campaign_id: Some(campaign_id()),
        }
        .into(),
        PolicyRenewed {
            policy_number: policy_number(),
            customer_id,
            product_lines: policy_lines(),
            premium: yuan(4_512),
            previous_premium: yuan(4_860),
            period_start: date(2025, 3, 16),
            period_end: date(2026, 3, 15),
            sales_channel: Channel::WeChat,
            campaign_id: None,
        }
        .into(),
        PolicyEndorsed {
            policy_number: policy_number(),
            customer_id,
            effective_on: date(2024, 6, 1),
            description: text("增加车上人员责任险（乘客）"),
            plate: None,
            product_lines: Some(
                policy_lines()
                    .into_iter()
                    .chain([ProductLine::CommercialPassengerSeat])
                    .collect(),
            ),
            premium_change: yuan(120),
            premium: yuan(4_980),
        }
        .into(),
        PolicyLapsed {
            policy_number: policy_number(),
            customer_id,
            lapsed_on: date(2026, 3, 16),
        }
        .into(),
        PolicyCancelled {
            policy_number: policy_number(),
            customer_id,
            cancelled_on: date(2024, 9, 1),
            reason: CancellationReason::VehicleSold,
            refund: Money::from_fen(203_150),
        }
        .into(),
    ]
}

fn claim_events() -> Vec<Event> {
    let customer_id = individual_customer_id();
    vec![
        ClaimReported {
            claim_number: claim_number(),
            policy_number: policy_number(),
            customer_id,
            loss_occurred_at: timestamp("2024-03-15T00:50:00Z"),
            location: text("长春市朝阳区人民大街与解放大路交汇处"),
            description: text("等红灯时被后车追尾，后保险杠受损"),
            plate: Some(plate()),
            reported_via: Channel::Phone,
            injuries: false,
            estimated_loss: Some(yuan(3_000)),
            time_guarantee_working_days: Some(5),
        }
        .into(),
        ClaimSurveyed {
            claim_number: claim_number(),
            customer_id,
            surveyor: staff("surveyor-0011"),
            on_site: false,
            assessed_loss: yuan(2_650),
            findings: text("视频查勘：后保险杠及左尾灯需更换"),
        }
        .into(),
        ClaimDocumentsRequested {
            claim_number: claim_number(),
            customer_id,
            documents: vec![
                ClaimDocument::ClaimForm,
                ClaimDocument::DrivingLicence,
                ClaimDocument::VehicleLicence,
                ClaimDocument::AccidentCertificate,
                ClaimDocument::RepairInvoice,
            ],
            requested_via: Channel::WeChat,
        }
        .into(),
        ClaimDocumentsCompleted {
            claim_number: claim_number(),
            customer_id,
            documents: vec![
                ClaimDocument::ClaimForm,
                ClaimDocument::DrivingLicence,
                ClaimDocument::VehicleLicence,
                ClaimDocument::AccidentCertificate,
                ClaimDocument::RepairInvoice,
            ],
        }
        .into(),
        ClaimSettled {
            claim_number: claim_number(),
            customer_id,
            amount: yuan(2_650),
            payee: Payee {
                kind: PayeeKind::RepairShop,
                name: name("长春一汽大众 4S 店"),
            },
            direct_payment: true,
        }
        .into(),
        ClaimRejected {
            claim_number: claim_number(),
            customer_id,
            reason: ClaimRejectionReason::NotCovered,
            explanation: text("车身划痕不在已投保险种范围内"),
        }
        .into(),
        ClaimReopened {
            claim_number: claim_number(),
            customer_id,
            reason: text("维修时发现后备箱底板变形"),
        }
        .into(),
    ]
}

fn service_case_events() -> Vec<Event> {
    let customer_id = individual_customer_id();
    let case_id = case_id();
    vec![
        ServiceCaseOpened {
            case_id,
            customer_id,
            kind: ServiceCaseKind::FastSurvey,
            priority: Priority::High,
            subject: text("追尾事故快速查勘"),
            channel: Channel::Phone,
            deadline: timestamp("2024-03-15T05:30:00Z"),
            deadline_working_hours: Some(4),
            policy_number: Some(policy_number()),
            claim_number: Some(claim_number()),
            contact_id: Some(contact_id()),
        }
        .into(),
        ServiceCaseAssigned {
            case_id,
            customer_id,
            assignee: staff("surveyor-0011"),
            previous_assignee: None,
        }
        .into(),
        ServiceCaseEscalated {
            case_id,
            customer_id,
            escalated_to: staff("tl-0002"),
            reason: text("客户要求当天完成定损"),
            priority: Priority::Urgent,
            deadline: timestamp("2024-03-15T04:00:00Z"),
            level: 1,
        }
        .into(),
        ServiceCaseResolved {
            case_id,
            customer_id,
            resolved_by: staff("surveyor-0011"),
            resolution: text("视频定损完成，推荐至 4S 店维修"),
            within_deadline: true,
        }
        .into(),
        ServiceCaseReopened {
            case_id,
            customer_id,
            reason: text("客户对定损金额有异议"),
            deadline: timestamp("2024-03-18T09:00:00Z"),
        }
        .into(),
        ServiceCaseClosed {
            case_id,
            customer_id,
            closed_by: staff("tl-0002"),
            customer_confirmed: true,
        }
        .into(),
        RiskSurveyCompleted {
            case_id: risk_survey_case_id(),
            customer_id: corporate_customer_id(),
            surveyor: staff("risk-0005"),
            findings: text("车队停车场消防通道被占用，部分车辆轮胎磨损超标"),
            recommendations: vec![
                RiskRecommendation {
                    number: 1,
                    text: text("清理消防通道并设置禁停标识"),
                    due_on: date(2024, 4, 15),
                },
                RiskRecommendation {
                    number: 2,
                    text: text("更换磨损超标轮胎并建立月度检查"),
                    due_on: date(2024, 5, 15),
                },
            ],
        }
        .into(),
        RiskRecommendationFollowedUp {
            case_id: risk_survey_case_id(),
            customer_id: corporate_customer_id(),
            recommendation: 1,
            status: RecommendationStatus::Implemented,
            note: text("回访确认已设置禁停标识"),
            followed_up_by: staff("am-0007"),
        }
        .into(),
    ]
}

fn marketing_events() -> Vec<Event> {
    let campaign_id = campaign_id();
    vec![
        CampaignLaunched {
            campaign_id,
            name: title("2024 春季续保关怀"),
            budget: yuan(200_000),
            channels: vec![Channel::Phone, Channel::WeChat, Channel::App],
            target_segment: SegmentName::parse("targetSegment", "renewal-due")
                .expect("a valid segment name"),
            period_start: date(2024, 3, 1),
            period_end: date(2024, 4, 30),
            owner: staff("mkt-0001"),
            description: Some(text("到期前 30 天电话与微信提醒续保，续保送免费洗车")),
        }
        .into(),
        CampaignCostIncurred {
            campaign_id,
            amount: yuan(12_000),
            category: CostCategory::Sms,
            description: text("短信群发 60,000 条"),
            total_cost: yuan(12_000),
            over_budget: false,
        }
        .into(),
        CampaignTouchSent {
            campaign_id,
            customer_id: individual_customer_id(),
            channel: Channel::Phone,
            agent: Some(staff("agent-0042")),
            contact_id: Some(contact_id()),
        }
        .into(),
        CampaignResponded {
            campaign_id,
            customer_id: individual_customer_id(),
            response: CampaignResponse::Purchased,
            channel: Channel::Phone,
            premium_won: yuan(4_860),
            policy_number: Some(policy_number()),
        }
        .into(),
        CampaignClosed {
            campaign_id,
            budget: yuan(200_000),
            total_cost: yuan(186_400),
            touches: 58_210,
            responses: 4_377,
            premium_won: yuan(9_850_000),
            summary: Some(text("续保率较去年同期提升 6 个百分点")),
        }
        .into(),
        OnlineEnquiryReceived {
            enquiry_id: enquiry_id(),
            customer_id: None,
            campaign_id: Some(campaign_id),
            channel: Channel::Web,
            name: Some(name("李四")),
            mobile: mobile(),
            plate: Some(plate()),
            product_lines: vec![
                ProductLine::CompulsoryTraffic,
                ProductLine::CommercialVehicleDamage,
            ],
            message: Some(text("想了解新车第一年的保费")),
        }
        .into(),
        EnquiryErased {
            enquiry_id: enquiry_id(),
            reason: ErasureReason::CustomerRequest,
        }
        .into(),
    ]
}

fn process_events() -> Vec<Event> {
    vec![
        ProcessPublished {
            process_id: process_id(),
            title: title("小额案件快速赔付流程"),
            department: title("理赔部"),
            version: 2,
            parent: Some(parent_process_id()),
            links: vec![linked_process_id()],
            owner: staff("claims-lead-01"),
            summary: Some(text(
                "一万元以下无人伤案件免现场查勘，资料齐全后三个工作日内赔付",
            )),
        }
        .into(),
        ProcessTrainingRecorded {
            process_id: process_id(),
            staff: staff("agent-0042"),
            version: 2,
            trainer: Some(staff("claims-lead-01")),
        }
        .into(),
    ]
}
