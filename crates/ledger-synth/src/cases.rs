//! Service cases of every kind with their deadlines: opened, assigned, sometimes escalated,
//! resolved (mostly within the deadline), closed, now and then reopened; risk surveys with
//! numbered recommendations followed up until their due dates pass.

use ledger_domain::events::{
    RiskRecommendationFollowedUp, RiskSurveyCompleted, ServiceCaseAssigned, ServiceCaseClosed,
    ServiceCaseEscalated, ServiceCaseOpened, ServiceCaseReopened, ServiceCaseResolved,
};
use ledger_domain::ids::{CaseId, ContactId, StaffId};
use ledger_domain::kinds::{Priority, RecommendationStatus, RiskRecommendation, ServiceCaseKind};
use ledger_domain::values::{Channel, ClaimNumber, Direction, PolicyNumber, Topic};

use crate::clock::{self, DAY, HOUR, MINUTE};
use crate::contacts::ContactPlan;
use crate::rng::{round_clamped, to_f64};
use crate::world::{Action, Case, CaseStage, Rare, World, small, text};

/// What opens a case.
#[derive(Debug, Clone)]
pub(crate) struct CaseSpec {
    pub(crate) customer: u32,
    pub(crate) kind: ServiceCaseKind,
    pub(crate) priority: Priority,
    pub(crate) subject: &'static str,
    pub(crate) channel: Channel,
    pub(crate) at: i64,
    pub(crate) policy: Option<PolicyNumber>,
    pub(crate) claim: Option<ClaimNumber>,
    pub(crate) contact: Option<ContactId>,
}

/// How long each kind of case may take: working hours promised, or a clock time for the
/// round-the-clock rescue and the months-long risk survey.
enum Deadline {
    WorkingHours(u16),
    Clock(i64),
}

fn deadline_of(kind: ServiceCaseKind) -> Deadline {
    match kind {
        ServiceCaseKind::Consultation => Deadline::WorkingHours(8),
        ServiceCaseKind::Complaint => Deadline::WorkingHours(24),
        ServiceCaseKind::Rescue24h => Deadline::Clock(90 * MINUTE),
        ServiceCaseKind::FastSurvey => Deadline::WorkingHours(4),
        ServiceCaseKind::SmallClaimFastPayout | ServiceCaseKind::AdvancePayment => {
            Deadline::WorkingHours(24)
        }
        ServiceCaseKind::FourSRepair
        | ServiceCaseKind::DirectPayment
        | ServiceCaseKind::ItemisedPayment => Deadline::WorkingHours(40),
        ServiceCaseKind::Subrogation => Deadline::WorkingHours(176),
        ServiceCaseKind::RiskSurvey => Deadline::Clock(150 * DAY),
    }
}

fn raise(priority: Priority) -> Priority {
    match priority {
        Priority::Low => Priority::Normal,
        Priority::Normal => Priority::High,
        Priority::High | Priority::Urgent => Priority::Urgent,
    }
}

/// What the assignee wrote when resolving, by kind.
fn resolution(kind: ServiceCaseKind) -> &'static str {
    match kind {
        ServiceCaseKind::Consultation => "已电话答复客户咨询，客户无异议",
        ServiceCaseKind::Complaint => "核实情况后向客户致歉并说明处理结果，客户接受",
        ServiceCaseKind::Rescue24h => "救援车辆已到场，车辆拖至合作维修厂",
        ServiceCaseKind::FastSurvey => "视频查勘完成，定损结果已告知客户",
        ServiceCaseKind::SmallClaimFastPayout => "小额案件资料齐全，赔款已快速支付",
        ServiceCaseKind::FourSRepair => "车辆已安排至品牌4S店专修",
        ServiceCaseKind::DirectPayment => "与修理厂直接结算，客户无需垫付",
        ServiceCaseKind::AdvancePayment => "已按核定金额预付部分赔款",
        ServiceCaseKind::ItemisedPayment => "已按项目分项赔付，客户确认",
        ServiceCaseKind::Subrogation => "已向责任方代位追偿，客户先行获赔",
        ServiceCaseKind::RiskSurvey => "风险查勘报告及整改意见已交付客户，整改跟踪完成",
    }
}

