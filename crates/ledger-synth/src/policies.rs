//! The policy life cycle: quotes, issue, yearly renewal around the anniversary (or a lapse,
//! likelier for dissatisfied customers), endorsements and cancellations during the period,
//! and the campaign attribution of sales.

use ledger_domain::events::{
    CampaignResponded, PolicyCancelled, PolicyEndorsed, PolicyIssued, PolicyLapsed, PolicyQuoted,
    PolicyRenewed,
};
use ledger_domain::ids::CampaignId;
use ledger_domain::kinds::{CampaignResponse, CancellationReason, ContactOutcome, ProductLine};
use ledger_domain::values::{Channel, Direction, IdentifierKind, Money, Topic};

use crate::clock::{self, HOUR, MINUTE};
use crate::contacts::ContactPlan;
use crate::issuer::{PlateStyle, identifier};
use crate::names::{REGIONS, summaries};
use crate::rng::{float, round_clamped, to_f64};
use crate::world::{
    Action, Policy, PolicyStatus, Rare, Segment, Vehicle, World, days, fen, small, text,
};

/// Optional commercial lines, how often individuals buy them and what they add, in yuan.
const OPTIONAL_LINES: &[(ProductLine, f64, i64)] = &[
    (ProductLine::CommercialDriverSeat, 0.7, 60),
    (ProductLine::CommercialPassengerSeat, 0.5, 110),
    (ProductLine::CommercialGlass, 0.2, 180),
    (ProductLine::CommercialScratch, 0.1, 400),
    (ProductLine::CommercialEngineWading, 0.15, 260),
    (ProductLine::CommercialOutOfSocialInsuranceMedical, 0.25, 90),
    (ProductLine::CommercialHolidayLimitDoubling, 0.2, 50),
    (ProductLine::CommercialRepairPeriodCompensation, 0.05, 150),
    (ProductLine::CommercialSpontaneousCombustion, 0.05, 120),
];

/// The compulsory traffic insurance premium of a family car, in yuan (set by regulation).
const COMPULSORY_PREMIUM_YUAN: i64 = 950;

impl World {
    /// Product lines and yearly premium (yuan) for one private car of `premium_yuan` base.
    pub(crate) fn individual_terms(&mut self, base_yuan: i64) -> (Vec<ProductLine>, i64) {
        let mut lines = vec![ProductLine::CompulsoryTraffic];
        if self.rng.chance(0.05) {
            return (lines, COMPULSORY_PREMIUM_YUAN);
        }
        let mut premium = base_yuan;
        if self.rng.chance(0.9) {
            lines.push(ProductLine::CommercialVehicleDamage);
        } else {
            premium = premium * 2 / 5;
        }
        lines.push(ProductLine::CommercialThirdPartyLiability);
        for (line, share, extra) in OPTIONAL_LINES {
            if self.rng.chance(*share) {
                lines.push(*line);
                premium += extra;
            }
        }
        (lines, premium)
    }

    /// A new policy for a vehicle, starting on `start_day`; not issued yet.
    pub(crate) fn new_policy(
        &mut self,
        customer: u32,
        vehicle: usize,
        start_day: i64,
        channel: Channel,
    ) -> u32 {
        let (count, base) = {
            let vehicle = &self.customer(customer).vehicles[vehicle];
            (vehicle.count, vehicle.premium_yuan)
        };
        let (lines, premium_yuan) = if count == 1 && !self.customer(customer).segment.is_corporate()
        {
            self.individual_terms(base)
        } else {
            let lines = vec![
                ProductLine::CompulsoryTraffic,
                ProductLine::CommercialVehicleDamage,
                ProductLine::CommercialThirdPartyLiability,
                ProductLine::CommercialDriverSeat,
                ProductLine::CommercialPassengerSeat,
            ];
            (lines, base.saturating_mul(i64::from(count)))
        };
        let (year, _, _) = clock::civil(start_day);
        let number = self.issuer.policy_number(year);
        let policy = Policy {
            number,
            customer,
            vehicle,
            lines,
            premium: fen(premium_yuan),
            start_day,
            end_day: clock::year_end(start_day),
            status: PolicyStatus::Pending,
            claims_this_period: 0,
            sales_channel: channel,
        };
        self.policies.push(policy);
        let policy = small(self.policies.len() - 1);
        self.customer_mut(customer).policies.push(policy);
        policy
    }

