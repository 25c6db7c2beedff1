//! Claims, from first notice of loss through survey, the one-time request for documents and
//! their completion, to settlement or rejection, with the contacts each step produces; a few
//! are settled past their time guarantee and a few reopened. Losses follow the seasons:
//! Jilin's icy winters bring half as many claims again as spring and autumn.

use ledger_domain::events::{
    ClaimDocumentsCompleted, ClaimDocumentsRequested, ClaimRejected, ClaimReopened, ClaimReported,
    ClaimSettled, ClaimSurveyed,
};
use ledger_domain::kinds::{
    ClaimDocument, ClaimRejectionReason, ContactOutcome, Payee, PayeeKind, Priority,
    ServiceCaseKind,
};
use ledger_domain::values::{Channel, Direction, Money, Topic};

use crate::cases::CaseSpec;
use crate::clock::{self, DAY, HOUR, MINUTE};
use crate::contacts::ContactPlan;
use crate::names::{self, LossKind, REGIONS, summaries};
use crate::rng::{round_clamped, to_f64};
use crate::world::{Action, Claim, ClaimStage, PolicyStatus, Rare, World, fen, person_name, text};

/// Claims assessed below this many yuan, without injuries, are small claims: surveyed
/// remotely (免现场) and paid fast.
const SMALL_CLAIM_YUAN: i64 = 5_000;

/// Repairers paid directly (直赔), the brand dealerships first.
const REPAIRERS: &[&str] = &[
    "长春一汽-大众4S店",
    "长春一汽红旗4S店",
    "吉林市一汽丰田4S店",
    "长春汽车维修中心",
    "四平一汽解放服务站",
];

impl World {
    /// A candidate loss: accepted with the season's share of the peak rate, then the next
    /// candidate is drawn. The chain ends with the policy.
    pub(crate) fn next_loss(&mut self, policy: u32) {
        let record = self.policy(policy);
        let customer = record.customer;
        if record.status != PolicyStatus::Active || !self.is_live(customer) {
            return;
        }
        let day = self.today();
        if day > record.end_day {
            // Between the period's end and the renewal's effect nothing is insured; try again
            // after the renewal has been written.
            self.schedule(self.now + DAY, Action::NextLoss(policy));
            return;
        }
        let season = clock::CLAIM_SEASON[clock::month(day) - 1] / clock::CLAIM_SEASON_MAX;
        if self.rng.chance(season) {
            self.report_claim(policy, day);
        }
        let gap = self.loss_gap(policy);
        self.schedule(self.now + gap, Action::NextLoss(policy));
    }

