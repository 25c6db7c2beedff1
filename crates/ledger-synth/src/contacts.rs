//! Contacts on every channel, the satisfaction answers that follow some of them, and
//! complaints, which cluster among dissatisfied customers because their likelihood grows as
//! the customer's mood falls.

use ledger_domain::events::{ContactRecorded, SatisfactionRecorded};
use ledger_domain::ids::{CampaignId, CaseId, ContactId, EnquiryId, StaffId};
use ledger_domain::kinds::{ContactOutcome, Priority, ServiceCaseKind};
use ledger_domain::values::{
    Channel, ClaimNumber, Csat, Direction, FreeText, Nps, PolicyNumber, Topic,
};

use crate::clock::{self, MINUTE};
use crate::names::summaries;
use crate::rng::{self, round_clamped};
use crate::world::{Rare, World, text};

/// What a contact is about and how it went; the agent, time and length are filled in by
/// [`World::record_contact`] from the channel unless given.
#[derive(Debug, Clone)]
pub(crate) struct ContactPlan {
    pub(crate) customer: u32,
    pub(crate) channel: Channel,
    pub(crate) direction: Direction,
    pub(crate) topic: Topic,
    pub(crate) summary: &'static str,
    pub(crate) outcome: ContactOutcome,
    /// When the contact starts; must not be before now.
    pub(crate) at: i64,
    pub(crate) agent: Option<StaffId>,
    pub(crate) policy: Option<PolicyNumber>,
    pub(crate) claim: Option<ClaimNumber>,
    pub(crate) case: Option<CaseId>,
    pub(crate) campaign: Option<CampaignId>,
    pub(crate) enquiry: Option<EnquiryId>,
}

impl ContactPlan {
    pub(crate) fn new(
        customer: u32,
        channel: Channel,
        direction: Direction,
        topic: Topic,
        summary: &'static str,
        outcome: ContactOutcome,
        at: i64,
    ) -> Self {
        Self {
            customer,
            channel,
            direction,
            topic,
            summary,
            outcome,
            at,
            agent: None,
            policy: None,
            claim: None,
            case: None,
            campaign: None,
            enquiry: None,
        }
    }
}

/// A recorded contact: its id, who handled it and when it ended.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) id: ContactId,
    pub(crate) agent: StaffId,
    pub(crate) ended_at: i64,
}

/// Channels customers reach the insurer on for their own reasons, with their shares.
/// Phone and WeChat carry most; fax and post survive for companies and older customers.
const INDIVIDUAL_CHANNELS: &[(Channel, f64)] = &[
    (Channel::Phone, 31.0),
    (Channel::WeChat, 33.0),
    (Channel::App, 11.0),
    (Channel::Web, 8.0),
    (Channel::WalkIn, 8.0),
    (Channel::SelfServiceTerminal, 5.0),
    (Channel::Email, 3.0),
    (Channel::Post, 0.6),
    (Channel::Fax, 0.2),
];

const CORPORATE_CHANNELS: &[(Channel, f64)] = &[
    (Channel::Phone, 40.0),
    (Channel::WeChat, 22.0),
    (Channel::Email, 16.0),
    (Channel::WalkIn, 8.0),
    (Channel::Web, 5.0),
    (Channel::App, 3.0),
    (Channel::Fax, 3.0),
    (Channel::Post, 3.0),
];

impl World {
    /// A channel a customer of this kind would choose for their own contact.
    pub(crate) fn inbound_channel(&mut self, customer: u32) -> Channel {
        let customer = self.customer(customer);
        let (corporate, wechat, app) = (
            customer.segment.is_corporate(),
            customer.wechat,
            customer.app,
        );
        let table = if corporate {
            CORPORATE_CHANNELS
        } else {
            INDIVIDUAL_CHANNELS
        };
        let channel = self.rng.weighted_pick(table);
        match channel {
            Channel::WeChat if !wechat => Channel::Phone,
            Channel::App if !app => Channel::Web,
            other => other,
        }
    }

    /// Whether a contact on `channel` at `at` is handled by a person (otherwise a system).
    fn handler(&mut self, channel: Channel, at: i64) -> StaffId {
        let systems = &self.staff.systems;
        match channel {
            Channel::Web => systems.web.clone(),
            Channel::App => systems.app.clone(),
            Channel::SelfServiceTerminal => systems.terminal.clone(),
            Channel::WeChat if !clock::in_business_hours(at) => systems.wechat.clone(),
            Channel::WalkIn => {
                let hall = &self.staff.hall;
                hall[self.rng.index(hall.len())].clone()
            }
            _ => self.staff.agent_on_duty(&mut self.rng, at).clone(),
        }
    }