    /// A quote for a pending policy (recorded under the number it will have if issued).
    pub(crate) fn quote(&mut self, policy: u32, at: i64) {
        let customer = self.policy(policy).customer;
        let (plate, vin) = self.vehicle_of(policy);
        let record = self.policy(policy);
        let event = PolicyQuoted {
            policy_number: record.number.clone(),
            customer_id: self.customer(customer).id,
            product_lines: record.lines.clone(),
            plate,
            vin,
            premium: Money::from_fen(record.premium),
            period_start: clock::date(record.start_day),
            period_end: clock::date(record.end_day),
            sales_channel: record.sales_channel,
            campaign_id: None,
            valid_until: clock::date(clock::local_day(at) + 14),
        };
        let actor = self.staff.agent_on_duty(&mut self.rng, at).clone();
        self.emit(at, &actor, Some(customer), event);
    }

    fn vehicle_of(
        &self,
        policy: u32,
    ) -> (ledger_domain::values::Plate, ledger_domain::values::Vin) {
        let record = self.policy(policy);
        let vehicle = &self.customer(record.customer).vehicles[record.vehicle];
        (vehicle.plate.clone(), vehicle.vin.clone())
    }

    /// Issues a pending policy now, then plans its period: the renewal reminder a month before
    /// it ends, its losses and perhaps a change during the period.
    pub(crate) fn issue_policy(&mut self, policy: u32) {
        let customer = self.policy(policy).customer;
        if !self.is_live(customer) || self.policy(policy).status != PolicyStatus::Pending {
            return;
        }
        let premium = self.policy(policy).premium;
        let campaign = self.attribution(customer);
        let (plate, vin) = self.vehicle_of(policy);
        let record = self.policy(policy);
        let event = PolicyIssued {
            policy_number: record.number.clone(),
            customer_id: self.customer(customer).id,
            product_lines: record.lines.clone(),
            plate,
            vin,
            premium: Money::from_fen(premium),
            period_start: clock::date(record.start_day),
            period_end: clock::date(record.end_day),
            sales_channel: record.sales_channel,
            campaign_id: campaign.map(|(id, _)| id),
        };
        let number = record.number.clone();
        let system = self.staff.systems.policy.clone();
        if !self.emit(self.now, &system, Some(customer), event) {
            return;
        }
        self.record_purchase(customer, campaign, premium, &number);
        let record = self.policy_mut(policy);
        record.status = PolicyStatus::Active;
        let (start_day, end_day) = (record.start_day, record.end_day);
        self.customer_mut(customer).active_policies += 1;
        self.plan_period(policy, start_day, end_day);
        let first_loss = clock::at_local(start_day, 0) + self.loss_gap(policy);
        self.schedule(first_loss, Action::NextLoss(policy));
    }

    /// Plans a period: the renewal reminder and perhaps an endorsement or cancellation.
    fn plan_period(&mut self, policy: u32, start_day: i64, end_day: i64) {
        let reminder_day = end_day - self.rng.range(20, 35);
        let at = clock::business_moment_on(&mut self.rng, reminder_day);
        self.schedule(at, Action::RenewalDue(policy));
        let corporate = self
            .customer(self.policy(policy).customer)
            .segment
            .is_corporate();
        let share = if corporate { 0.12 } else { 0.07 };
        if self.rare(share, Rare::MidTerm) || (self.is_coverage_run() && self.rng.chance(0.3)) {
            let day = start_day + self.rng.range(20, (end_day - start_day - 40).max(21));
            let at = clock::business_moment_on(&mut self.rng, day);
            self.schedule(at, Action::MidTerm(policy));
        }
    }

