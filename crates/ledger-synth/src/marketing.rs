//! Marketing: the yearly campaign calendar (plan → execution → feedback: budget, costs,
//! touches, responses and the premium won), and web-shop leads that the call centre calls
//! back, some of which nobody ever calls back.

use ledger_domain::events::{
    CampaignClosed, CampaignCostIncurred, CampaignLaunched, CampaignResponded, CampaignTouchSent,
    CustomerRegistered,
};
use ledger_domain::ids::{CampaignId, CustomerId, EnquiryId};
use ledger_domain::kinds::{CampaignResponse, ContactOutcome, CostCategory, SegmentName, Title};
use ledger_domain::values::{Channel, Direction, IdentifierKind, Money, Topic};

use crate::clock::{self, DAY, HOUR, MINUTE};
use crate::contacts::ContactPlan;
use crate::issuer::identifier;
use crate::names::{self, REGIONS, summaries};
use crate::rng::{float, round_clamped, to_f64};
use crate::world::{
    Action, Campaign, Customer, Enquiry, PolicyStatus, Rare, Segment, Status, World, channel_bit,
    days, fen, person_name, small, text,
};

/// A campaign the marketing department runs every year.
struct Template {
    name: &'static str,
    month: i64,
    day: i64,
    length_days: i64,
    segment: &'static str,
    channels: &'static [Channel],
    /// Share of eligible customers touched.
    reach: f64,
    description: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template {
        name: "春季续保关怀",
        month: 3,
        day: 1,
        length_days: 61,
        segment: "renewal-due-30d",
        channels: &[Channel::Phone, Channel::WeChat, Channel::App],
        reach: 0.7,
        description: "到期前 30 天电话与微信提醒续保，续保送免费洗车",
    },
    Template {
        name: "新能源车险推广",
        month: 4,
        day: 15,
        length_days: 45,
        segment: "potential-value",
        channels: &[Channel::App, Channel::WeChat, Channel::Email],
        reach: 0.3,
        description: "新能源车主专属保障方案推广",
    },
    Template {
        name: "集团员工专享车险",
        month: 5,
        day: 10,
        length_days: 50,
        segment: "group-customers",
        channels: &[Channel::WeChat, Channel::Email, Channel::Phone],
        reach: 0.6,
        description: "面向一汽集团成员单位员工的专属费率与增值服务",
    },
    Template {
        name: "流失客户挽回",
        month: 7,
        day: 1,
        length_days: 62,
        segment: "at-risk",
        channels: &[Channel::Phone, Channel::Post],
        reach: 0.6,
        description: "对未续保及满意度偏低客户回访，了解原因并提供续保优惠",
    },
    Template {
        name: "金九银十新车季",
        month: 9,
        day: 1,
        length_days: 61,
        segment: "potential-value",
        channels: &[Channel::Phone, Channel::WeChat, Channel::Email],
        reach: 0.35,
        description: "新车购置旺季，向老客户推荐家庭第二辆车投保",
    },
    Template {
        name: "冬季安全检测",
        month: 11,
        day: 10,
        length_days: 40,
        segment: "key-accounts",
        channels: &[Channel::Phone, Channel::WeChat, Channel::Email],
        reach: 0.8,
        description: "为大客户车队提供入冬前免费安全检测与防滑培训",
    },
];

/// What one touch costs on each channel, in yuan.
fn touch_cost_yuan(channel: Channel) -> i64 {
    match channel {
        Channel::Phone => 8,
        Channel::Post => 6,
        _ => 1,
    }
}