    fn report_claim(&mut self, policy: u32, day: i64) {
        let customer = self.policy(policy).customer;
        let loss_at = clock::loss_moment_on(&mut self.rng, day).max(self.now);
        let delayed = self.rng.chance(0.12);
        let report_at = if delayed {
            let delay = self.rng.range(DAY, 4 * DAY);
            clock::business_moment_after(&mut self.rng, loss_at + delay)
        } else {
            loss_at + self.rng.range(5 * MINUTE, 90 * MINUTE)
        };
        let kind = names::loss_kind(&mut self.rng, clock::month(day));
        let estimate = round_clamped(
            self.rng.log_normal(kind.median_loss_yuan(), 0.6),
            200,
            800_000,
        );
        let injuries = kind == LossKind::Injury;
        let small = estimate < SMALL_CLAIM_YUAN && !injuries;
        let guarantee_days: i64 = if small {
            3
        } else if injuries {
            20
        } else if self.rng.chance(0.5) {
            7
        } else {
            10
        };
        let (year, _, _) = clock::civil(clock::local_day(report_at));
        let number = self.issuer.claim_number(year);
        let vehicle_index = self.policy(policy).vehicle;
        let region = &REGIONS[self.customer(customer).region];
        let location = names::loss_location(&mut self.rng, region);
        let vehicle = &self.customer(customer).vehicles[vehicle_index];
        let (single, lead_plate) = (vehicle.count == 1, vehicle.plate.clone());
        let plate = (single || self.rng.chance(0.6)).then_some(lead_plate);
        let reported_via = self.rng.weighted_pick(&[
            (Channel::Phone, 72.0),
            (Channel::WeChat, 18.0),
            (Channel::App, 10.0),
        ]);
        let reported_via = match reported_via {
            Channel::WeChat if !self.customer(customer).wechat => Channel::Phone,
            Channel::App if !self.customer(customer).app => Channel::Phone,
            other => other,
        };
        let policy_number = self.policy(policy).number.clone();
        let event = ClaimReported {
            claim_number: number.clone(),
            policy_number: policy_number.clone(),
            customer_id: self.customer(customer).id,
            loss_occurred_at: clock::timestamp(loss_at),
            location: text(&location),
            description: text(kind.description()),
            plate: plate.clone(),
            reported_via,
            injuries,
            estimated_loss: Some(Money::from_fen(fen(estimate))),
            time_guarantee_working_days: Some(u16::try_from(guarantee_days).unwrap_or(10)),
        };
        // The agent (or the WeChat/app system) takes the report during the contact; the
        // contact is recorded when it ends.
        let agent = match reported_via {
            Channel::Phone => self.staff.agent_on_duty(&mut self.rng, report_at).clone(),
            Channel::WeChat => self.staff.systems.wechat.clone(),
            _ => self.staff.systems.app.clone(),
        };
        if !self.emit(report_at + 2 * MINUTE, &agent, Some(customer), event) {
            return;
        }
        self.policy_mut(policy).claims_this_period += 1;
        self.customer_mut(customer).open_matters += 1;
        let summary = match reported_via {
            Channel::Phone => {
                summaries::CLAIM_REPORT[usize::from(clock::in_business_hours(report_at))]
            }
            _ => summaries::CLAIM_REPORT[2],
        };
        let mut plan = ContactPlan::new(
            customer,
            reported_via,
            Direction::Inbound,
            Topic::ClaimReport,
            summary,
            ContactOutcome::FollowUpNeeded,
            report_at,
        );
        plan.agent = Some(agent);
        plan.policy = Some(policy_number.clone());
        plan.claim = Some(number.clone());
        let contact = self.record_contact(plan);
        let opened_at = contact
            .as_ref()
            .map_or(report_at + 10 * MINUTE, |recorded| {
                recorded.ended_at + MINUTE
            });
        let contact_id = contact.map(|recorded| recorded.id);
        let corporate = self.customer(customer).segment.is_corporate();
        let group = self.customer(customer).segment.is_group();
        let rescue_share = match kind {
            LossKind::IcySkid | LossKind::Fire | LossKind::Wading => 0.4,
            _ => 0.04,
        };
        let mut spec = CaseSpec {
            customer,
            kind: ServiceCaseKind::Rescue24h,
            priority: Priority::Urgent,
            subject: "24小时道路救援",
            channel: reported_via,
            at: opened_at,
            policy: Some(policy_number),
            claim: Some(number.clone()),
            contact: contact_id,
        };
        if !delayed && self.rng.chance(rescue_share) {
            self.open_case(spec.clone());
        }
        let service = if small && self.rng.chance(0.45) {
            Some((
                ServiceCaseKind::FastSurvey,
                "小额案件免现场快速查勘",
                Priority::High,
            ))
        } else if small && self.rng.chance(0.3) {
            Some((
                ServiceCaseKind::SmallClaimFastPayout,
                "小额案件快速赔付",
                Priority::Normal,
            ))
        } else if (corporate || group) && self.rng.chance(0.3) {
            if self.rng.chance(0.5) {
                Some((
                    ServiceCaseKind::FourSRepair,
                    "大客户4S店专修服务",
                    Priority::Normal,
                ))
            } else {
                Some((
                    ServiceCaseKind::DirectPayment,
                    "大客户直赔服务",
                    Priority::Normal,
                ))
            }
        } else if injuries && self.rng.chance(0.4) {
            Some((
                ServiceCaseKind::AdvancePayment,
                "人伤案件预付赔款",
                Priority::High,
            ))
        } else if estimate > 30_000 && self.rng.chance(0.25) {
            Some((
                ServiceCaseKind::ItemisedPayment,
                "大额案件分项赔付",
                Priority::Normal,
            ))
        } else if kind == LossKind::Parked && self.rng.chance(0.2) {
            Some((
                ServiceCaseKind::Subrogation,
                "第三方逃逸案件代位求偿",
                Priority::Low,
            ))
        } else {
            None
        };
        let direct_payment = matches!(
            service,
            Some((
                ServiceCaseKind::DirectPayment | ServiceCaseKind::FourSRepair,
                _,
                _
            ))
        );
        if let Some((case_kind, subject, priority)) = service {
            spec.kind = case_kind;
            spec.subject = subject;
            spec.priority = priority;
            spec.at = opened_at + 2 * MINUTE;
            self.open_case(spec);
        }
        let reject_share = match kind {
            LossKind::Theft | LossKind::Fire => 0.2,
            _ if delayed => 0.1,
            _ => 0.035,
        };
        let claim = Claim {
            number,
            customer,
            loss: kind,
            assessed_fen: fen(estimate),
            guarantee_days,
            documents: documents_for(kind, corporate, direct_payment),
            documents_completed_at: 0,
            stage: ClaimStage::Survey,
            reject: self.rare(reject_share, Rare::ClaimRejection),
            late: self.rare(0.07, Rare::LateSettlement),
            reopened: false,
            will_reopen: false,
            small,
            direct_payment,
        };
        let slot = self.claims.insert(claim);
        let survey_at = if small {
            report_at + self.rng.range(30 * MINUTE, 4 * HOUR)
        } else if !clock::in_business_hours(report_at) || self.rng.chance(0.5) {
            clock::business_moment_after(&mut self.rng, report_at + HOUR)
        } else {
            report_at + self.rng.range(40 * MINUTE, 3 * HOUR)
        };
        self.schedule(survey_at, Action::ClaimStep(slot));
    }