    /// The moment a customer-initiated contact on `channel` happens on `day`: business hours
    /// for people, any waking hour for self-service.
    pub(crate) fn contact_moment_on(&mut self, channel: Channel, day: i64) -> i64 {
        let at = match channel {
            Channel::Web | Channel::App | Channel::SelfServiceTerminal => {
                clock::self_service_moment_on(&mut self.rng, day)
            }
            Channel::WeChat if self.rng.chance(0.3) => {
                clock::self_service_moment_on(&mut self.rng, day)
            }
            _ => clock::business_moment_on(&mut self.rng, day),
        };
        at.max(self.now)
    }

    fn duration_seconds(&mut self, channel: Channel, outcome: ContactOutcome) -> u32 {
        if outcome == ContactOutcome::NoAnswer {
            return u32::try_from(self.rng.range(15, 45)).unwrap_or(30);
        }
        let (median, maximum) = match channel {
            Channel::Phone => (240.0, 2_400),
            Channel::WeChat => (420.0, 3_600),
            Channel::WalkIn => (900.0, 5_400),
            Channel::Web | Channel::App | Channel::SelfServiceTerminal => (150.0, 1_800),
            Channel::Email | Channel::Fax | Channel::Post => (360.0, 3_600),
        };
        let seconds = round_clamped(self.rng.log_normal(median, 0.55), 20, maximum);
        u32::try_from(seconds).unwrap_or(300)
    }

    /// Records a contact: `ContactRecorded` when it ends; now and then a correction a day or
    /// two later, and a one-question CSAT after chat conversations. `None` when the contact
    /// would end after the history does or the customer is gone.
    pub(crate) fn record_contact(&mut self, plan: ContactPlan) -> Option<Recorded> {
        if !self.is_live(plan.customer) {
            return None;
        }
        let started = plan.at.max(self.now);
        let agent = match plan.agent {
            Some(agent) => agent,
            None => self.handler(plan.channel, started),
        };
        let duration = self.duration_seconds(plan.channel, plan.outcome);
        let ended = started + i64::from(duration);
        let contact_id = ContactId::from_uuid(self.uuid(started));
        let contact = ContactRecorded {
            contact_id,
            customer_id: self.customer(plan.customer).id,
            channel: plan.channel,
            direction: plan.direction,
            agent: agent.clone(),
            started_at: clock::timestamp(started),
            duration_seconds: duration,
            topic: plan.topic,
            summary: text(plan.summary),
            outcome: plan.outcome,
            policy_number: plan.policy,
            claim_number: plan.claim,
            case_id: plan.case,
            campaign_id: plan.campaign,
            enquiry_id: plan.enquiry,
        };
        let by_person = !agent.as_str().starts_with("system:");
        let correct = by_person && self.rare(0.004, Rare::ContactCorrection);
        let correction = correct.then(|| contact.clone());
        if !self.emit(ended, &agent, Some(plan.customer), contact) {
            return None;
        }
        if let Some(original) = correction {
            let reason = *self.rng.pick(summaries::CORRECTION_REASONS);
            let corrected_duration =
                duration + u32::try_from(self.rng.range(20, 240)).unwrap_or(60);
            let corrected = ledger_domain::events::ContactCorrected {
                duration_seconds: corrected_duration,
                ..original.corrected(text(reason))
            };
            let at = clock::business_moment_after(&mut self.rng, ended + clock::HOUR);
            let quality = self.staff.quality.clone();
            self.emit(at, &quality, Some(plan.customer), corrected);
        }
        let chat = matches!(plan.channel, Channel::WeChat | Channel::App);
        if by_person && chat && plan.outcome != ContactOutcome::NoAnswer && self.rng.chance(0.12) {
            let at = ended + self.rng.range(MINUTE, 30 * MINUTE);
            if plan.topic == Topic::Feedback {
                // A survey contact gets its one answer from `survey_call` (a contact takes one
                // satisfaction answer); the answer and its event id are still drawn, so the
                // seed's later draws stay as they were.
                self.draw_answer(plan.customer, false);
                self.skip_emit(at);
            } else {
                let survey = self.staff.systems.survey.clone();
                self.satisfaction(plan.customer, Some(contact_id), at, false, &survey);
            }
        }
        Some(Recorded {
            id: contact_id,
            agent,
            ended_at: ended,
        })
    }

    /// A satisfaction answer drawn from the customer's mood (see [`Self::draw_answer`]).
    /// Returns the CSAT given, if the answer is inside the history.
    pub(crate) fn satisfaction(
        &mut self,
        customer: u32,
        contact: Option<ContactId>,
        at: i64,
        with_nps: bool,
        actor: &StaffId,
    ) -> Option<u8> {
        let (csat, nps, comment) = self.draw_answer(customer, with_nps);
        let event = SatisfactionRecorded {
            customer_id: self.customer(customer).id,
            contact_id: contact,
            csat: Some(csat),
            nps,
            comment,
        };
        self.emit(at, actor, Some(customer), event)
            .then(|| csat.get())
    }

