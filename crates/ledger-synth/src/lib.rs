//! Deterministic, realistic synthetic history of the insurer (a carmaker group's captive
//! motor insurer in Jilin), for demos, tests and benchmarks: the same [`SynthConfig`] always
//! gives the same events, byte for byte, on every machine. No IO, no async.
//!
//! # The world it generates
//!
//! **Customers** ([`SynthConfig::customers`] of them; the history adds about 10% more
//! registrations: web-shop prospects who were called back, and duplicates):
//! - the customer pyramid (seed 4.2.3 3), laid out in fixed shares so its layers have the
//!   same sizes whatever the seed: 70.5% private motorists and 22% employees of the carmaker
//!   group's member companies (group customers), one to three cars each, premium per car
//!   log-normal around 4,000-4,600 yuan; 4% companies outside the group (fleets Pareto, 3 to
//!   150 vehicles) and 3.5% group member companies (一汽解放, 一汽物流, their branches and
//!   fleets ..., fleets log-normal around 28 vehicles, 12 to 400), insured in blocks of up to
//!   40 vehicles per policy. The top 20% of policyholders hold 80-83% of premium and group
//!   customers 66-71% (measured over seeds 1-10 at 2,000 customers);
//! - nine in ten live in Jilin (half in Changchun, plates 吉A; 吉B to 吉J for the other
//!   cities), the rest in Liaoning, Heilongjiang and Inner Mongolia; names, ID card region
//!   codes, landline area codes and addresses follow the region;
//! - every identifier passes its real rule and is issued to one customer only, ever: mobile
//!   numbers of the three carriers, ID card numbers (GB 11643 check digit, sex digit matching
//!   the name; left out on 8% of registrations and on every duplicate), unified social credit
//!   codes (GB 32100 and the embedded GB 11714 organisation-code check), plates (new-energy
//!   and driving-school plates included), VINs (ISO 3779 check digit, the group's own brands
//!   LFV, LFP, LFM, LFW most common), WeChat openids for about 55% of individuals;
//! - about 72% of individuals and 90% of companies are the existing book: they register as
//!   their first anniversary in the history comes round; the rest buy during the history.
//!
//! **What happens to them** (each a discrete event in one time-ordered simulation):
//! - policies (compulsory traffic insurance plus commercial lines) renewed yearly in the
//!   month before the anniversary, after a reminder, with a no-claim discount; about 11%
//!   lapse, far more among dissatisfied customers; a few endorsed or cancelled (a sold car's
//!   plate and VIN are removed from the customer, and most buy another);
//! - claims at about 0.2 per car-year (0.12 per fleet vehicle), half as many again in
//!   Jilin's winter: report (24-hour hotline, WeChat, app) → survey → one-time request for
//!   every document → documents → settlement within the time guarantee (3, 7, 10 or 20
//!   working days; about 7% late), about 4% rejected and 2.5% reopened, each step with its
//!   contacts and most with a satisfaction call;
//! - service cases of every kind with deadlines in working hours (rescue, fast survey, small
//!   claim fast payout, 4S repair, direct, advance and itemised payment, subrogation,
//!   consultations, complaints, yearly risk surveys of fleets with recommendations followed
//!   up), some escalated, reopened or resolved late;
//! - contacts on every channel (about 60% phone, 20% WeChat, 10% walk-in, under 1.5% fax and
//!   post) in business hours (08:30-17:30 Beijing time, Monday to Saturday, none in the
//!   Spring Festival week) except the round-the-clock hotline and self-service; agents work
//!   early, late and night shifts with two days off a week; complaints grow exponentially as
//!   a customer's mood (the expected CSAT, moved by rejections, late payments and handovers)
//!   falls;
//! - six campaigns a year (spring renewal care, new-energy, group employees, win-back, the
//!   September-October new-car season, winter safety checks) with budget, weekly costs,
//!   touches on consented channels, responses and attributed premium; web-shop leads called
//!   back by the call centre, about 15% never (one in ten of those from someone nobody knew is
//!   erased at their request within a month);
//! - account managers for companies (one per ~12 companies, under team leads; about 15% of
//!   managers leave each year and their customers are handed over); about 0.6% of
//!   individuals register twice with another phone and are merged weeks later; a few
//!   customers without policies are erased;
//! - 31 business processes in six departments (trees within a department, links across
//!   them, two orphans), revised a few times a year, with training records (never complete).
//!
//! Staff scale with the book: one agent per 500 customers (at least 12), hall staff,
//! surveyors, claims handlers, account managers, team leads, risk engineers, marketers.
//!
//! # Knobs and cost
//!
//! [`SynthConfig`]: `customers`, `years` (history length), `seed`, `end` (a fixed default so
//! output never depends on the clock). About [`EVENTS_PER_CUSTOMER_PER_YEAR`] events per
//! customer and year (34 per customer over three years). [`generate`] streams: it is a
//! discrete-event simulation whose queue holds only pending work, and events are yielded in
//! `occurred_at` order as the simulation reaches them, so memory is the per-customer state
//! (about 2 KB a customer), not the history: 100,000 customers over three years are 3.4
//! million events in under 10 s and about 200 MB (release build, one core).
//!
//! [`fixture_events`] is a small fixed history holding every event type of the catalogue.

mod cases;
mod claims;
mod clock;
mod contacts;
mod customers;
mod issuer;
mod marketing;
mod names;
mod policies;
mod processes;
mod rng;
mod staff;
mod world;

use jiff::Timestamp;
use ledger_domain::events::Event;
use ledger_domain::ids::{EventId, StaffId, StreamId};

use crate::world::{Action, World};