    pub(crate) fn claim_step(&mut self, slot: u32) {
        let Some(claim) = self.claims.get_mut(slot) else {
            return;
        };
        let (stage, customer) = (claim.stage, claim.customer);
        if !self.is_live(customer) {
            return;
        }
        match stage {
            ClaimStage::Survey => self.survey_claim(slot),
            ClaimStage::Documents => self.complete_documents(slot),
            ClaimStage::Decision => self.decide_claim(slot),
            ClaimStage::SatisfactionCall => self.claim_satisfaction(slot),
            ClaimStage::Reopen => self.reopen_claim(slot),
        }
    }

    fn claim(&mut self, slot: u32) -> &mut Claim {
        self.claims
            .get_mut(slot)
            .expect("a scheduled claim is open")
    }

    fn survey_claim(&mut self, slot: u32) {
        let claim = self.claim(slot);
        let (number, customer, kind, estimate, small, reject) = (
            claim.number.clone(),
            claim.customer,
            claim.loss,
            claim.assessed_fen,
            claim.small,
            claim.reject,
        );
        let documents = claim.documents.clone();
        let assessed = round_clamped(
            to_f64(estimate) * (0.75 + 0.4 * self.rng.unit()),
            fen(100),
            i64::MAX / 4,
        );
        let surveyors = &self.staff.surveyors;
        let surveyor = surveyors[self.rng.index(surveyors.len())].clone();
        let event = ClaimSurveyed {
            claim_number: number.clone(),
            customer_id: self.customer(customer).id,
            surveyor: surveyor.clone(),
            on_site: !small,
            assessed_loss: Money::from_fen(assessed),
            findings: text(kind.findings()),
        };
        self.emit(self.now, &surveyor, Some(customer), event);
        self.claim(slot).assessed_fen = assessed;
        let requested_via = self.rng.weighted_pick(&[
            (Channel::WeChat, 45.0),
            (Channel::Phone, 35.0),
            (Channel::Email, 10.0),
            (Channel::WalkIn, 10.0),
        ]);
        let requested_via = if requested_via == Channel::WeChat && !self.customer(customer).wechat {
            Channel::Phone
        } else {
            requested_via
        };
        let at = self.now + self.rng.range(10 * MINUTE, 40 * MINUTE);
        let event = ClaimDocumentsRequested {
            claim_number: number.clone(),
            customer_id: self.customer(customer).id,
            documents,
            requested_via,
        };
        let handlers = &self.staff.claims_handlers;
        let handler = handlers[self.rng.index(handlers.len())].clone();
        self.emit(at, &handler, Some(customer), event);
        if matches!(requested_via, Channel::Phone | Channel::WeChat) {
            let mut plan = ContactPlan::new(
                customer,
                requested_via,
                Direction::Outbound,
                Topic::ServiceRequest,
                summaries::CLAIM_FOLLOW_UP[0],
                ContactOutcome::Resolved,
                clock::business_moment_after(&mut self.rng, at),
            );
            plan.claim = Some(number);
            self.record_contact(plan);
        }
        let (stage, next) = if reject {
            (ClaimStage::Decision, self.business_moment_in(2, 10))
        } else if small {
            (ClaimStage::Documents, self.business_moment_in(0, 2))
        } else {
            let wait = round_clamped(self.rng.exponential(5.0), 1, 30);
            (ClaimStage::Documents, self.business_moment_in(wait, wait))
        };
        self.claim(slot).stage = stage;
        self.schedule(next.max(at + MINUTE), Action::ClaimStep(slot));
    }