const RISK_FINDINGS: &[&str] = &[
    "车队停车场消防通道被占用，部分车辆轮胎磨损超标",
    "驾驶员疲劳驾驶管理制度缺失，夜间长途运输比例高",
    "车辆例行保养记录不全，制动系统检查间隔过长",
    "冬季防滑链及雪地胎配备不足",
];

const RISK_RECOMMENDATIONS: &[&str] = &[
    "清理消防通道并设置禁停标识",
    "更换磨损超标轮胎并建立月度检查",
    "建立驾驶员连续驾驶时长登记制度",
    "每季度开展一次安全驾驶培训",
    "入冬前为全部车辆配备雪地胎",
    "安装车载监控并接入调度平台",
];

impl World {
    /// Opens a case: `ServiceCaseOpened` at `spec.at`, then the case runs its course.
    pub(crate) fn open_case(&mut self, spec: CaseSpec) -> Option<CaseId> {
        if !self.is_live(spec.customer) {
            return None;
        }
        let opened_at = spec.at.max(self.now);
        let (deadline, deadline_working_hours) = match deadline_of(spec.kind) {
            Deadline::WorkingHours(hours) => (
                clock::add_working_hours(opened_at, i64::from(hours)),
                Some(hours),
            ),
            Deadline::Clock(seconds) => (opened_at + seconds, None),
        };
        let case_id = CaseId::from_uuid(self.uuid(opened_at));
        let event = ServiceCaseOpened {
            case_id,
            customer_id: self.customer(spec.customer).id,
            kind: spec.kind,
            priority: spec.priority,
            subject: text(spec.subject),
            channel: spec.channel,
            deadline: clock::timestamp(deadline),
            deadline_working_hours,
            policy_number: spec.policy,
            claim_number: spec.claim,
            contact_id: spec.contact,
        };
        let actor = self.staff.agent_on_duty(&mut self.rng, opened_at).clone();
        if !self.emit(opened_at, &actor, Some(spec.customer), event) {
            return None;
        }
        let escalation_share = if spec.kind == ServiceCaseKind::Complaint {
            0.25
        } else {
            0.04
        };
        let case = Case {
            id: case_id,
            customer: spec.customer,
            kind: spec.kind,
            priority: spec.priority,
            opened_at,
            deadline,
            assignee: None,
            escalations: 0,
            stage: CaseStage::Assign,
            will_escalate: self.rare(escalation_share, Rare::CaseEscalation),
            will_reopen: self.rare(0.03, Rare::CaseReopening),
            reopened: false,
            late: self.rng.chance(if spec.kind == ServiceCaseKind::Complaint {
                0.15
            } else {
                0.09
            }),
            recommendations: 0,
            recommendation_due: Vec::new(),
        };
        self.customer_mut(spec.customer).open_matters += 1;
        let slot = self.cases.insert(case);
        let assign_after = if spec.kind == ServiceCaseKind::Rescue24h {
            self.rng.range(2 * MINUTE, 10 * MINUTE)
        } else {
            self.rng.range(5 * MINUTE, 90 * MINUTE)
        };
        self.schedule(opened_at + assign_after, Action::CaseStep(slot));
        Some(case_id)
    }

    fn assignee_for(&mut self, kind: ServiceCaseKind, at: i64) -> StaffId {
        let pool = match kind {
            ServiceCaseKind::Complaint => &self.staff.supervisors,
            ServiceCaseKind::Rescue24h | ServiceCaseKind::FastSurvey => &self.staff.surveyors,
            ServiceCaseKind::RiskSurvey => &self.staff.risk_engineers,
            ServiceCaseKind::Consultation => {
                return self.staff.agent_on_duty(&mut self.rng, at).clone();
            }
            _ => &self.staff.claims_handlers,
        };
        pool[self.rng.index(pool.len())].clone()
    }

