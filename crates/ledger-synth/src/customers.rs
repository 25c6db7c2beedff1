//! The customer book: who the customers are (the pyramid's layers and the premium they
//! bring), their registration with identifiers and consents, their own reasons to get in
//! touch, changes of phone, address and car, duplicates that are merged, erasure, and the
//! account managers of corporate customers with their handovers.

use ledger_domain::events::{
    AccountManagerAssigned, ConsentChanged, CustomerErased, CustomerRegistered, CustomersMerged,
    EnquiryErased, IdentifierAdded, IdentifierRemoved, OnlineEnquiryReceived, ProfileUpdated,
};
use ledger_domain::ids::{CustomerId, EnquiryId, StaffId};
use ledger_domain::kinds::{ContactOutcome, ErasureReason, Priority, ProductLine, ServiceCaseKind};
use ledger_domain::values::{Channel, Direction, Identifier, IdentifierKind, Topic};

use crate::cases::CaseSpec;
use crate::clock::{self, DAY, HOUR, MINUTE};
use crate::contacts::ContactPlan;
use crate::issuer::{PlateStyle, identifier};
use crate::names::{self, GROUP_NAME, REGIONS, summaries};
use crate::rng::{exp, float, round_clamped};
use crate::world::{
    Action, Customer, Enquiry, Rare, Segment, Status, Vehicle, World, channel_bit, days, index,
    person_name, small, text,
};

/// The most identifiers the generator gives one customer, below the domain's limit of 64 so
/// that a merge or a later change never pushes a customer over it.
pub(crate) const IDENTIFIERS_KEPT_MAX: usize = 48;

/// Fleet blocks (one policy each) of at most this many vehicles.
const VEHICLES_PER_FLEET_POLICY: u32 = 40;

/// A fleet is insured under at most this many policies; larger fleets have larger blocks.
const FLEET_POLICIES_MAX: u32 = 24;

/// Fleet blocks whose lead plate and VIN are also customer identifiers.
const IDENTIFIED_BLOCKS_MAX: usize = 10;

/// The book is laid out in blocks of this many customers with fixed shares, so the pyramid's
/// layers have the same sizes whatever the seed (only who is where, and how big, is drawn).
const SEGMENT_BLOCK: u32 = 200;

/// Per block: group member companies, other companies and group employees; the rest are
/// private motorists (70.5%). The few companies hold most of the premium.
const GROUP_CORPORATES_PER_BLOCK: u32 = 7;
const CORPORATES_PER_BLOCK: u32 = 8;
const GROUP_EMPLOYEES_PER_BLOCK: u32 = 44;

/// The layer of the `number`-th customer. The first four are one of each, so even a tiny book
/// has every layer; after that a fixed permutation of each block (multiplying by a number
/// coprime to the block size) spreads the layers evenly.
fn segment_of(number: u32) -> Segment {
    const FIRST: [Segment; 4] = [
        Segment::GroupCorporate,
        Segment::Corporate,
        Segment::GroupEmployee,
        Segment::Individual,
    ];
    if let Some(segment) = FIRST.get(index(number)) {
        return *segment;
    }
    let position = (number % SEGMENT_BLOCK) * 7_919 % SEGMENT_BLOCK;
    if position < GROUP_CORPORATES_PER_BLOCK {
        Segment::GroupCorporate
    } else if position < GROUP_CORPORATES_PER_BLOCK + CORPORATES_PER_BLOCK {
        Segment::Corporate
    } else if position
        < GROUP_CORPORATES_PER_BLOCK + CORPORATES_PER_BLOCK + GROUP_EMPLOYEES_PER_BLOCK
    {
        Segment::GroupEmployee
    } else {
        Segment::Individual
    }
}