    /// A satisfaction answer from the customer's mood: CSAT around the mood, NPS following
    /// CSAT, and now and then a comment.
    fn draw_answer(
        &mut self,
        customer: u32,
        with_nps: bool,
    ) -> (Csat, Option<Nps>, Option<FreeText>) {
        let mood = self.customer(customer).mood;
        let csat_score = round_clamped(mood + 0.75 * self.rng.normal(), 1, 5);
        let nps_score = round_clamped(
            2.0 * rng::float(u32::try_from(csat_score).unwrap_or(3)) - 0.6
                + 1.2 * self.rng.normal(),
            0,
            10,
        );
        let csat = Csat::parse("csat", csat_score).expect("clamped to 1..=5");
        let nps = with_nps.then(|| Nps::parse("nps", nps_score).expect("clamped to 0..=10"));
        let comment = match csat_score {
            1 | 2 if self.rng.chance(0.6) => Some(text(self.rng.pick::<&str>(&[
                "处理太慢，多次催促才有回复",
                "定损金额不合理",
                "客服态度一般，问题没解决",
                "理赔资料反复要求补充",
            ]))),
            5 if self.rng.chance(0.3) => Some(text(self.rng.pick::<&str>(&[
                "处理及时，态度很好",
                "查勘员专业耐心",
                "理赔速度比预期快",
            ]))),
            _ => None,
        };
        (csat, nps, comment)
    }

    /// An outbound survey call and the answer, if the customer picks up.
    pub(crate) fn survey_call(
        &mut self,
        customer: u32,
        at: i64,
        summary: &'static str,
        with_nps: bool,
        agent: Option<StaffId>,
    ) -> Option<u8> {
        let answered = self.rng.chance(0.75);
        let outcome = if answered {
            ContactOutcome::Resolved
        } else {
            ContactOutcome::NoAnswer
        };
        // WeChat users often get the questionnaire as a WeChat message instead of a call.
        let channel = if agent.is_none() && self.customer(customer).wechat && self.rng.chance(0.4) {
            Channel::WeChat
        } else {
            Channel::Phone
        };
        let mut plan = ContactPlan::new(
            customer,
            channel,
            Direction::Outbound,
            Topic::Feedback,
            summary,
            outcome,
            at,
        );
        plan.agent = agent;
        let recorded = self.record_contact(plan)?;
        if !answered {
            return None;
        }
        let csat = self.satisfaction(
            customer,
            Some(recorded.id),
            recorded.ended_at + MINUTE,
            with_nps,
            &recorded.agent,
        )?;
        if csat <= 2 && self.rng.chance(0.3) {
            let day = clock::local_day(recorded.ended_at) + self.rng.range(0, 3);
            self.complaint_on(customer, day, None, None);
        }
        Some(csat)
    }

    /// A complaint on `day` (or the next service day): the contact and the complaint case.
    pub(crate) fn complaint_on(
        &mut self,
        customer: u32,
        day: i64,
        policy: Option<PolicyNumber>,
        claim: Option<ClaimNumber>,
    ) {
        if !self.is_live(customer) {
            return;
        }
        let channel = self.rng.weighted_pick(&[
            (Channel::Phone, 62.0),
            (Channel::WeChat, 18.0),
            (Channel::Email, 7.0),
            (Channel::WalkIn, 7.0),
            (Channel::Post, 4.0),
            (Channel::Fax, 2.0),
        ]);
        let at = clock::business_moment_on(&mut self.rng, day).max(self.now);
        let summary = *self.rng.pick(summaries::COMPLAINT);
        let mut plan = ContactPlan::new(
            customer,
            channel,
            Direction::Inbound,
            Topic::Complaint,
            summary,
            ContactOutcome::FollowUpNeeded,
            at,
        );
        plan.policy = policy.clone();
        plan.claim = claim.clone();
        let Some(recorded) = self.record_contact(plan) else {
            return;
        };
        self.experience(customer, -0.1);
        let priority = if self.rng.chance(0.3) {
            Priority::High
        } else {
            Priority::Normal
        };
        self.open_case(crate::cases::CaseSpec {
            customer,
            kind: ServiceCaseKind::Complaint,
            priority,
            subject: summary,
            channel,
            at: recorded.ended_at + MINUTE,
            policy,
            claim,
            contact: Some(recorded.id),
        });
    }
}