    /// When a case opened at `opened_at` will be resolved: inside the deadline unless it is
    /// one of the late ones, and never before ten minutes from now.
    fn resolution_time(&mut self, late: bool, deadline: i64, opened_at: i64) -> i64 {
        let span = (deadline - opened_at).max(30 * MINUTE);
        let at = if late {
            deadline + self.rng.range(HOUR, 3 * DAY)
        } else {
            let share = 0.2 + 0.75 * self.rng.unit();
            opened_at + round_clamped(share * to_f64(span), 0, span - MINUTE)
        };
        at.max(self.now + 10 * MINUTE)
    }

    pub(crate) fn case_step(&mut self, slot: u32) {
        let Some(case) = self.cases.get_mut(slot) else {
            return;
        };
        let stage = case.stage;
        let customer = case.customer;
        if !self.is_live(customer) {
            return;
        }
        match stage {
            CaseStage::Assign => self.assign_case(slot),
            CaseStage::Escalate => self.escalate_case(slot),
            CaseStage::Survey => self.survey_risks(slot),
            CaseStage::FollowUp(number) => self.follow_up_recommendation(slot, number),
            CaseStage::Resolve => self.resolve_case(slot),
            CaseStage::Close => self.close_case(slot),
            CaseStage::Reopen => self.reopen_case(slot),
        }
    }

    fn with_case<R>(&mut self, slot: u32, read: impl FnOnce(&Case) -> R) -> R {
        let case = self.cases.get_mut(slot).expect("a scheduled case is open");
        read(case)
    }

    fn set_stage(&mut self, slot: u32, stage: CaseStage, at: i64) {
        if let Some(case) = self.cases.get_mut(slot) {
            case.stage = stage;
        }
        self.schedule(at, Action::CaseStep(slot));
    }

    fn assign_case(&mut self, slot: u32) {
        let (id, customer, kind, previous) = self.with_case(slot, |case| {
            (case.id, case.customer, case.kind, case.assignee.clone())
        });
        let assignee = self.assignee_for(kind, self.now);
        let event = ServiceCaseAssigned {
            case_id: id,
            customer_id: self.customer(customer).id,
            assignee: assignee.clone(),
            previous_assignee: previous,
        };
        let supervisor = self.staff.supervisors[0].clone();
        self.emit(self.now, &supervisor, Some(customer), event);
        let case = self.cases.get_mut(slot).expect("open case");
        case.assignee = Some(assignee);
        let (will_escalate, escalations, deadline, opened_at, late) = (
            case.will_escalate,
            case.escalations,
            case.deadline,
            case.opened_at,
            case.late,
        );
        if will_escalate && escalations == 0 {
            let midway = opened_at + (deadline - opened_at) / 2;
            self.set_stage(
                slot,
                CaseStage::Escalate,
                midway.max(self.now + 15 * MINUTE),
            );
        } else if kind == ServiceCaseKind::RiskSurvey {
            let visit = self.business_moment_in(3, 20);
            self.set_stage(slot, CaseStage::Survey, visit);
        } else {
            let resolve = self.resolution_time(late, deadline, opened_at);
            self.set_stage(slot, CaseStage::Resolve, resolve);
        }
    }

    fn escalate_case(&mut self, slot: u32) {
        let (id, customer, priority, deadline, escalations, kind) = self.with_case(slot, |case| {
            (
                case.id,
                case.customer,
                case.priority,
                case.deadline,
                case.escalations,
                case.kind,
            )
        });
        let escalated_to = if self.rng.chance(0.5) {
            let leads = &self.staff.team_leads;
            leads[self.rng.index(leads.len())].clone()
        } else {
            let supervisors = &self.staff.supervisors;
            supervisors[self.rng.index(supervisors.len())].clone()
        };
        let new_deadline = if self.rng.chance(0.5) {
            clock::add_working_hours(deadline.max(self.now), 8)
        } else {
            deadline
        };
        let event = ServiceCaseEscalated {
            case_id: id,
            customer_id: self.customer(customer).id,
            escalated_to: escalated_to.clone(),
            reason: text(if kind == ServiceCaseKind::Complaint {
                "客户情绪激动，要求上级主管处理"
            } else {
                "处理进度滞后，需协调其他部门"
            }),
            priority: raise(priority),
            deadline: clock::timestamp(new_deadline),
            level: escalations + 1,
        };
        let actor = self
            .with_case(slot, |case| case.assignee.clone())
            .unwrap_or(escalated_to);
        self.emit(self.now, &actor, Some(customer), event);
        let case = self.cases.get_mut(slot).expect("open case");
        case.escalations += 1;
        case.priority = raise(priority);
        case.deadline = new_deadline;
        let (late, opened) = (case.late, case.opened_at);
        let resolve = self.resolution_time(late, new_deadline, opened);
        self.set_stage(slot, CaseStage::Resolve, resolve);
    }