impl World {
    /// Plans the book: each customer's layer, home, disposition and when they join.
    pub(crate) fn plan_book(&mut self, count: u32) {
        let first_day = clock::local_day(self.start) + 1;
        let last_day = clock::local_day(self.end) - 20;
        for number in 0..count {
            let segment = segment_of(number);
            let region = if segment == Segment::GroupCorporate && self.rng.chance(0.7) {
                0
            } else {
                names::pick_region(&mut self.rng)
            };
            let existing = self
                .rng
                .chance(if segment.is_corporate() { 0.9 } else { 0.72 });
            let anniversary = if existing {
                if segment == Segment::GroupCorporate && self.rng.chance(0.4) {
                    // Group fleet agreements run from 1 January.
                    let (year, _, _) = clock::civil(first_day);
                    clock::day_number(year + 1, 1, 1)
                } else {
                    first_day + self.seasonal_day_offset(365)
                }
            } else {
                let span = (last_day - first_day).max(1);
                first_day + self.seasonal_day_offset(span)
            };
            let anniversary = anniversary.clamp(first_day, last_day.max(first_day));
            let join_day = if existing {
                (anniversary - self.rng.range(7, 35)).max(first_day - 1)
            } else {
                anniversary - self.rng.range(1, 6)
            };
            let join_at = clock::business_moment_on(&mut self.rng, join_day.max(first_day - 1))
                .max(self.start);
            let disposition = self
                .rng
                .weighted_pick(&[(4.4, 55.0), (3.6, 30.0), (2.3, 15.0)])
                + 0.2 * self.rng.normal();
            let fleet = match segment {
                Segment::GroupCorporate => round_clamped(self.rng.log_normal(28.0, 0.85), 12, 400),
                Segment::Corporate => round_clamped(self.rng.pareto(3.0, 1.4, 150.0), 3, 150),
                _ => 0,
            };
            let id = CustomerId::from_uuid(self.uuid(join_at));
            self.customers.push(Customer {
                id,
                segment,
                status: Status::Planned,
                region,
                existing,
                name: None,
                pinyin: String::new(),
                male: self.rng.chance(0.68),
                address: None,
                identifiers: Vec::new(),
                mobile: None,
                wechat: false,
                app: false,
                consent: 0,
                vehicles: Vec::new(),
                policies: Vec::new(),
                active_policies: 0,
                open_matters: 0,
                queued: 0,
                disposition: disposition.clamp(1.5, 4.9),
                mood: disposition.clamp(1.5, 4.9),
                manager: None,
                last_touch: None,
                twin: None,
                anniversary,
                fleet: u32::try_from(fleet).unwrap_or(12),
                industry: self.rng.index(names::INDUSTRIES.len()),
            });
            self.schedule(join_at, Action::Join(small(self.customers.len() - 1)));
        }
    }

    /// A day offset in `0..span` with more weight in the car-buying seasons (March-April,
    /// September-October ("金九银十") and December).
    fn seasonal_day_offset(&mut self, span: i64) -> i64 {
        const SALES: [f64; 12] = [
            0.9, 0.7, 1.1, 1.1, 1.0, 0.95, 0.85, 0.9, 1.15, 1.15, 1.0, 1.2,
        ];
        let first_day = clock::local_day(self.start) + 1;
        for _ in 0..32 {
            let offset = self.rng.range(0, span - 1);
            let weight = SALES[clock::month(first_day + offset) - 1] / 1.2;
            if self.rng.chance(weight) {
                return offset;
            }
        }
        self.rng.range(0, span - 1)
    }

    /// A customer registers: identity, identifiers, consents, an account manager for
    /// companies, and the first policies.
    pub(crate) fn join(&mut self, customer: u32) {
        let segment = self.customer(customer).segment;
        let region = &REGIONS[self.customer(customer).region];
        let male = self.customer(customer).male;
        let year = clock::civil(self.today()).0;
        let mut identifiers = Vec::new();
        let mobile = self.issuer.mobile(&mut self.rng);
        identifiers.push(identifier(IdentifierKind::Mobile, mobile.as_str()));
        let (name, pinyin, address) = if segment.is_corporate() {
            let name = if segment == Segment::GroupCorporate {
                self.group_companies += 1;
                names::group_company_name(self.group_companies - 1)
            } else {
                let industry = self.customer(customer).industry;
                names::company_name(&mut self.rng, region.city, industry)
            };
            let (_, district) = *self.rng.pick(region.districts);
            let code = self.issuer.social_credit_code(&mut self.rng, district);
            identifiers.push(identifier(IdentifierKind::SocialCreditCode, &code));
            let landline = self.issuer.landline(&mut self.rng, region);
            identifiers.push(identifier(IdentifierKind::Landline, &landline));
            (
                name,
                String::from("fleet"),
                names::address(&mut self.rng, region, false),
            )
        } else {
            let person = names::personal_name(&mut self.rng, male);
            let (_, district) = *self.rng.pick(region.districts);
            if self.rng.chance(0.92) {
                let birth =
                    clock::day_number(year - self.rng.range(20, 68), 1, 1) + self.rng.range(0, 364);
                let card = self.issuer.id_card(&mut self.rng, district, birth, male);
                identifiers.push(identifier(IdentifierKind::IdCard, &card));
            }
            (
                person.hanzi,
                person.pinyin,
                names::address(&mut self.rng, region, true),
            )
        };
        let wechat_share = match segment {
            Segment::GroupEmployee => 0.72,
            Segment::Individual => 0.55,
            _ => 0.25,
        };
        let wechat = self.rng.chance(wechat_share);
        if wechat {
            let openid = self.issuer.openid(&mut self.rng);
            identifiers.push(identifier(IdentifierKind::WeChat, &openid));
        }
        if self
            .rng
            .chance(if segment.is_corporate() { 0.5 } else { 0.22 })
        {
            let work =
                (segment == Segment::GroupEmployee && self.rng.chance(0.6)).then_some("faw.com.cn");
            let email = self.issuer.email(&mut self.rng, &pinyin, work);
            identifiers.push(identifier(IdentifierKind::Email, &email));
        }
        self.equip(customer, year);
        for vehicle in &mut self.customers[index(customer)].vehicles {
            if vehicle.identified && identifiers.len() + 2 <= IDENTIFIERS_KEPT_MAX {
                identifiers.push(identifier(IdentifierKind::Plate, vehicle.plate.as_str()));
                identifiers.push(identifier(IdentifierKind::Vin, vehicle.vin.as_str()));
            } else {
                vehicle.identified = false;
            }
        }
        let name = person_name(&name);
        let group = segment.is_group().then(|| person_name(GROUP_NAME));
        let address = text(&address);
        let existing = self.customer(customer).existing;
        let actor = if existing && self.rng.chance(0.6) {
            self.staff.systems.import.clone()
        } else {
            self.staff.agent_on_duty(&mut self.rng, self.now).clone()
        };
        let event = CustomerRegistered {
            customer_id: self.customer(customer).id,
            kind: segment.kind(),
            name: name.clone(),
            group,
            address: Some(address.clone()),
            identifiers: identifiers.clone(),
        };
        let app = !segment.is_corporate() && self.rng.chance(0.35);
        let record = self.customer_mut(customer);
        record.status = Status::Live;
        record.name = Some(name);
        record.pinyin = pinyin;
        record.address = Some(address);
        record.identifiers = identifiers;
        record.mobile = Some(mobile);
        record.wechat = wechat;
        record.app = app;
        if !self.emit(self.now, &actor, Some(customer), event) {
            return;
        }
        self.grant_consents(customer);
        if segment.is_corporate() {
            self.assign_first_manager(customer);
        }
        self.first_policies(customer);
        self.schedule_tick(customer);
        if segment.is_corporate() {
            let at = self.business_moment_in(30, 90);
            self.schedule(at, Action::ManagerTouch(customer));
            if self.customer(customer).fleet >= 10 {
                let at = self.business_moment_in(30, 240);
                self.schedule(at, Action::RiskSurveyDue(customer));
            }
        } else if self.rare(0.006, Rare::Duplicate) {
            let at = self.business_moment_in(30, 300);
            self.schedule(at, Action::DuplicateRegistration(customer));
        }
    }