    fn complete_documents(&mut self, slot: u32) {
        let claim = self.claim(slot);
        let (number, customer, documents) = (
            claim.number.clone(),
            claim.customer,
            claim.documents.clone(),
        );
        let (guarantee, late) = (claim.guarantee_days, claim.late);
        let corporate = self.customer(customer).segment.is_corporate();
        let channel = self.rng.weighted_pick(&[
            (Channel::WalkIn, 30.0),
            (Channel::WeChat, 30.0),
            (Channel::App, 12.0),
            (Channel::Email, 8.0),
            (Channel::Post, if corporate { 8.0 } else { 1.5 }),
            (Channel::Fax, if corporate { 5.0 } else { 0.3 }),
        ]);
        let channel = match channel {
            Channel::WeChat if !self.customer(customer).wechat => Channel::WalkIn,
            Channel::App if !self.customer(customer).app => Channel::WalkIn,
            other => other,
        };
        let mut plan = ContactPlan::new(
            customer,
            channel,
            Direction::Inbound,
            Topic::ServiceRequest,
            summaries::CLAIM_FOLLOW_UP[4],
            ContactOutcome::Resolved,
            self.now,
        );
        plan.claim = Some(number.clone());
        let received = self
            .record_contact(plan)
            .map_or(self.now, |recorded| recorded.ended_at);
        let event = ClaimDocumentsCompleted {
            claim_number: number,
            customer_id: self.customer(customer).id,
            documents,
        };
        let handlers = &self.staff.claims_handlers;
        let handler = handlers[self.rng.index(handlers.len())].clone();
        let completed_at = received + 5 * MINUTE;
        self.emit(completed_at, &handler, Some(customer), event);
        // The time guarantee runs from complete documents, in working days.
        let decision = if late {
            clock::add_working_days(completed_at, guarantee + self.rng.range(2, 8))
                - self.rng.range(HOUR, 6 * HOUR)
        } else {
            let day_within = self.rng.range(0, guarantee - 1);
            let end_of_day = clock::add_working_days(completed_at, day_within);
            (end_of_day - self.rng.range(HOUR, 7 * HOUR)).max(completed_at + 30 * MINUTE)
        };
        let claim = self.claim(slot);
        claim.documents_completed_at = completed_at;
        claim.stage = ClaimStage::Decision;
        self.schedule(decision, Action::ClaimStep(slot));
    }