    fn survey_risks(&mut self, slot: u32) {
        let (id, customer, assignee) =
            self.with_case(slot, |case| (case.id, case.customer, case.assignee.clone()));
        let count = self.rng.range(2, 5);
        let mut recommendations = Vec::new();
        let mut due = Vec::new();
        let mut used = Vec::new();
        for number in 1..=count {
            let mut choice = self.rng.index(RISK_RECOMMENDATIONS.len());
            while used.contains(&choice) {
                choice = (choice + 1) % RISK_RECOMMENDATIONS.len();
            }
            used.push(choice);
            let due_day = self.today() + self.rng.range(30, 90);
            due.push(due_day);
            recommendations.push(RiskRecommendation {
                number: u16::try_from(number).unwrap_or(1),
                text: text(RISK_RECOMMENDATIONS[choice]),
                due_on: clock::date(due_day),
            });
        }
        let event = RiskSurveyCompleted {
            case_id: id,
            customer_id: self.customer(customer).id,
            surveyor: assignee
                .clone()
                .unwrap_or_else(|| self.staff.risk_engineers[0].clone()),
            findings: text(self.rng.pick::<&str>(RISK_FINDINGS)),
            recommendations,
        };
        let actor = assignee.unwrap_or_else(|| self.staff.risk_engineers[0].clone());
        self.emit(self.now, &actor, Some(customer), event);
        let first_due = due[0];
        let case = self.cases.get_mut(slot).expect("open case");
        case.recommendations = small(due.len()).try_into().unwrap_or(1);
        case.recommendation_due = due;
        let at = clock::business_moment_on(&mut self.rng, first_due + 1);
        self.set_stage(slot, CaseStage::FollowUp(1), at);
    }

    fn follow_up_recommendation(&mut self, slot: u32, number: u16) {
        let (id, customer, count, due) = self.with_case(slot, |case| {
            (
                case.id,
                case.customer,
                case.recommendations,
                case.recommendation_due.clone(),
            )
        });
        let status = self.rng.weighted_pick(&[
            (RecommendationStatus::Implemented, 55.0),
            (RecommendationStatus::InProgress, 25.0),
            (RecommendationStatus::NotStarted, 10.0),
            (RecommendationStatus::Declined, 10.0),
        ]);
        let note = match status {
            RecommendationStatus::Implemented => "回访确认已整改完成",
            RecommendationStatus::InProgress => "整改进行中，客户承诺月底前完成",
            RecommendationStatus::NotStarted => "客户尚未开始整改，已再次提醒",
            RecommendationStatus::Declined => "客户认为整改成本过高，暂不实施",
        };
        let manager = self.customer(customer).manager;
        let followed_up_by = match manager {
            Some(manager) => self.staff.managers[manager].id.clone(),
            None => self.staff.risk_engineers[0].clone(),
        };
        let event = RiskRecommendationFollowedUp {
            case_id: id,
            customer_id: self.customer(customer).id,
            recommendation: number,
            status,
            note: text(note),
            followed_up_by: followed_up_by.clone(),
        };
        self.emit(self.now, &followed_up_by, Some(customer), event);
        if number < count {
            let next_due = due[usize::from(number)].max(self.today());
            let at = clock::business_moment_on(&mut self.rng, next_due + 1);
            self.set_stage(slot, CaseStage::FollowUp(number + 1), at);
        } else {
            let at = self.business_moment_in(1, 5);
            self.set_stage(slot, CaseStage::Resolve, at);
        }
    }