    /// The vehicles a new customer insures: one to three cars, or a fleet in blocks.
    fn equip(&mut self, customer: u32, year: i64) {
        let record = self.customer(customer);
        let (segment, fleet, industry, region) =
            (record.segment, record.fleet, record.industry, record.region);
        if !segment.is_corporate() {
            let cars = if record.existing {
                self.rng.weighted_pick(&[(1, 80.0), (2, 17.0), (3, 3.0)])
            } else {
                1
            };
            for _ in 0..cars {
                let vehicle = self.new_vehicle(customer, year);
                self.customer_mut(customer).vehicles[vehicle].identified = true;
            }
            return;
        }
        let blocks = fleet
            .div_ceil(VEHICLES_PER_FLEET_POLICY)
            .clamp(1, FLEET_POLICIES_MAX);
        let trucks =
            segment == Segment::GroupCorporate || matches!(industry, 0 | 1 | 3 | 4 | 12 | 14);
        let driving_school = segment == Segment::Corporate && industry == names::DRIVING_SCHOOL;
        let per_vehicle_median = if trucks {
            6_500.0
        } else if driving_school {
            3_600.0
        } else {
            4_800.0
        };
        for block in 0..blocks {
            let count = fleet / blocks + u32::from(block < fleet % blocks);
            let style = if driving_school {
                PlateStyle::DrivingSchool
            } else {
                PlateStyle::Ordinary
            };
            let plate = self
                .issuer
                .plate(&mut self.rng, REGIONS[region].plate, style);
            let model_year = year - self.rng.range(0, 6);
            let vin = self
                .issuer
                .vin(&mut self.rng, model_year, segment.is_group());
            let premium_yuan =
                round_clamped(self.rng.log_normal(per_vehicle_median, 0.25), 1_500, 40_000);
            let identified = usize::try_from(block).unwrap_or(usize::MAX) < IDENTIFIED_BLOCKS_MAX;
            self.customer_mut(customer).vehicles.push(Vehicle {
                plate,
                vin,
                count,
                premium_yuan,
                identified,
                owned: true,
            });
        }
    }

    /// Marketing consents given at registration.
    fn grant_consents(&mut self, customer: u32) {
        let record = self.customer(customer);
        let (wechat, app) = (record.wechat, record.app);
        let has_email = record
            .identifiers
            .iter()
            .any(|id| id.kind() == IdentifierKind::Email);
        let mut channels = Vec::new();
        if self.rng.chance(0.55) {
            channels.push(Channel::Phone);
        }
        if wechat && self.rng.chance(0.7) {
            channels.push(Channel::WeChat);
        }
        if app && self.rng.chance(0.5) {
            channels.push(Channel::App);
        }
        if has_email && self.rng.chance(0.4) {
            channels.push(Channel::Email);
        }
        if self.rng.chance(0.1) {
            channels.push(Channel::Post);
        }
        let actor = self.staff.systems.import.clone();
        for (offset, channel) in (1..).zip(channels) {
            self.set_consent(customer, channel, true, self.now + offset, &actor);
        }
    }