    /// The campaign a purchase now is attributed to, if the customer was touched by a
    /// running campaign in the last sixty days (and was persuaded by it).
    fn attribution(&mut self, customer: u32) -> Option<(CampaignId, u16)> {
        let (campaign, touched_at) = self.customer(customer).last_touch?;
        let record = &self.campaigns[usize::from(campaign)];
        let running = record.launched && !record.closed && self.today() <= record.end_day;
        if !running || self.now - touched_at > days(60) || !self.rng.chance(0.6) {
            return None;
        }
        Some((record.id, campaign))
    }

    /// The campaign's feedback for an attributed purchase.
    fn record_purchase(
        &mut self,
        customer: u32,
        campaign: Option<(CampaignId, u16)>,
        premium: i64,
        number: &ledger_domain::values::PolicyNumber,
    ) {
        let Some((campaign_id, campaign)) = campaign else {
            return;
        };
        let channel = self.policy_channel(customer);
        let event = CampaignResponded {
            campaign_id,
            customer_id: self.customer(customer).id,
            response: CampaignResponse::Purchased,
            channel,
            premium_won: Money::from_fen(premium),
            policy_number: Some(number.clone()),
        };
        let system = self.staff.systems.marketing.clone();
        if self.emit(self.now + MINUTE, &system, Some(customer), event) {
            let record = &mut self.campaigns[usize::from(campaign)];
            record.responses += 1;
            record.premium_won += premium;
        }
        self.customer_mut(customer).last_touch = None;
    }

    /// The channel a customer buys or renews on.
    pub(crate) fn policy_channel(&mut self, customer: u32) -> Channel {
        let record = self.customer(customer);
        if record.segment.is_corporate() {
            return if self.rng.chance(0.8) {
                Channel::WalkIn
            } else {
                Channel::Email
            };
        }
        let (wechat, app) = (record.wechat, record.app);
        let channel = self.rng.weighted_pick(&[
            (Channel::Phone, 40.0),
            (Channel::WeChat, 25.0),
            (Channel::WalkIn, 15.0),
            (Channel::App, 12.0),
            (Channel::Web, 8.0),
        ]);
        match channel {
            Channel::WeChat if !wechat => Channel::Phone,
            Channel::App if !app => Channel::Web,
            other => other,
        }
    }

    fn reminder_agent(&mut self, customer: u32) -> Option<ledger_domain::ids::StaffId> {
        let manager = self.customer(customer).manager?;
        Some(self.staff.managers[manager].id.clone())
    }

    /// A month before the period ends: a reminder, and the customer's decision.
    pub(crate) fn renewal_due(&mut self, policy: u32) {
        let customer = self.policy(policy).customer;
        if !self.is_live(customer) || self.policy(policy).status != PolicyStatus::Active {
            return;
        }
        let record = self.customer(customer);
        let (segment, mood, wechat) = (record.segment, record.mood, record.wechat);
        // A fleet's blocks renew together: one reminder, with the first block.
        if self.policy(policy).vehicle == 0 || !segment.is_corporate() {
            let channel = if wechat && self.rng.chance(0.6) {
                Channel::WeChat
            } else {
                Channel::Phone
            };
            let summary = *self.rng.pick(summaries::RENEWAL_REMINDER);
            let mut plan = ContactPlan::new(
                customer,
                channel,
                Direction::Outbound,
                Topic::Renewal,
                summary,
                ContactOutcome::CallbackScheduled,
                self.now,
            );
            plan.policy = Some(self.policy(policy).number.clone());
            plan.agent = self.reminder_agent(customer);
            self.record_contact(plan);
        }
        let base = match segment {
            Segment::GroupCorporate => 0.015,
            Segment::Corporate => 0.05,
            Segment::GroupEmployee => 0.06,
            _ => 0.09,
        };
        // "Barely satisfied customers are the ones who leave" (seed 4.2.3 3).
        let lapse_share = base + 0.14 * (3.7 - mood).max(0.0);
        let end_day = self.policy(policy).end_day;
        if self.rare(lapse_share, Rare::Lapse) {
            let at = clock::at_local(
                end_day + 1 + self.rng.range(0, 5),
                2 * HOUR + self.rng.range(0, HOUR),
            );
            self.schedule(at, Action::Lapse(policy));
        } else {
            // Renewed before the period ends, whatever the business calendar says: the policy
            // system writes the renewal even on a holiday.
            let day = (end_day - self.rng.range(1, 20)).max(self.today());
            let latest = clock::at_local(end_day, 16 * HOUR);
            let at = clock::business_moment_on(&mut self.rng, day)
                .min(latest)
                .max(self.now + HOUR);
            self.schedule(at, Action::Renew(policy));
        }
    }