impl World {
    /// Plans every campaign whose launch falls inside the history.
    pub(crate) fn plan_campaigns(&mut self) {
        let first_day = clock::local_day(self.start);
        let last_day = clock::local_day(self.end);
        let (first_year, _, _) = clock::civil(first_day);
        let (last_year, _, _) = clock::civil(last_day);
        for year in first_year..=last_year {
            for (template_index, template) in TEMPLATES.iter().enumerate() {
                let start_day = clock::day_number(year, template.month, template.day);
                let launch_day = start_day - self.rng.range(3, 10);
                if launch_day <= first_day || launch_day > last_day {
                    continue;
                }
                let at = clock::business_moment_on(&mut self.rng, launch_day);
                let id = CampaignId::from_uuid(self.uuid(at));
                let owner = self.rng.index(self.staff.marketers.len());
                self.campaigns.push(Campaign {
                    id,
                    template: template_index,
                    year,
                    start_day,
                    end_day: start_day + template.length_days - 1,
                    budget: 0,
                    cost: 0,
                    touches: 0,
                    touches_since_cost: 0,
                    responses: 0,
                    premium_won: 0,
                    launched: false,
                    closed: false,
                    owner,
                });
                let campaign = u16::try_from(self.campaigns.len() - 1).expect("few campaigns");
                self.schedule(at, Action::CampaignLaunch(campaign));
            }
        }
    }

    /// Whether a customer belongs to a campaign's target segment now.
    fn eligible(&self, customer: &Customer, segment: &str, start_day: i64, end_day: i64) -> bool {
        if customer.status != Status::Live {
            return false;
        }
        match segment {
            "renewal-due-30d" => customer.policies.iter().any(|&policy| {
                let record = self.policy(policy);
                record.status == PolicyStatus::Active
                    && (start_day..=end_day + 30).contains(&record.end_day)
            }),
            "potential-value" => {
                !customer.segment.is_corporate()
                    && customer.mood >= 3.5
                    && customer.vehicles.len() <= 1
            }
            "group-customers" => customer.segment.is_group(),
            "at-risk" => {
                customer.segment != Segment::Duplicate
                    && (customer.mood < 3.2
                        || (customer.active_policies == 0 && !customer.policies.is_empty()))
            }
            "key-accounts" => customer.segment.is_corporate(),
            _ => false,
        }
    }

    pub(crate) fn launch_campaign(&mut self, campaign: u16) {
        let record = &self.campaigns[usize::from(campaign)];
        let template = &TEMPLATES[record.template];
        let (start_day, end_day, year) = (record.start_day, record.end_day, record.year);
        let targets: Vec<u32> = self
            .customers
            .iter()
            .enumerate()
            .filter(|(_, customer)| self.eligible(customer, template.segment, start_day, end_day))
            .map(|(index, _)| small(index))
            .collect();
        let unit = touch_cost_yuan(template.channels[0]);
        let expected_touches = round_clamped(
            float(small(targets.len())) * template.reach,
            0,
            i64::MAX / 4,
        );
        let budget_yuan = 20_000
            + round_clamped(
                to_f64(expected_touches * unit * 3) * (0.8 + 0.5 * self.rng.unit()),
                0,
                i64::MAX / 4,
            );
        let owner = self.staff.marketers[record.owner].clone();
        let event = CampaignLaunched {
            campaign_id: record.id,
            name: Title::parse("name", &format!("{year} {}", template.name)).expect("short names"),
            budget: Money::from_fen(fen(budget_yuan)),
            channels: template.channels.to_vec(),
            target_segment: SegmentName::parse("targetSegment", template.segment)
                .expect("kebab-case names"),
            period_start: clock::date(start_day),
            period_end: clock::date(end_day),
            owner: owner.clone(),
            description: Some(text(template.description)),
        };
        if !self.emit(self.now, &owner, None, event) {
            return;
        }
        let record = &mut self.campaigns[usize::from(campaign)];
        record.launched = true;
        record.budget = fen(budget_yuan);
        let media = round_clamped(
            to_f64(budget_yuan) * (0.1 + 0.2 * self.rng.unit()),
            1_000,
            i64::MAX / 4,
        );
        self.incur_cost(
            campaign,
            fen(media),
            CostCategory::Media,
            "活动物料设计与媒体投放",
            self.now + HOUR,
        );
        for target in targets {
            if self.rng.chance(template.reach) {
                let day = start_day + self.rng.range(0, (end_day - start_day - 3).max(0));
                let at = clock::business_moment_on(&mut self.rng, day).max(self.now + DAY);
                self.schedule(at, Action::CampaignTouch(campaign, target));
            }
        }
        let first_cost = clock::business_moment_on(&mut self.rng, start_day + 7);
        self.schedule(first_cost, Action::CampaignCost(campaign));
        let close_day = end_day + self.rng.range(2, 7);
        let close = clock::business_moment_on(&mut self.rng, close_day);
        self.schedule(close, Action::CampaignClose(campaign));
    }