    /// Records a change of marketing consent; asking for the consent the customer already
    /// has (or lacks) records nothing, as the aggregate decides.
    pub(crate) fn set_consent(
        &mut self,
        customer: u32,
        channel: Channel,
        granted: bool,
        at: i64,
        actor: &StaffId,
    ) {
        let current = self.customer(customer).consent & channel_bit(channel) != 0;
        if current == granted {
            return;
        }
        let event = ConsentChanged {
            customer_id: self.customer(customer).id,
            channel,
            granted,
        };
        if self.emit(at, actor, Some(customer), event) {
            let record = self.customer_mut(customer);
            if granted {
                record.consent |= channel_bit(channel);
            } else {
                record.consent &= !channel_bit(channel);
            }
        }
    }

    fn assign_first_manager(&mut self, customer: u32) {
        let manager = self.staff.active_manager(&mut self.rng);
        let lead = self.staff.team_leads[self.staff.managers[manager].team_lead].clone();
        let event = AccountManagerAssigned {
            customer_id: self.customer(customer).id,
            manager: self.staff.managers[manager].id.clone(),
            team_lead: lead.clone(),
            previous_manager: None,
        };
        if self.emit(self.now + MINUTE, &lead, Some(customer), event) {
            self.customer_mut(customer).manager = Some(manager);
        }
    }

    /// The first policies: the existing book's at their anniversary (as they move into the
    /// new system), a new customer's after a quote.
    fn first_policies(&mut self, customer: u32) {
        let record = self.customer(customer);
        let (existing, anniversary, vehicles) =
            (record.existing, record.anniversary, record.vehicles.len());
        let corporate = record.segment.is_corporate();
        let channel = self.policy_channel(customer);
        if existing {
            let wechat = self.customer(customer).wechat && !corporate && self.rng.chance(0.5);
            let mut plan = ContactPlan::new(
                customer,
                if wechat {
                    Channel::WeChat
                } else {
                    Channel::Phone
                },
                Direction::Outbound,
                Topic::Renewal,
                summaries::RENEWAL_REMINDER[usize::from(corporate) * 2],
                ContactOutcome::CallbackScheduled,
                self.now + 3 * MINUTE,
            );
            if let Some(manager) = self.customer(customer).manager {
                plan.agent = Some(self.staff.managers[manager].id.clone());
            }
            self.record_contact(plan);
            for vehicle in 0..vehicles {
                // A private motorist's second car has its own anniversary; a fleet renews
                // all its blocks together.
                let start_day = if vehicle == 0 || corporate {
                    anniversary
                } else {
                    anniversary + self.rng.range(20, 300)
                };
                let policy = self.new_policy(customer, vehicle, start_day, channel);
                let issue_day = (start_day - self.rng.range(0, 5)).max(self.today());
                let at = clock::at_local(issue_day, 9 * HOUR + self.rng.range(0, 8 * HOUR))
                    .max(self.now + HOUR);
                self.schedule(at, Action::IssuePolicy(policy));
            }
        } else {
            for vehicle in 0..vehicles {
                self.sell_policy(customer, vehicle, self.now + 5 * MINUTE, None);
            }
        }
    }

    /// Contacts a customer makes of their own accord, per year.
    fn tick_rate(&self, customer: u32) -> f64 {
        let record = self.customer(customer);
        match record.segment {
            Segment::Corporate | Segment::GroupCorporate => {
                (3.0 + float(record.fleet) / 40.0).min(12.0)
            }
            Segment::Prospect => 0.4,
            Segment::Duplicate => 0.0,
            _ if record.active_policies == 0 => 0.6,
            _ => 2.6,
        }
    }

    pub(crate) fn schedule_tick(&mut self, customer: u32) {
        let rate = self.tick_rate(customer);
        if rate <= 0.0 {
            return;
        }
        let gap = round_clamped(
            self.rng.exponential(365.0 * 86_400.0 / rate),
            HOUR,
            days(3_650),
        );
        self.schedule(self.now + gap, Action::CustomerTick(customer));
    }

    /// One contact the customer starts: most often an enquiry, sometimes a payment question,
    /// a service request, feedback, a quote for another car, a web enquiry, a change of
    /// details, or a complaint (far likelier from a dissatisfied customer).
    pub(crate) fn customer_tick(&mut self, customer: u32) {
        if !self.is_live(customer) {
            return;
        }
        self.schedule_tick(customer);
        let mood = self.customer(customer).mood;
        let complaint_share = (0.015 * exp(1.6 * (3.9 - mood))).min(0.6);
        let day = self.today() + self.rng.range(0, 2);
        if self.rng.chance(complaint_share) {
            self.complaint_on(customer, day, None, None);
            return;
        }
        let has_policy = self.customer(customer).active_policies > 0;
        let individual = !self.customer(customer).segment.is_corporate();
        let choice = self.rng.weighted(&[
            38.0,
            16.0,
            if has_policy { 10.0 } else { 1.0 },
            5.0,
            if individual { 5.0 } else { 0.0 },
            if individual { 5.0 } else { 0.0 },
            8.0,
        ]);
        match choice {
            0 | 1 => {
                let (topic, texts) = if choice == 0 {
                    (Topic::Enquiry, summaries::ENQUIRY)
                } else {
                    (Topic::ServiceRequest, summaries::SERVICE_REQUEST)
                };
                self.own_contact(customer, day, topic, texts, true);
            }
            2 => self.own_contact(customer, day, Topic::Payment, summaries::PAYMENT, false),
            3 => self.own_contact(customer, day, Topic::Feedback, summaries::FEEDBACK, false),
            4 => {
                let at = clock::business_moment_on(&mut self.rng, day);
                if self.customer(customer).vehicles.len() < 4 && self.rng.chance(0.4) {
                    self.buy_vehicle(customer, at);
                } else {
                    self.own_contact(customer, day, Topic::Quote, summaries::QUOTE, false);
                }
            }
            5 => self.known_enquiry(customer),
            _ => self.change_details(customer),
        }
    }