    /// The renewal: a new period under the same number, priced on last period's claims.
    pub(crate) fn renew(&mut self, policy: u32) {
        let customer = self.policy(policy).customer;
        if !self.is_live(customer) || self.policy(policy).status != PolicyStatus::Active {
            return;
        }
        let record = self.policy(policy);
        let vehicles = self.customer(customer).vehicles[record.vehicle].count;
        let claims_per_vehicle = float(record.claims_this_period) / float(vehicles.max(1));
        // No-claim discount, or a surcharge after claims (the NCD factor of Chinese motor
        // insurance), plus the drift of repair costs.
        let factor = if claims_per_vehicle == 0.0 {
            0.93
        } else if claims_per_vehicle < 0.5 {
            1.0 + 0.1 * claims_per_vehicle
        } else {
            1.15
        };
        let previous = record.premium;
        let start_day = record.end_day + 1;
        let factor = factor * (0.98 + 0.07 * self.rng.unit());
        let premium = round_clamped(
            factor * to_f64(previous),
            fen(COMPULSORY_PREMIUM_YUAN),
            i64::MAX / 4,
        );
        let end_day = clock::year_end(start_day);
        let channel = self.policy_channel(customer);
        let campaign = self.attribution(customer);
        let record = self.policy(policy);
        let event = PolicyRenewed {
            policy_number: record.number.clone(),
            customer_id: self.customer(customer).id,
            product_lines: record.lines.clone(),
            premium: Money::from_fen(premium),
            previous_premium: Money::from_fen(previous),
            period_start: clock::date(start_day),
            period_end: clock::date(end_day),
            sales_channel: channel,
            campaign_id: campaign.map(|(id, _)| id),
        };
        let number = record.number.clone();
        let system = self.staff.systems.policy.clone();
        if !self.emit(self.now, &system, Some(customer), event) {
            return;
        }
        self.record_purchase(customer, campaign, premium, &number);
        let record = self.policy_mut(policy);
        record.premium = premium;
        record.start_day = start_day;
        record.end_day = end_day;
        record.claims_this_period = 0;
        record.sales_channel = channel;
        let first_block = self.policy(policy).vehicle == 0;
        if first_block && matches!(channel, Channel::Phone | Channel::WeChat | Channel::WalkIn) {
            let summary = *self.rng.pick(summaries::RENEWAL_DONE);
            let mut plan = ContactPlan::new(
                customer,
                channel,
                Direction::Inbound,
                Topic::Renewal,
                summary,
                ContactOutcome::Converted,
                self.now - self.rng.range(10 * MINUTE, 40 * MINUTE),
            );
            plan.policy = Some(number);
            self.record_contact(plan);
        }
        self.experience(customer, 0.0);
        self.plan_period(policy, start_day, end_day);
    }

    pub(crate) fn lapse(&mut self, policy: u32) {
        let customer = self.policy(policy).customer;
        if !self.is_live(customer) || self.policy(policy).status != PolicyStatus::Active {
            return;
        }
        let record = self.policy(policy);
        let event = PolicyLapsed {
            policy_number: record.number.clone(),
            customer_id: self.customer(customer).id,
            lapsed_on: clock::date(record.end_day + 1),
        };
        let system = self.staff.systems.policy.clone();
        self.emit(self.now, &system, Some(customer), event);
        self.end_policy(policy, PolicyStatus::Lapsed);
        if self.rng.chance(0.3) {
            let at = self.business_moment_in(3, 30);
            let mut plan = ContactPlan::new(
                customer,
                Channel::Phone,
                Direction::Outbound,
                Topic::Marketing,
                summaries::MARKETING[3],
                ContactOutcome::Declined,
                at,
            );
            plan.policy = Some(self.policy(policy).number.clone());
            self.record_contact(plan);
        }
    }