    fn incur_cost(
        &mut self,
        campaign: u16,
        amount: i64,
        category: CostCategory,
        description: &str,
        at: i64,
    ) {
        if amount <= 0 {
            return;
        }
        let record = &self.campaigns[usize::from(campaign)];
        let total = record.cost + amount;
        let event = CampaignCostIncurred {
            campaign_id: record.id,
            amount: Money::from_fen(amount),
            category,
            description: text(description),
            total_cost: Money::from_fen(total),
            over_budget: total > record.budget,
        };
        let owner = self.staff.marketers[record.owner].clone();
        if self.emit(at, &owner, None, event) {
            let record = &mut self.campaigns[usize::from(campaign)];
            record.cost = total;
            record.touches_since_cost = 0;
        }
    }

    /// A week's costs: the touches made, the staff, now and then gifts.
    pub(crate) fn campaign_cost(&mut self, campaign: u16) {
        let record = &self.campaigns[usize::from(campaign)];
        if record.closed {
            return;
        }
        let template = &TEMPLATES[record.template];
        let unit = touch_cost_yuan(template.channels[0]);
        let touches = i64::try_from(record.touches_since_cost).unwrap_or(0);
        let end_day = record.end_day;
        let (category, description, amount) = match self.rng.index(3) {
            0 => (
                CostCategory::Telemarketing,
                "本周外呼及短信费用",
                touches * unit + self.rng.range(200, 1_500),
            ),
            1 => (
                CostCategory::Staff,
                "活动人员加班及绩效奖励",
                touches * unit + self.rng.range(1_000, 5_000),
            ),
            _ => (
                CostCategory::Gifts,
                "客户礼品（洗车券、保养券）",
                touches * 12 + self.rng.range(500, 3_000),
            ),
        };
        self.incur_cost(campaign, fen(amount), category, description, self.now);
        let next = self.today() + 7;
        if next <= end_day {
            let at = clock::business_moment_on(&mut self.rng, next);
            self.schedule(at, Action::CampaignCost(campaign));
        }
    }