    fn resolve_case(&mut self, slot: u32) {
        let (id, customer, kind, deadline, assignee) = self.with_case(slot, |case| {
            (
                case.id,
                case.customer,
                case.kind,
                case.deadline,
                case.assignee.clone(),
            )
        });
        let within_deadline = self.now <= deadline;
        let resolved_by = assignee.unwrap_or_else(|| self.staff.supervisors[0].clone());
        let event = ServiceCaseResolved {
            case_id: id,
            customer_id: self.customer(customer).id,
            resolved_by: resolved_by.clone(),
            resolution: text(resolution(kind)),
            within_deadline,
        };
        self.emit(self.now, &resolved_by, Some(customer), event);
        self.experience(customer, if within_deadline { 0.1 } else { -0.5 });
        if matches!(
            kind,
            ServiceCaseKind::Complaint | ServiceCaseKind::Consultation
        ) && self.rng.chance(0.5)
        {
            let mut plan = ContactPlan::new(
                customer,
                Channel::Phone,
                Direction::Outbound,
                Topic::Feedback,
                "向客户反馈工单处理结果",
                ledger_domain::kinds::ContactOutcome::Resolved,
                self.now + 2 * MINUTE,
            );
            plan.case = Some(id);
            plan.agent = Some(resolved_by);
            self.record_contact(plan);
        }
        let surveyed = matches!(
            kind,
            ServiceCaseKind::Complaint | ServiceCaseKind::Consultation | ServiceCaseKind::Rescue24h
        );
        if surveyed && self.rng.chance(0.4) {
            let at = self.business_moment_in(1, 4);
            let summary = crate::names::summaries::SURVEY_CALL[1];
            self.survey_call(customer, at, summary, false, None);
        }
        let at = self.business_moment_in(1, 5);
        self.set_stage(slot, CaseStage::Close, at);
    }

    fn close_case(&mut self, slot: u32) {
        let (id, customer, will_reopen, reopened) = self.with_case(slot, |case| {
            (case.id, case.customer, case.will_reopen, case.reopened)
        });
        let closed_by =
            self.staff.supervisors[self.rng.index(self.staff.supervisors.len())].clone();
        let event = ServiceCaseClosed {
            case_id: id,
            customer_id: self.customer(customer).id,
            closed_by: closed_by.clone(),
            customer_confirmed: self.rng.chance(0.72),
        };
        self.emit(self.now, &closed_by, Some(customer), event);
        if will_reopen && !reopened {
            let at = self.business_moment_in(3, 20);
            self.set_stage(slot, CaseStage::Reopen, at);
        } else {
            self.finish_case(slot);
        }
    }

    fn reopen_case(&mut self, slot: u32) {
        let (id, customer) = self.with_case(slot, |case| (case.id, case.customer));
        let deadline = clock::add_working_hours(self.now, 16);
        let event = ServiceCaseReopened {
            case_id: id,
            customer_id: self.customer(customer).id,
            reason: text("客户来电表示问题未彻底解决，要求重新处理"),
            deadline: clock::timestamp(deadline),
        };
        let actor = self.staff.agent_on_duty(&mut self.rng, self.now).clone();
        self.emit(self.now, &actor, Some(customer), event);
        self.experience(customer, -0.3);
        let late = self.rng.chance(0.15);
        let case = self.cases.get_mut(slot).expect("open case");
        case.reopened = true;
        case.opened_at = self.now;
        case.deadline = deadline;
        case.late = late;
        let resolve = self.resolution_time(late, deadline, self.now);
        self.set_stage(slot, CaseStage::Resolve, resolve);
    }

    fn finish_case(&mut self, slot: u32) {
        if let Some(case) = self.cases.remove(slot) {
            let customer = self.customer_mut(case.customer);
            customer.open_matters = customer.open_matters.saturating_sub(1);
        }
    }
}