    /// Marks a policy ended; a customer left with no policy may ask to be forgotten.
    fn end_policy(&mut self, policy: u32, status: PolicyStatus) {
        let customer = self.policy(policy).customer;
        self.policy_mut(policy).status = status;
        let record = self.customer_mut(customer);
        record.active_policies = record.active_policies.saturating_sub(1);
        let eligible = record.active_policies == 0 && !record.segment.is_corporate();
        if eligible && self.rare(0.03, Rare::Erasure) {
            let at = self.business_moment_in(20, 150);
            self.schedule(at, Action::Erase(customer, 30));
        }
    }

    /// A change during the period: mostly an endorsement, sometimes a cancellation.
    pub(crate) fn mid_term(&mut self, policy: u32) {
        let customer = self.policy(policy).customer;
        if !self.is_live(customer) || self.policy(policy).status != PolicyStatus::Active {
            return;
        }
        if self.rare(0.3, Rare::Cancellation) {
            self.cancel(policy);
        } else {
            self.endorse(policy);
        }
    }

    fn endorse(&mut self, policy: u32) {
        let customer = self.policy(policy).customer;
        let record = self.policy(policy);
        let (number, vehicle, premium_before, lines_before, end_day) = (
            record.number.clone(),
            record.vehicle,
            record.premium,
            record.lines.clone(),
            record.end_day,
        );
        let effective_day = (self.today() + self.rng.range(0, 3)).min(end_day);
        let missing: Vec<(ProductLine, i64)> = OPTIONAL_LINES
            .iter()
            .filter(|(line, _, _)| !lines_before.contains(line))
            .map(|(line, _, extra)| (*line, *extra))
            .collect();
        let removable: Vec<(ProductLine, i64)> = OPTIONAL_LINES
            .iter()
            .filter(|(line, _, _)| lines_before.contains(line))
            .map(|(line, _, extra)| (*line, *extra))
            .collect();
        let vehicles = i64::from(self.customer(customer).vehicles[vehicle].count);
        let remaining_share = float(u32::try_from(end_day - effective_day).unwrap_or(0)) / 365.0;
        let individual = !self.customer(customer).segment.is_corporate();
        let region = self.customer(customer).region;
        let mut lines = lines_before.clone();
        let mut new_plate = None;
        let (description, full_change) = if individual && self.rng.chance(0.15) {
            let plate =
                self.issuer
                    .plate(&mut self.rng, REGIONS[region].plate, PlateStyle::Ordinary);
            new_plate = Some(plate);
            ("车辆更换号牌，批改保单车牌号", 0)
        } else if !missing.is_empty() && (removable.is_empty() || self.rng.chance(0.7)) {
            let (line, extra) = missing[self.rng.index(missing.len())];
            lines.push(line);
            ("客户申请加保附加险", extra * vehicles)
        } else if let Some(&(line, extra)) = removable.first() {
            lines.retain(|candidate| *candidate != line);
            ("客户申请减保附加险，退还相应保费", -extra * vehicles)
        } else {
            ("变更被保险人联系地址", 0)
        };
        // Premium for the rest of the period only, and never below zero.
        let change = round_clamped(
            to_f64(fen(full_change)) * remaining_share,
            -i64::MAX / 4,
            i64::MAX / 4,
        );
        let premium = (premium_before + change).max(0);
        let change = premium - premium_before;
        let lines_changed = lines != lines_before;
        let event = PolicyEndorsed {
            policy_number: number.clone(),
            customer_id: self.customer(customer).id,
            effective_on: clock::date(effective_day),
            description: text(description),
            plate: new_plate.clone(),
            product_lines: lines_changed.then(|| lines.clone()),
            premium_change: Money::from_fen(change),
            premium: Money::from_fen(premium),
        };
        let channel = self.policy_channel(customer);
        let mut plan = ContactPlan::new(
            customer,
            channel,
            Direction::Inbound,
            Topic::ServiceRequest,
            "客户申请保单批改，已受理",
            ContactOutcome::Resolved,
            self.now,
        );
        plan.policy = Some(number);
        let ended = self
            .record_contact(plan)
            .map_or(self.now, |recorded| recorded.ended_at);
        let system = self.staff.systems.policy.clone();
        if !self.emit(ended + 5 * MINUTE, &system, Some(customer), event) {
            return;
        }
        let record = self.policy_mut(policy);
        record.premium = premium;
        record.lines = lines;
        if let Some(plate) = new_plate {
            self.replace_plate(customer, vehicle, plate, ended + 10 * MINUTE);
        }
    }