    /// A touch on a channel the customer consented to: a call (recorded as a contact) or a
    /// message; one customer in eight answers.
    pub(crate) fn campaign_touch(&mut self, campaign: u16, customer: u32) {
        let record = &self.campaigns[usize::from(campaign)];
        if record.closed || !self.is_live(customer) || self.today() > record.end_day {
            return;
        }
        let (id, end_day) = (record.id, record.end_day);
        let template = &TEMPLATES[record.template];
        let consent = self.customer(customer).consent;
        let channels: Vec<Channel> = template
            .channels
            .iter()
            .copied()
            .filter(|channel| consent & channel_bit(*channel) != 0)
            .collect();
        if channels.is_empty() {
            return;
        }
        let channel = channels[self.rng.index(channels.len())];
        let (agent, contact) = if channel == Channel::Phone {
            let outcome = self.rng.weighted_pick(&[
                (ContactOutcome::NoAnswer, 25.0),
                (ContactOutcome::Declined, 35.0),
                (ContactOutcome::CallbackScheduled, 15.0),
                (ContactOutcome::Resolved, 25.0),
            ]);
            let summary = match template.segment {
                "group-customers" => summaries::MARKETING[1],
                "key-accounts" => summaries::MARKETING[2],
                "at-risk" => summaries::MARKETING[3],
                _ => summaries::MARKETING[0],
            };
            let mut plan = ContactPlan::new(
                customer,
                Channel::Phone,
                Direction::Outbound,
                Topic::Marketing,
                summary,
                outcome,
                self.now,
            );
            plan.campaign = Some(id);
            let Some(recorded) = self.record_contact(plan) else {
                return;
            };
            (Some(recorded.agent), Some((recorded.id, recorded.ended_at)))
        } else {
            (None, None)
        };
        let at = contact.map_or(self.now, |(_, ended)| ended + MINUTE);
        let event = CampaignTouchSent {
            campaign_id: id,
            customer_id: self.customer(customer).id,
            channel,
            agent: agent.clone(),
            contact_id: contact.map(|(contact, _)| contact),
        };
        let actor = agent.unwrap_or_else(|| self.staff.systems.marketing.clone());
        if !self.emit(at, &actor, Some(customer), event) {
            return;
        }
        let record = &mut self.campaigns[usize::from(campaign)];
        record.touches += 1;
        record.touches_since_cost += 1;
        self.customer_mut(customer).last_touch = Some((campaign, at));
        let mood = self.customer(customer).mood;
        if self
            .rng
            .chance((0.1 + 0.04 * (mood - 3.0)).clamp(0.02, 0.2))
        {
            let day = (self.today() + self.rng.range(0, 10)).min(end_day);
            let at = clock::business_moment_on(&mut self.rng, day).max(at + 10 * MINUTE);
            self.schedule(at, Action::CampaignRespond(campaign, customer));
        }
    }

    pub(crate) fn campaign_respond(&mut self, campaign: u16, customer: u32) {
        let record = &self.campaigns[usize::from(campaign)];
        if record.closed || !self.is_live(customer) {
            return;
        }
        let id = record.id;
        let channels = TEMPLATES[record.template].channels;
        let response = self.rng.weighted_pick(&[
            (CampaignResponse::Interested, 32.0),
            (CampaignResponse::Enquired, 25.0),
            (CampaignResponse::NotInterested, 35.0),
            (CampaignResponse::OptedOut, 8.0),
        ]);
        let channel = channels[self.rng.index(channels.len())];
        let event = CampaignResponded {
            campaign_id: id,
            customer_id: self.customer(customer).id,
            response,
            channel,
            premium_won: Money::ZERO,
            policy_number: None,
        };
        let system = self.staff.systems.marketing.clone();
        if !self.emit(self.now, &system, Some(customer), event) {
            return;
        }
        self.campaigns[usize::from(campaign)].responses += 1;
        if response == CampaignResponse::OptedOut {
            self.set_consent(customer, channel, false, self.now + MINUTE, &system);
        }
    }

    /// The campaign's closing figures.
    pub(crate) fn close_campaign(&mut self, campaign: u16) {
        let closing_cost = fen(self.rng.range(2_000, 8_000));
        self.incur_cost(
            campaign,
            closing_cost,
            CostCategory::Discounts,
            "续保优惠及活动结算",
            self.now,
        );
        let record = &self.campaigns[usize::from(campaign)];
        let summary = if record.premium_won > record.cost {
            "活动带来的保费收入超过活动费用"
        } else {
            "活动费用高于带来的保费收入，需复盘目标客户选择"
        };
        let event = CampaignClosed {
            campaign_id: record.id,
            budget: Money::from_fen(record.budget),
            total_cost: Money::from_fen(record.cost),
            touches: record.touches,
            responses: record.responses,
            premium_won: Money::from_fen(record.premium_won),
            summary: Some(text(summary)),
        };
        let owner = self.staff.marketers[record.owner].clone();
        self.emit(self.now + MINUTE, &owner, None, event);
        self.campaigns[usize::from(campaign)].closed = true;
    }