    /// A contact on the customer's own channel; now and then it needs a consultation case.
    fn own_contact(
        &mut self,
        customer: u32,
        day: i64,
        topic: Topic,
        texts: &[&'static str],
        may_open_case: bool,
    ) {
        let channel = self.inbound_channel(customer);
        let at = self.contact_moment_on(channel, day);
        let summary = *self.rng.pick(texts);
        let needs_case = may_open_case && self.rng.chance(0.12);
        let outcome = if needs_case {
            ContactOutcome::FollowUpNeeded
        } else {
            self.rng.weighted_pick(&[
                (ContactOutcome::Resolved, 80.0),
                (ContactOutcome::Transferred, 8.0),
                (ContactOutcome::CallbackScheduled, 6.0),
                (ContactOutcome::Abandoned, 6.0),
            ])
        };
        let mut plan = ContactPlan::new(
            customer,
            channel,
            Direction::Inbound,
            topic,
            summary,
            outcome,
            at,
        );
        plan.policy = self.some_policy_number(customer);
        let Some(recorded) = self.record_contact(plan) else {
            return;
        };
        if needs_case {
            self.open_case(CaseSpec {
                customer,
                kind: ServiceCaseKind::Consultation,
                priority: Priority::Normal,
                subject: summary,
                channel,
                at: recorded.ended_at + MINUTE,
                policy: None,
                claim: None,
                contact: Some(recorded.id),
            });
        }
    }

    fn some_policy_number(&mut self, customer: u32) -> Option<ledger_domain::values::PolicyNumber> {
        let policies = &self.customers[index(customer)].policies;
        if policies.is_empty() || self.rng.chance(0.5) {
            return None;
        }
        let policy = policies[self.rng.index(policies.len())];
        let record = self.policy(policy);
        (record.status != crate::world::PolicyStatus::Pending).then(|| record.number.clone())
    }

    /// A known customer asks to be called back from the web shop, app or WeChat.
    fn known_enquiry(&mut self, customer: u32) {
        let record = self.customer(customer);
        let Some(mobile) = record.mobile.clone() else {
            return;
        };
        let (region, wechat, app) = (record.region, record.wechat, record.app);
        let channel = if wechat && self.rng.chance(0.4) {
            Channel::WeChat
        } else if app && self.rng.chance(0.4) {
            Channel::App
        } else {
            Channel::Web
        };
        let tomorrow = self.today() + 1;
        let at = clock::self_service_moment_on(&mut self.rng, tomorrow);
        let enquiry = Enquiry {
            id: EnquiryId::from_uuid(self.uuid(at)),
            customer: Some(customer),
            name: self.customer(customer).name.clone(),
            mobile,
            plate: None,
            campaign: self.running_online_campaign(),
            region,
        };
        self.receive_enquiry(enquiry, channel, at);
    }

    /// Emits an online enquiry and (usually) plans its call-back.
    pub(crate) fn receive_enquiry(&mut self, enquiry: Enquiry, channel: Channel, at: i64) {
        let lines = if self.rng.chance(0.6) {
            vec![
                ProductLine::CompulsoryTraffic,
                ProductLine::CommercialVehicleDamage,
            ]
        } else {
            Vec::new()
        };
        let message = *self.rng.pick(&[
            "想了解新车第一年的保费",
            "请尽快回电，想比较一下续保价格",
            "咨询新能源车险",
            "想给家里第二辆车投保",
        ]);
        let event = OnlineEnquiryReceived {
            enquiry_id: enquiry.id,
            customer_id: enquiry.customer.map(|customer| self.customer(customer).id),
            campaign_id: enquiry.campaign,
            channel,
            name: enquiry.name.clone(),
            mobile: enquiry.mobile.clone(),
            plate: enquiry.plate.clone(),
            product_lines: lines,
            message: Some(text(message)),
        };
        let actor = match channel {
            Channel::WeChat => self.staff.systems.wechat.clone(),
            Channel::App => self.staff.systems.app.clone(),
            _ => self.staff.systems.web.clone(),
        };
        if !self.emit(at, &actor, enquiry.customer, event) {
            return;
        }
        // Some leads are never called back: the gap a supervisor's queue must show. Now and
        // then someone nobody knew asks for such a lead to be deleted.
        if self.rare(0.15, Rare::UnansweredEnquiry) {
            if enquiry.customer.is_none() && self.rare(0.1, Rare::EnquiryErasure) {
                let delay = self.rng.range(DAY, 30 * DAY);
                let erase_at = clock::business_moment_after(&mut self.rng, at + delay);
                self.schedule(erase_at, Action::EraseEnquiry(enquiry.id));
            }
            return;
        }
        let delay = self.rng.range(10 * MINUTE, 2 * DAY);
        let callback = clock::business_moment_after(&mut self.rng, at + delay);
        let slot = self.enquiries.insert(enquiry);
        self.schedule(callback, Action::EnquiryCallback(slot));
    }

    /// A change of details: a WeChat binding, a new mobile number (the old one removed), an
    /// e-mail address, a move, or a change of marketing consent.
    fn change_details(&mut self, customer: u32) {
        let tomorrow = self.today() + 1;
        let at = clock::business_moment_on(&mut self.rng, tomorrow);
        let agent = self.staff.agent_on_duty(&mut self.rng, at).clone();
        let room = self.customer(customer).identifiers.len() < IDENTIFIERS_KEPT_MAX - 2;
        if room && self.rare(0.3, Rare::IdentifierChange) {
            let mobile = self.issuer.mobile(&mut self.rng);
            let old = self.customer(customer).mobile.clone();
            self.add_identifier(
                customer,
                identifier(IdentifierKind::Mobile, mobile.as_str()),
                at,
                &agent,
            );
            if let Some(old) = old {
                let old = identifier(IdentifierKind::Mobile, old.as_str());
                self.remove_identifier(customer, old, at + MINUTE, &agent);
            }
            self.customer_mut(customer).mobile = Some(mobile);
            let plan = ContactPlan::new(
                customer,
                Channel::Phone,
                Direction::Inbound,
                Topic::ServiceRequest,
                summaries::SERVICE_REQUEST[0],
                ContactOutcome::Resolved,
                at + 2 * MINUTE,
            );
            self.record_contact(plan);
        } else if self.rare(0.25, Rare::AddressChange) {
            let region = &REGIONS[self.customer(customer).region];
            let corporate = self.customer(customer).segment.is_corporate();
            let address = text(&names::address(&mut self.rng, region, !corporate));
            let record = self.customer(customer);
            if record.address.as_ref() == Some(&address) {
                return;
            }
            let event = ProfileUpdated {
                customer_id: record.id,
                name: record.name.clone().unwrap_or_else(|| person_name("客户")),
                group: record.segment.is_group().then(|| person_name(GROUP_NAME)),
                address: Some(address.clone()),
            };
            if self.emit(at, &agent, Some(customer), event) {
                self.customer_mut(customer).address = Some(address);
            }
        } else if room && !self.customer(customer).wechat {
            let openid = self.issuer.openid(&mut self.rng);
            let wechat = self.staff.systems.wechat.clone();
            let at = clock::self_service_moment_on(&mut self.rng, tomorrow);
            self.add_identifier(
                customer,
                identifier(IdentifierKind::WeChat, &openid),
                at,
                &wechat,
            );
            self.customer_mut(customer).wechat = true;
            if self.rng.chance(0.5) {
                self.set_consent(customer, Channel::WeChat, true, at + MINUTE, &wechat);
            }
        } else if room && self.rng.chance(0.5) {
            let has_email = self
                .customer(customer)
                .identifiers
                .iter()
                .any(|id| id.kind() == IdentifierKind::Email);
            if !has_email {
                let pinyin = self.customer(customer).pinyin.clone();
                let email = self.issuer.email(&mut self.rng, &pinyin, None);
                self.add_identifier(
                    customer,
                    identifier(IdentifierKind::Email, &email),
                    at,
                    &agent,
                );
            }
        } else {
            let channel = *self
                .rng
                .pick(&[Channel::Phone, Channel::Post, Channel::Email]);
            let granted = self.customer(customer).consent & channel_bit(channel) == 0;
            self.set_consent(customer, channel, granted, at, &agent);
        }
    }

    pub(crate) fn add_identifier(
        &mut self,
        customer: u32,
        identifier: Identifier,
        at: i64,
        actor: &StaffId,
    ) {
        let event = IdentifierAdded {
            customer_id: self.customer(customer).id,
            identifier: identifier.clone(),
        };
        if self.emit(at, actor, Some(customer), event) {
            self.customer_mut(customer).identifiers.push(identifier);
        }
    }

    pub(crate) fn remove_identifier(
        &mut self,
        customer: u32,
        identifier: Identifier,
        at: i64,
        actor: &StaffId,
    ) {
        if !self.customer(customer).identifiers.contains(&identifier) {
            return;
        }
        let event = IdentifierRemoved {
            customer_id: self.customer(customer).id,
            identifier: identifier.clone(),
        };
        if self.emit(at, actor, Some(customer), event) {
            self.customer_mut(customer)
                .identifiers
                .retain(|held| *held != identifier);
        }
    }

    /// A corporate customer's quarterly contact with its account manager; once a year it
    /// includes a satisfaction survey with NPS.
    pub(crate) fn manager_touch(&mut self, customer: u32) {
        if !self.is_live(customer) {
            return;
        }
        let next = self.business_moment_in(80, 100);
        self.schedule(next, Action::ManagerTouch(customer));
        let Some(manager) = self.customer(customer).manager else {
            return;
        };
        let agent = self.staff.managers[manager].id.clone();
        let channel = self.rng.weighted_pick(&[
            (Channel::Phone, 45.0),
            (Channel::WeChat, 25.0),
            (Channel::Email, 15.0),
            (Channel::WalkIn, 15.0),
        ]);
        let summary = summaries::ACCOUNT_MANAGER[self.rng.index(3)];
        let mut plan = ContactPlan::new(
            customer,
            channel,
            Direction::Outbound,
            Topic::Feedback,
            summary,
            ContactOutcome::Resolved,
            self.now,
        );
        plan.agent = Some(agent.clone());
        let Some(recorded) = self.record_contact(plan) else {
            return;
        };
        if self.rng.chance(0.35) {
            self.satisfaction(
                customer,
                Some(recorded.id),
                recorded.ended_at + MINUTE,
                true,
                &agent,
            );
        }
    }

    /// A yearly risk survey for a corporate customer's fleet (loss prevention).
    pub(crate) fn risk_survey_due(&mut self, customer: u32) {
        if !self.is_live(customer) {
            return;
        }
        let next = self.business_moment_in(330, 400);
        self.schedule(next, Action::RiskSurveyDue(customer));
        if self.customer(customer).active_policies == 0 || !self.rng.chance(0.8) {
            return;
        }
        self.open_case(CaseSpec {
            customer,
            kind: ServiceCaseKind::RiskSurvey,
            priority: Priority::Normal,
            subject: "年度车队风险查勘与防灾防损服务",
            channel: Channel::WalkIn,
            at: self.now,
            policy: None,
            claim: None,
            contact: None,
        });
    }

    /// The same person registers again with another phone number and no ID card, makes a
    /// contact or two, and is merged a few weeks later.
    pub(crate) fn register_duplicate(&mut self, original: u32) {
        if !self.is_live(original) {
            return;
        }
        let record = self.customer(original);
        let (region, male, name, address) = (
            record.region,
            record.male,
            record.name.clone(),
            record.address.clone(),
        );
        let (disposition, mood) = (record.disposition, record.mood);
        let mobile = self.issuer.mobile(&mut self.rng);
        let identifiers = vec![identifier(IdentifierKind::Mobile, mobile.as_str())];
        let id = CustomerId::from_uuid(self.uuid(self.now));
        let duplicate = small(self.customers.len());
        self.customers.push(Customer {
            id,
            segment: Segment::Duplicate,
            status: Status::Live,
            region,
            existing: false,
            name: name.clone(),
            pinyin: String::new(),
            male,
            address: address.clone(),
            identifiers: identifiers.clone(),
            mobile: Some(mobile),
            wechat: false,
            app: false,
            consent: 0,
            vehicles: Vec::new(),
            policies: Vec::new(),
            active_policies: 0,
            open_matters: 0,
            queued: 0,
            disposition,
            mood,
            manager: None,
            last_touch: None,
            twin: Some(original),
            anniversary: self.today(),
            fleet: 0,
            industry: 0,
        });
        self.customer_mut(original).twin = Some(duplicate);
        let event = CustomerRegistered {
            customer_id: id,
            kind: Segment::Duplicate.kind(),
            name: name.unwrap_or_else(|| person_name("客户")),
            group: None,
            address: if self.rng.chance(0.7) { address } else { None },
            identifiers,
        };
        let hall = self.staff.hall[self.rng.index(self.staff.hall.len())].clone();
        self.emit(self.now, &hall, Some(duplicate), event);
        let plan = ContactPlan::new(
            duplicate,
            Channel::WalkIn,
            Direction::Inbound,
            Topic::Enquiry,
            summaries::ENQUIRY[self.rng.index(summaries::ENQUIRY.len())],
            ContactOutcome::Resolved,
            self.now + 2 * MINUTE,
        );
        let mut plan = plan;
        plan.agent = Some(hall);
        self.record_contact(plan);
        if self.rng.chance(0.5) {
            let day = self.today() + self.rng.range(3, 20);
            self.own_contact(duplicate, day, Topic::Enquiry, summaries::ENQUIRY, false);
        }
        let at = self.business_moment_in(25, 90);
        self.schedule(at, Action::Merge(duplicate, 20));
    }

    /// Merges a duplicate into its original once nothing of the duplicate is pending.
    pub(crate) fn merge(&mut self, duplicate: u32, attempts: u8) {
        let Some(original) = self.customer(duplicate).twin else {
            return;
        };
        if !self.is_live(duplicate) || !self.is_live(original) {
            return;
        }
        let record = self.customer(duplicate);
        if record.queued > 0 || record.open_matters > 0 {
            if attempts > 0 {
                let at = self.business_moment_in(2, 5);
                self.schedule(at, Action::Merge(duplicate, attempts - 1));
            }
            return;
        }
        // The merge carries the identifiers the duplicate holds, in the aggregate's order.
        let mut identifiers = record.identifiers.clone();
        identifiers.sort();
        let event = CustomersMerged {
            customer_id: record.id,
            survivor_id: self.customer(original).id,
            identifiers: identifiers.clone(),
            reason: Some(text("同一客户重复建档：姓名、地址一致，经本人电话确认")),
        };
        let steward = self.staff.data_quality.clone();
        if self.emit(self.now, &steward, Some(duplicate), event) {
            // The survivor's stream is not written to: its identifiers (as its aggregate
            // knows them) stay as they were, while the directory finds it by the merged ones.
            self.customer_mut(duplicate).status = Status::Merged;
            self.customer_mut(original).twin = None;
        }
    }

    /// Erases a customer's personal data once no policy, claim, case or queued event of
    /// theirs remains.
    pub(crate) fn erase(&mut self, customer: u32, attempts: u8) {
        if !self.is_live(customer) {
            return;
        }
        let record = self.customer(customer);
        let twin_pending = record.twin.is_some_and(|twin| self.is_live(twin));
        let pending_policy = record
            .policies
            .iter()
            .any(|&policy| self.policy(policy).status == crate::world::PolicyStatus::Pending);
        let busy = record.active_policies > 0
            || record.open_matters > 0
            || record.queued > 0
            || twin_pending
            || pending_policy;
        if busy {
            if attempts > 0 {
                let at = self.business_moment_in(5, 10);
                self.schedule(at, Action::Erase(customer, attempts - 1));
            }
            return;
        }
        let customer_id = record.id;
        let reason = self.rng.weighted_pick(&[
            (ErasureReason::CustomerRequest, 85.0),
            (ErasureReason::RetentionPeriodEnded, 10.0),
            (ErasureReason::LegalOrder, 5.0),
        ]);
        let event = CustomerErased {
            customer_id,
            reason,
        };
        let privacy = self.staff.privacy.clone();
        if self.emit(self.now, &privacy, Some(customer), event) {
            self.customer_mut(customer).status = Status::Erased;
            self.covered(Rare::Erasure);
        }
    }

    /// Erases an unanswered lead from someone nobody knew, at their request.
    pub(crate) fn erase_enquiry(&mut self, enquiry_id: EnquiryId) {
        let event = EnquiryErased {
            enquiry_id,
            reason: ErasureReason::CustomerRequest,
        };
        let privacy = self.staff.privacy.clone();
        self.emit(self.now, &privacy, None, event);
    }

    /// An account manager leaves; each of their customers gets a new manager within days
    /// (satisfaction dips after a handover) and a visit from them.
    pub(crate) fn manager_leaves(&mut self) {
        let active = self
            .staff
            .managers
            .iter()
            .filter(|manager| manager.active)
            .count();
        let gap_days = 365.0 / (0.15 * float(active.max(1)));
        let gap = round_clamped(self.rng.exponential(gap_days * 86_400.0), DAY, days(3_650));
        self.schedule(self.now + gap, Action::ManagerLeaves);
        let leaving = self.staff.active_manager(&mut self.rng);
        let spare = self
            .staff
            .managers
            .iter()
            .position(|manager| !manager.active && !manager.left);
        if spare.is_none() && active < 2 {
            return;
        }
        self.staff.managers[leaving].active = false;
        self.staff.managers[leaving].left = true;
        if let Some(spare) = spare {
            self.staff.managers[spare].active = true;
        }
        let clients: Vec<u32> = (0..self.customers.len())
            .filter(|&index| {
                let record = &self.customers[index];
                record.is_live() && record.manager == Some(leaving)
            })
            .map(small)
            .collect();
        let leaving_id = self.staff.managers[leaving].id.clone();
        for client in clients {
            let successor = self.staff.active_manager(&mut self.rng);
            let lead = self.staff.team_leads[self.staff.managers[successor].team_lead].clone();
            let at = self.business_moment_in(1, 7);
            let event = AccountManagerAssigned {
                customer_id: self.customer(client).id,
                manager: self.staff.managers[successor].id.clone(),
                team_lead: lead.clone(),
                previous_manager: Some(leaving_id.clone()),
            };
            if self.emit(at, &lead, Some(client), event) {
                self.customer_mut(client).manager = Some(successor);
                self.experience(client, -0.6);
                let mut plan = ContactPlan::new(
                    client,
                    Channel::WalkIn,
                    Direction::Outbound,
                    Topic::Feedback,
                    summaries::ACCOUNT_MANAGER[3],
                    ContactOutcome::Resolved,
                    clock::business_moment_after(&mut self.rng, at + DAY),
                );
                plan.agent = Some(self.staff.managers[successor].id.clone());
                self.record_contact(plan);
            }
        }
    }
}