    /// The customer's vehicle has a new plate: the old one stops finding the customer.
    fn replace_plate(
        &mut self,
        customer: u32,
        vehicle: usize,
        plate: ledger_domain::values::Plate,
        at: i64,
    ) {
        let old = self.customer(customer).vehicles[vehicle].plate.clone();
        let identified = self.customer(customer).vehicles[vehicle].identified;
        self.customer_mut(customer).vehicles[vehicle].plate = plate.clone();
        if !identified {
            return;
        }
        let old = identifier(IdentifierKind::Plate, old.as_str());
        let new = identifier(IdentifierKind::Plate, plate.as_str());
        let agent = self.staff.agent_on_duty(&mut self.rng, at).clone();
        self.remove_identifier(customer, old, at, &agent);
        self.add_identifier(customer, new, at + MINUTE, &agent);
    }

    fn cancel(&mut self, policy: u32) {
        let customer = self.policy(policy).customer;
        let individual = !self.customer(customer).segment.is_corporate();
        let reason = if individual {
            self.rng.weighted_pick(&[
                (CancellationReason::VehicleSold, 60.0),
                (CancellationReason::VehicleScrapped, 10.0),
                (CancellationReason::CustomerRequest, 15.0),
                (CancellationReason::DuplicateCover, 10.0),
                (CancellationReason::NonPayment, 5.0),
            ])
        } else {
            self.rng.weighted_pick(&[
                (CancellationReason::CustomerRequest, 50.0),
                (CancellationReason::VehicleSold, 30.0),
                (CancellationReason::DuplicateCover, 20.0),
            ])
        };
        let record = self.policy(policy);
        let remaining = (record.end_day - self.today()).max(0);
        let refund = round_clamped(
            to_f64(record.premium) * float(u32::try_from(remaining).unwrap_or(0)) / 365.0 * 0.9,
            0,
            record.premium,
        );
        let event = PolicyCancelled {
            policy_number: record.number.clone(),
            customer_id: self.customer(customer).id,
            cancelled_on: clock::date(self.today()),
            reason,
            refund: Money::from_fen(refund),
        };
        let vehicle = record.vehicle;
        let system = self.staff.systems.policy.clone();
        if !self.emit(self.now, &system, Some(customer), event) {
            return;
        }
        self.end_policy(policy, PolicyStatus::Cancelled);
        let sold = matches!(
            reason,
            CancellationReason::VehicleSold | CancellationReason::VehicleScrapped
        );
        if sold && individual {
            self.dispose_vehicle(customer, vehicle);
            if self.rng.chance(0.6) {
                let at = self.now + days(self.rng.range(1, 20));
                self.buy_vehicle(customer, at);
            }
        }
    }

    /// A sold or scrapped car: its plate and VIN no longer find the customer.
    fn dispose_vehicle(&mut self, customer: u32, vehicle: usize) {
        let record = &mut self.customer_mut(customer).vehicles[vehicle];
        record.owned = false;
        if !record.identified {
            return;
        }
        record.identified = false;
        let plate = identifier(IdentifierKind::Plate, record.plate.as_str());
        let vin = identifier(IdentifierKind::Vin, record.vin.as_str());
        let at = self.now + 20 * MINUTE;
        let agent = self.staff.agent_on_duty(&mut self.rng, at).clone();
        self.remove_identifier(customer, plate, at, &agent);
        self.remove_identifier(customer, vin, at + MINUTE, &agent);
    }