    fn decide_claim(&mut self, slot: u32) {
        let claim = self.claim(slot);
        let (number, customer, kind, reject, late, assessed) = (
            claim.number.clone(),
            claim.customer,
            claim.loss,
            claim.reject,
            claim.late,
            claim.assessed_fen,
        );
        let (direct_payment, reopened) = (claim.direct_payment, claim.reopened);
        let handlers = &self.staff.claims_handlers;
        let handler = handlers[self.rng.index(handlers.len())].clone();
        let customer_id = self.customer(customer).id;
        if reject {
            let reason = match kind {
                LossKind::Theft | LossKind::Fire => ClaimRejectionReason::NotCovered,
                _ => self.rng.weighted_pick(&[
                    (ClaimRejectionReason::NotCovered, 35.0),
                    (ClaimRejectionReason::LateNotice, 20.0),
                    (ClaimRejectionReason::MissingDocuments, 15.0),
                    (ClaimRejectionReason::SuspectedFraud, 10.0),
                    (ClaimRejectionReason::WithdrawnByCustomer, 15.0),
                    (ClaimRejectionReason::Other, 5.0),
                ]),
            };
            let explanation = match reason {
                ClaimRejectionReason::NotCovered => "损失不在已投保险种的保险责任范围内",
                ClaimRejectionReason::LateNotice => "出险后未及时报案，无法核实损失原因",
                ClaimRejectionReason::MissingDocuments => "客户未能提供必要的索赔单证",
                ClaimRejectionReason::SuspectedFraud => "经调查事故经过与损失不符",
                ClaimRejectionReason::WithdrawnByCustomer => "客户自行协商解决，申请撤案",
                _ => "经审核不符合理赔条件",
            };
            let event = ClaimRejected {
                claim_number: number.clone(),
                customer_id,
                reason,
                explanation: text(explanation),
            };
            self.emit(self.now, &handler, Some(customer), event);
            if reason != ClaimRejectionReason::WithdrawnByCustomer {
                self.experience(customer, -1.2);
                if self.rng.chance(0.45) {
                    let day = self.today() + self.rng.range(0, 4);
                    self.complaint_on(customer, day, None, Some(number.clone()));
                }
            }
        } else {
            let deductible = if self.rng.chance(0.3) {
                assessed / 20
            } else {
                0
            };
            let amount = (assessed - deductible).max(fen(100));
            let payee = if direct_payment {
                Payee {
                    kind: PayeeKind::RepairShop,
                    name: person_name(REPAIRERS[self.rng.index(REPAIRERS.len())]),
                }
            } else if kind == LossKind::Injury && self.rng.chance(0.5) {
                Payee {
                    kind: PayeeKind::Hospital,
                    name: person_name("吉林大学第一医院"),
                }
            } else {
                let name = self
                    .customer(customer)
                    .name
                    .clone()
                    .unwrap_or_else(|| person_name("被保险人"));
                Payee {
                    kind: PayeeKind::Insured,
                    name,
                }
            };
            let event = ClaimSettled {
                claim_number: number.clone(),
                customer_id,
                amount: Money::from_fen(amount),
                payee,
                direct_payment,
            };
            self.emit(self.now, &handler, Some(customer), event);
            self.experience(customer, if late { -0.7 } else { 0.15 });
            if late && self.rng.chance(0.3) {
                let day = self.today() + self.rng.range(0, 3);
                self.complaint_on(customer, day, None, Some(number.clone()));
            }
            if self.rng.chance(0.4) {
                let mut plan = ContactPlan::new(
                    customer,
                    if self.customer(customer).wechat {
                        Channel::WeChat
                    } else {
                        Channel::Phone
                    },
                    Direction::Outbound,
                    Topic::Payment,
                    summaries::CLAIM_FOLLOW_UP[2],
                    ContactOutcome::Resolved,
                    clock::business_moment_after(&mut self.rng, self.now + 10 * MINUTE),
                );
                plan.claim = Some(number);
                self.record_contact(plan);
            }
        }
        let reopen_share = if reject { 0.08 } else { 0.02 };
        let will_reopen = !reopened && self.rare(reopen_share, Rare::ClaimReopening);
        let call = !reopened && !reject && self.rng.chance(0.7);
        self.claim(slot).will_reopen = will_reopen;
        if !will_reopen {
            // Final: no longer an open matter, though a satisfaction call may still follow.
            let record = self.customer_mut(customer);
            record.open_matters = record.open_matters.saturating_sub(1);
        }
        if call {
            let at = self.business_moment_in(1, 3);
            self.claim(slot).stage = ClaimStage::SatisfactionCall;
            self.schedule(at, Action::ClaimStep(slot));
        } else if will_reopen {
            let at = self.business_moment_in(10, 60);
            self.claim(slot).stage = ClaimStage::Reopen;
            self.schedule(at, Action::ClaimStep(slot));
        } else {
            self.claims.remove(slot);
        }
    }