    /// The campaign running now that brings in online leads, if any.
    pub(crate) fn running_online_campaign(&mut self) -> Option<CampaignId> {
        let today = self.today();
        let running = self.campaigns.iter().find(|campaign| {
            campaign.launched
                && !campaign.closed
                && (campaign.start_day..=campaign.end_day).contains(&today)
        })?;
        let id = running.id;
        self.rng.chance(0.5).then_some(id)
    }

    /// A lead from someone the web shop could not identify; the next one is planned too.
    pub(crate) fn prospect_enquiry(&mut self) {
        let rate = (float(small(self.customers.len())) * 0.04).max(2.0);
        let gap = round_clamped(
            self.rng.exponential(365.0 * 86_400.0 / rate),
            HOUR,
            days(365),
        );
        let next_day = clock::local_day(self.now + gap);
        let next = clock::self_service_moment_on(&mut self.rng, next_day).max(self.now + MINUTE);
        self.schedule(next, Action::ProspectEnquiry);
        let region = names::pick_region(&mut self.rng);
        let male = self.rng.chance(0.65);
        let name = self
            .rng
            .chance(0.6)
            .then(|| person_name(&names::personal_name(&mut self.rng, male).hanzi));
        let mobile = self.issuer.mobile(&mut self.rng);
        let plate = self.rng.chance(0.35).then(|| {
            self.issuer.plate(
                &mut self.rng,
                REGIONS[region].plate,
                crate::issuer::PlateStyle::Ordinary,
            )
        });
        let channel = self.rng.weighted_pick(&[
            (Channel::Web, 50.0),
            (Channel::App, 25.0),
            (Channel::WeChat, 25.0),
        ]);
        let enquiry = Enquiry {
            id: EnquiryId::from_uuid(self.uuid(self.now)),
            customer: None,
            name,
            mobile,
            plate,
            campaign: self.running_online_campaign(),
            region,
        };
        self.receive_enquiry(enquiry, channel, self.now);
    }

    /// The call-back of an online enquiry. Someone unknown is registered first (a prospect);
    /// the call may end in a sale, a quote to think over, a refusal, or no answer.
    pub(crate) fn enquiry_callback(&mut self, slot: u32) {
        let Some(enquiry) = self.enquiries.remove(slot) else {
            return;
        };
        let agent = self.staff.agent_on_duty(&mut self.rng, self.now).clone();
        let customer = match enquiry.customer {
            Some(customer) if self.is_live(customer) => customer,
            Some(_) => return,
            None => self.register_prospect(&enquiry, &agent),
        };
        let outcome = self.rng.weighted_pick(&[
            (ContactOutcome::NoAnswer, 15.0),
            (ContactOutcome::Converted, 30.0),
            (ContactOutcome::CallbackScheduled, 25.0),
            (ContactOutcome::Declined, 30.0),
        ]);
        let summary = summaries::QUOTE[1];
        let mut plan = ContactPlan::new(
            customer,
            Channel::Phone,
            Direction::Outbound,
            Topic::Quote,
            summary,
            outcome,
            self.now + 2 * MINUTE,
        );
        plan.agent = Some(agent);
        plan.enquiry = Some(enquiry.id);
        plan.campaign = enquiry.campaign;
        let Some(recorded) = self.record_contact(plan) else {
            return;
        };
        match outcome {
            ContactOutcome::Converted => {
                let vehicle = self.vehicle_for_sale(customer);
                if self.customer(customer).segment == Segment::Prospect {
                    self.customer_mut(customer).segment = Segment::Individual;
                }
                self.sell_policy(
                    customer,
                    vehicle,
                    recorded.ended_at + MINUTE,
                    Some(enquiry.id),
                );
            }
            ContactOutcome::CallbackScheduled => {
                // A quote to think over that is never taken up.
                let vehicle = self.vehicle_for_sale(customer);
                let start_day = self.today() + self.rng.range(3, 20);
                let channel = Channel::Phone;
                let policy = self.new_policy(customer, vehicle, start_day, channel);
                self.quote(policy, recorded.ended_at + MINUTE);
            }
            _ => {}
        }
    }