/// The most customers [`generate`] accepts: about 2 KB of state each keeps a million within a
/// few GB.
pub const CUSTOMERS_MAX: u32 = 1_000_000;

/// The longest history [`generate`] accepts, in years.
pub const YEARS_MAX: u32 = 10;

/// Events per customer and year, roughly, for sizing progress bars: multiply by customers and
/// years. Measured: 34.2 per customer over 3 years at 2,000 customers, 34.5 at 100,000.
pub const EVENTS_PER_CUSTOMER_PER_YEAR: u32 = 12;

/// The expected number of events for `config`, for sizing a progress bar (not exact).
pub fn events_estimate(config: &SynthConfig) -> u64 {
    u64::from(config.customers) * u64::from(config.years) * u64::from(EVENTS_PER_CUSTOMER_PER_YEAR)
}

/// The default end of the history: a fixed instant, so the default output never changes.
pub const DEFAULT_END: &str = "2026-11-01T00:00:00Z";

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Customers in the book (1 to [`CUSTOMERS_MAX`]).
    pub customers: u32,
    /// Length of the history in years, ending at `end` (1 to [`YEARS_MAX`]).
    pub years: u32,
    pub seed: u64,
    /// The history ends here (see [`DEFAULT_END`]).
    pub end: Timestamp,
}

impl Default for SynthConfig {
    /// 1,000 customers over 3 years, seed 0, ending at [`DEFAULT_END`].
    fn default() -> Self {
        Self {
            customers: 1_000,
            years: 3,
            seed: 0,
            end: DEFAULT_END
                .parse()
                .expect("DEFAULT_END is an RFC 3339 instant"),
        }
    }
}

/// Why a configuration cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl SynthConfig {
    /// Checks the configuration is within the limits; [`generate`] panics with this message
    /// otherwise, so callers taking user input call this first.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !(1..=CUSTOMERS_MAX).contains(&self.customers) {
            return Err(ConfigError(format!(
                "customers must be 1 to {CUSTOMERS_MAX}, not {}",
                self.customers
            )));
        }
        if !(1..=YEARS_MAX).contains(&self.years) {
            return Err(ConfigError(format!(
                "years must be 1 to {YEARS_MAX}, not {}",
                self.years
            )));
        }
        // ID card birth dates must lie in 1900-2100 (the rule's fixed range) and VIN model-year
        // codes repeat every 30 years; 2000-2090 keeps every generated value comfortably valid.
        // (Outside 2015-2035 the calendar simply has no Spring Festival week.)
        let year = self.end.to_zoned(jiff::tz::TimeZone::UTC).year();
        if !(2000..=2090).contains(&year) {
            return Err(ConfigError(format!(
                "end must be in the years 2000 to 2090, not {year}"
            )));
        }
        Ok(())
    }

    /// The first instant of the history: `end` minus `years` calendar years (UTC).
    pub fn start(&self) -> Timestamp {
        let years = i64::from(self.years);
        self.end
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_sub(jiff::Span::new().years(years))
            .expect("within jiff's range for checked configurations")
            .timestamp()
    }
}

/// One generated event with its envelope facts, in the order it is to be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticEvent {
    /// The event's stream (always `event.stream()`).
    pub stream: StreamId,
    /// A v7 UUID whose time is `occurred_at` and whose random bits come from the seed.
    pub event_id: EventId,
    pub occurred_at: Timestamp,
    /// The agent, member of staff or system (`system:policy`) that recorded it.
    pub actor: StaffId,
    pub event: Event,
}

/// The generator: an iterator over the history in `occurred_at` order (ties in the order
/// the simulation made them).
#[derive(Debug)]
pub struct Generator {
    world: World,
}

impl Iterator for Generator {
    type Item = SyntheticEvent;

    fn next(&mut self) -> Option<SyntheticEvent> {
        self.world.next_event()
    }
}

impl Generator {
    /// Pending actions and events in the simulation's queue (a measure of its memory).
    pub fn pending(&self) -> usize {
        self.world.pending()
    }
}

/// Generates the history `config` describes, streaming.
///
/// # Panics
///
/// If `config` is outside the limits ([`SynthConfig::check`] says which).
pub fn generate(config: &SynthConfig) -> Generator {
    build(config, false)
}

/// A small fixed history (1,000 to 3,000 events) that holds every event type of
/// [`ledger_domain::events::CATALOGUE`] at least once: 40 customers over two years, seed 1,
/// with rare outcomes (a merge, an erasure, a correction, a rejected and a reopened claim ...)
/// forced at their first opportunity.
pub fn fixture_events() -> Vec<SyntheticEvent> {
    let config = SynthConfig {
        customers: 40,
        years: 2,
        seed: 1,
        ..SynthConfig::default()
    };
    build(&config, true).collect()
}

fn build(config: &SynthConfig, coverage: bool) -> Generator {
    if let Err(error) = config.check() {
        panic!("invalid synthetic history configuration: {error}");
    }
    let start = clock::seconds(config.start());
    let end = clock::seconds(config.end);
    // Companies are 15 in every 200 customers (see `customers::segment_of`).
    let corporates = config.customers / 200 * 15 + 2;
    let staff = staff::Staff::for_book(config.customers, corporates);
    let mut world = World::new(config.seed, start, end, staff, coverage);
    world.publish_processes();
    world.plan_campaigns();
    world.plan_book(config.customers);
    let first_lead = world.business_moment_in(1, 10);
    world.schedule(first_lead, Action::ProspectEnquiry);
    let first_departure = world.business_moment_in(60, 200);
    world.schedule(first_departure, Action::ManagerLeaves);
    Generator { world }
}