    fn claim_satisfaction(&mut self, slot: u32) {
        let claim = self.claim(slot);
        let (customer, will_reopen) = (claim.customer, claim.will_reopen);
        let summary = summaries::SURVEY_CALL[0];
        self.survey_call(customer, self.now, summary, true, None);
        if will_reopen {
            let at = self.business_moment_in(10, 60);
            self.claim(slot).stage = ClaimStage::Reopen;
            self.schedule(at, Action::ClaimStep(slot));
        } else {
            self.claims.remove(slot);
        }
    }

    fn reopen_claim(&mut self, slot: u32) {
        let claim = self.claim(slot);
        let (number, customer) = (claim.number.clone(), claim.customer);
        let event = ClaimReopened {
            claim_number: number,
            customer_id: self.customer(customer).id,
            reason: text("维修时发现隐蔽损失，客户申请补充定损"),
        };
        let handlers = &self.staff.claims_handlers;
        let handler = handlers[self.rng.index(handlers.len())].clone();
        self.emit(self.now, &handler, Some(customer), event);
        let claim = self.claim(slot);
        claim.reopened = true;
        claim.will_reopen = false;
        claim.reject = false;
        claim.late = false;
        claim.stage = ClaimStage::Survey;
        let at = self.business_moment_in(1, 5);
        self.schedule(at, Action::ClaimStep(slot));
    }
}

/// Everything a claim of this kind needs, asked for at once (一次性告知).
fn documents_for(kind: LossKind, corporate: bool, direct_payment: bool) -> Vec<ClaimDocument> {
    let mut documents = vec![
        ClaimDocument::ClaimForm,
        ClaimDocument::IdCard,
        ClaimDocument::DrivingLicence,
        ClaimDocument::VehicleLicence,
    ];
    match kind {
        LossKind::Theft => documents.push(ClaimDocument::PoliceReport),
        LossKind::Injury => documents.extend([
            ClaimDocument::AccidentCertificate,
            ClaimDocument::PoliceReport,
            ClaimDocument::MedicalRecords,
            ClaimDocument::MedicalInvoices,
        ]),
        LossKind::Parked => {
            documents.extend([ClaimDocument::PoliceReport, ClaimDocument::RepairInvoice])
        }
        LossKind::Glass => documents.push(ClaimDocument::RepairInvoice),
        _ => documents.extend([
            ClaimDocument::AccidentCertificate,
            ClaimDocument::RepairEstimate,
        ]),
    }
    documents.push(ClaimDocument::Photos);
    if !direct_payment {
        documents.push(ClaimDocument::BankAccount);
    }
    if corporate {
        documents.push(ClaimDocument::PowerOfAttorney);
    }
    documents
}