    /// A vehicle to sell a policy for: the prospect's own, or a new one.
    fn vehicle_for_sale(&mut self, customer: u32) -> usize {
        let record = self.customer(customer);
        let uninsured = (0..record.vehicles.len()).find(|&vehicle| {
            record.vehicles[vehicle].owned
                && !record
                    .policies
                    .iter()
                    .any(|&policy| self.policy(policy).vehicle == vehicle)
        });
        if let Some(vehicle) = uninsured {
            return vehicle;
        }
        let year = clock::civil(self.today()).0;
        let vehicle = self.new_vehicle(customer, year);
        let at = self.now;
        let agent = self.staff.agent_on_duty(&mut self.rng, at).clone();
        let room =
            self.customer(customer).identifiers.len() + 2 <= crate::customers::IDENTIFIERS_KEPT_MAX;
        if room {
            let (plate, vin) = {
                let record = &self.customer(customer).vehicles[vehicle];
                (record.plate.clone(), record.vin.clone())
            };
            self.customer_mut(customer).vehicles[vehicle].identified = true;
            self.add_identifier(
                customer,
                identifier(IdentifierKind::Plate, plate.as_str()),
                at,
                &agent,
            );
            self.add_identifier(
                customer,
                identifier(IdentifierKind::Vin, vin.as_str()),
                at + 1,
                &agent,
            );
        }
        vehicle
    }

    /// Registers the person behind an anonymous lead, with the mobile (and plate) they gave.
    fn register_prospect(&mut self, enquiry: &Enquiry, agent: &ledger_domain::ids::StaffId) -> u32 {
        let male = self.rng.chance(0.65);
        let name = enquiry
            .name
            .clone()
            .unwrap_or_else(|| person_name(&names::personal_name(&mut self.rng, male).hanzi));
        let mut identifiers = vec![identifier(IdentifierKind::Mobile, enquiry.mobile.as_str())];
        let mut vehicles = Vec::new();
        if let Some(plate) = &enquiry.plate {
            let year = clock::civil(self.today()).0;
            let model_year = year - self.rng.range(0, 8);
            let vin = self.issuer.vin(&mut self.rng, model_year, false);
            identifiers.push(identifier(IdentifierKind::Plate, plate.as_str()));
            identifiers.push(identifier(IdentifierKind::Vin, vin.as_str()));
            let base = round_clamped(self.rng.log_normal(3_900.0, 0.42), 1_600, 60_000);
            vehicles.push(crate::world::Vehicle {
                plate: plate.clone(),
                vin,
                count: 1,
                premium_yuan: base,
                identified: true,
                owned: true,
            });
        }
        let id = CustomerId::from_uuid(self.uuid(self.now));
        let customer = small(self.customers.len());
        let disposition = self
            .rng
            .weighted_pick(&[(4.4, 55.0), (3.6, 30.0), (2.3, 15.0)]);
        self.customers.push(Customer {
            id,
            segment: Segment::Prospect,
            status: Status::Live,
            region: enquiry.region,
            existing: false,
            name: Some(name.clone()),
            pinyin: String::from("kehu"),
            male,
            address: None,
            identifiers: identifiers.clone(),
            mobile: Some(enquiry.mobile.clone()),
            wechat: false,
            app: false,
            consent: 0,
            vehicles,
            policies: Vec::new(),
            active_policies: 0,
            open_matters: 0,
            queued: 0,
            disposition,
            mood: disposition,
            manager: None,
            last_touch: None,
            twin: None,
            anniversary: self.today(),
            fleet: 0,
            industry: 0,
        });
        let event = CustomerRegistered {
            customer_id: id,
            kind: Segment::Prospect.kind(),
            name,
            group: None,
            address: None,
            identifiers,
        };
        self.emit(self.now, agent, Some(customer), event);
        self.schedule_tick(customer);
        if self.rare(0.01, Rare::Erasure) {
            let at = self.business_moment_in(30, 120);
            self.schedule(at, Action::Erase(customer, 30));
        }
        customer
    }
}