    /// The customer buys another car and insures it: new plate and VIN, a quote, a policy.
    pub(crate) fn buy_vehicle(&mut self, customer: u32, at: i64) {
        if !self.is_live(customer) {
            return;
        }
        let at = clock::business_moment_after(&mut self.rng, at.max(self.now));
        let vehicle = self.new_vehicle(customer, clock::civil(clock::local_day(at)).0);
        let (plate, vin) = {
            let record = &self.customer(customer).vehicles[vehicle];
            (record.plate.clone(), record.vin.clone())
        };
        let agent = self.staff.agent_on_duty(&mut self.rng, at).clone();
        if self.customer(customer).identifiers.len() + 2 <= crate::customers::IDENTIFIERS_KEPT_MAX {
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
        self.sell_policy(customer, vehicle, at + 2 * MINUTE, None);
    }

    /// A new sale: a quote contact, the quote, and (usually) the issue a few days later.
    pub(crate) fn sell_policy(
        &mut self,
        customer: u32,
        vehicle: usize,
        at: i64,
        enquiry: Option<ledger_domain::ids::EnquiryId>,
    ) {
        let start_day = clock::local_day(at) + self.rng.range(1, 6);
        let channel = self.policy_channel(customer);
        let policy = self.new_policy(customer, vehicle, start_day, channel);
        if enquiry.is_none() {
            let summary = *self.rng.pick(summaries::QUOTE);
            let mut plan = ContactPlan::new(
                customer,
                channel,
                Direction::Inbound,
                Topic::Quote,
                summary,
                ContactOutcome::Converted,
                at,
            );
            plan.policy = Some(self.policy(policy).number.clone());
            self.record_contact(plan);
        }
        self.quote(policy, at + 10 * MINUTE);
        if self.rng.chance(0.9) {
            let issue_day = (start_day - self.rng.range(0, 3)).max(clock::local_day(at));
            let issue =
                clock::at_local(issue_day, 10 * HOUR + self.rng.range(0, 7 * HOUR)).max(at + HOUR);
            self.schedule(issue, Action::IssuePolicy(policy));
        }
    }

    /// Adds a vehicle for an individual customer and returns its index.
    pub(crate) fn new_vehicle(&mut self, customer: u32, year: i64) -> usize {
        let record = self.customer(customer);
        let (region, group) = (record.region, record.segment.is_group());
        let office = if self.rng.chance(0.88) {
            REGIONS[region].plate
        } else {
            REGIONS[self.rng.index(REGIONS.len())].plate
        };
        let new_energy = self
            .rng
            .chance(0.04 + 0.03 * float(u32::try_from((year - 2022).max(0)).unwrap_or(0)));
        let style = if new_energy {
            PlateStyle::NewEnergy
        } else {
            PlateStyle::Ordinary
        };
        let plate = self.issuer.plate(&mut self.rng, office, style);
        let model_year = year - self.rng.range(0, 8);
        let vin = self.issuer.vin(&mut self.rng, model_year, group);
        let median = if group { 4_600.0 } else { 3_900.0 };
        let base = round_clamped(self.rng.log_normal(median, 0.42), 1_600, 60_000);
        let vehicles = &mut self.customer_mut(customer).vehicles;
        vehicles.push(Vehicle {
            plate,
            vin,
            count: 1,
            premium_yuan: base,
            identified: false,
            owned: true,
        });
        vehicles.len() - 1
    }

    /// Days from now to the next candidate loss of a policy (a Poisson process at the
    /// seasonal peak rate, thinned in [`World::next_loss`]).
    pub(crate) fn loss_gap(&mut self, policy: u32) -> i64 {
        let record = self.policy(policy);
        let customer = self.customer(record.customer);
        let vehicles = customer.vehicles[record.vehicle].count;
        let per_vehicle = if customer.segment.is_corporate() {
            0.12
        } else {
            0.2
        };
        let rate = per_vehicle * float(vehicles) * clock::CLAIM_SEASON_MAX;
        let mean_seconds = 365.0 * 86_400.0 / rate;
        round_clamped(self.rng.exponential(mean_seconds), MINUTE, days(3_650)).max(HOUR)
    }
}
