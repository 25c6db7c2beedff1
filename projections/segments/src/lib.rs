//! The segments projection: per-customer metrics as of any day, and customer segments defined
//! as rules an analyst can read and write (seed 4.1.1, 4.2.3 3: the customer pyramid, group
//! customers, the barely satisfied who leave, the untapped potential).
//!
//! # Components
//!
//! - [`Segments`] (module `fold`): the [`Projection`](ledger_domain::projection::Projection)
//!   named `segments`, a pure fold that keeps each customer's *facts* (policies with periods,
//!   premiums, product lines and endings; claims and payments; contacts by channel and topic;
//!   satisfaction answers; group membership; account managers), each dated by its Beijing day.
//!   It knows no clock: anything "in the last 90 days" is computed at query time.
//! - `metrics`: [`CustomerMetrics`] as of a day, computed from the facts, plus the figures
//!   that need the whole book (the key-accounts cut, RFM quintiles).
//! - [`SegmentRules`] (module `rules`): `[[segment]]` tables in TOML, each rule a CEL
//!   expression over the [`VARIABLES`]; checked when loaded, so a bad rule is a [`RuleError`]
//!   with the segment's name and the line and column in the file. `segments.toml` ships the
//!   built-ins in the same language.
//! - [`SegmentSnapshot`] (module `snapshot`): every customer's metrics and every segment's
//!   members as of one day: summaries, member pages, a customer's segments, changes.
//! - [`SegmentEngine`]: the rules plus a cache of snapshots by (day, log position), which the
//!   API holds; [`query`] has the same reads as plain functions.
//!
//! # Key layout
//!
//! | key | value | kept |
//! |---|---|---|
//! | `C` ‖ customer id (16 bytes) | the customer's facts (`facts::CustomerFacts`), with those of the customers merged into it kept apart, each with its merge's day | from the first event naming the customer; moved into the survivor's record when merged away |
//! | `M` ‖ customer id | the survivor it was merged into | from `CustomersMerged` |
//! | `L` | the latest Beijing day seen (`i64`) | always: the pruning clock |
//!
//! One record per customer: every event about a customer reads and rewrites that record.
//! Records are bounded by pruning: facts more than [`RETENTION_DAYS`] (800) before the
//! latest day seen are dropped whenever a record is written, except the latest of each kind
//! a "last …" metric needs (latest contact day, CSAT, NPS, group and manager change, latest
//! policy period). A private customer's record is a few hundred bytes; a fleet with hundreds
//! of contacts a year a few tens of KB.
//!
//! # Metrics, windows and time
//!
//! Metrics are per Beijing calendar day (UTC+8, fixed: China has no daylight saving since
//! 1991): `as_of` is turned into its Beijing day D, a fact counts if it happened on or before
//! D, and "the last 90 days" is D and the 89 days before it. Contacts are dated by
//! `started_at`; everything else by the event's `occurred_at` (capped at `recorded_at`, so a
//! mistyped future date cannot prune history). Metrics can be asked for as of any day from
//! `latest − RETENTION_DAYS + 365` on (about 14 months back); earlier is
//! [`SegmentError::AsOfTooEarly`], since pruned facts would make them wrong.
//!
//! - Premium in force: per policy, the period recorded by D that contains D and has not
//!   lapsed or been cancelled by D, at its latest terms (endorsements) effective and recorded
//!   by D; annualised (`× 365 / days` unless the period is a year of 365-366 days).
//! - Next renewal: the end of the in-force period + 1 day, for policies whose in-force period
//!   is their latest (a policy renewed early has its next period recorded and is not due).
//! - Lapsed not renewed: a policy whose latest period lapsed in the last 365 days.
//! - Claims in 12 months: claims reported, and payments settled, in the last 365 days; loss
//!   ratio: paid ÷ annualised premium in force (null without premium).
//! - Complaints: contacts whose topic is `COMPLAINT` (a complaint service case usually has
//!   one, so cases are not counted again).
//! - RFM: recency by days since the last contact (never contacted is worst), frequency by
//!   contacts in 365 days, monetary by premium in force; each `1 + 5 × (customers strictly
//!   worse) / customers`, so ties score alike.
//! - Key accounts: customers by premium in force, highest first (then id), up to the one at
//!   which the running total first reaches 80% of all premium in force.
//! - Erased customers: from the Beijing day of their `CustomerErased` a customer is outside
//!   the book segments are drawn from. They cannot be contacted (a campaign's touch is
//!   refused), so no rule, built-in or an analyst's, makes them members; they are in no
//!   denominator (customers, policyholders, premium in force) and in no ranking (RFM and key
//!   accounts compare the others only). Their metrics can still be read (`erased` is true).
//!   As of a day before the erasure they are customers like any other, so membership changes
//!   across it list them as having left.
//! - Merged customers: a merge changes no earlier day's figures. As of a day before the
//!   Beijing day of its `CustomersMerged` the duplicate is a customer of its own, with its own
//!   facts, and the survivor has only its own; from that day on the duplicate is no customer
//!   (membership changes across the merge list it as having left) and the survivor's metrics
//!   count both customers' facts. An event about the duplicate folded after the merge is
//!   filed with the duplicate if it is dated before the merge's day, else with the survivor.
//!
//! # Rules (CEL)
//!
//! A rule is a CEL expression (<https://github.com/google/cel-spec>, evaluated by the `cel`
//! crate, formerly `cel-interpreter`) that is `true` for members. Variables are listed in
//! [`VARIABLES`]; those documented "or null" are null when the customer has no such fact, and
//! a rule tests them first: `last_csat != null && last_csat <= 3`. Loading rejects a rule
//! that does not parse, names anything but a variable (or a CEL type name), or fails or is
//! not boolean for a probe customer with no facts at all or for one with every fact, so
//! such mistakes surface at start-up, not as wrong segment sizes. `contacts_90d` is a map
//! with every channel present (`contacts_90d.WECHAT >= 3`).
//!
//! # Costs
//!
//! - Fold: per event, one read and one write of the customer's record (plus the clock key),
//!   so the cost grows with the record, which pruning bounds.
//! - A snapshot ([`evaluate`]) reads every `C` record once (range reads of 1,024), computes
//!   the metrics, sorts the book by premium (key accounts) and three times for RFM, and runs
//!   every rule for every customer: O(customers × (facts + rules)) time and about 300 bytes
//!   of memory a customer. Measured on the synthetic book of 2,000 customers over three years
//!   (68,391 events, 2,212 customers known at the end; release build, one core): the fold
//!   takes ~0.1 s in memory (2,220 keys, 0.9 MB); a snapshot with the six built-in rules
//!   15-20 ms, of which metrics and ranking are ~3.5 ms and CEL the rest (~5 µs a customer
//!   for six rules). It is linear, so 100,000 customers take about a second.
//! - [`SegmentEngine`] therefore evaluates once per (day, position), or once per staleness
//!   period when a little staleness is allowed, and serves summaries, member pages (~50 µs
//!   for a page of 100) and a customer's segments from memory. The plain functions in
//!   [`query`] evaluate on every call: fine for tests, tools and small books.
//! - `membership_changes` is two snapshots and a comparison of sorted id lists.

mod days;
mod engine;
mod facts;
mod fold;
mod keys;
mod metrics;
pub mod query;
mod rules;
mod snapshot;
mod variables;

#[cfg(test)]
mod tests;

pub use engine::{SNAPSHOT_CACHE_ENTRIES, SegmentEngine};
pub use facts::{LONGEST_WINDOW_DAYS, RETENTION_DAYS};
pub use fold::{MERGE_CHAIN_MAX, Segments};
pub use metrics::{
    CHANNELS, CLAIMS_WINDOW_DAYS, COMPLAINTS_WINDOW_DAYS, CONTACTS_WINDOW_DAYS, CustomerMetrics,
    FREQUENCY_WINDOW_DAYS, KEY_ACCOUNTS_PREMIUM_PERCENT, LAPSE_WINDOW_DAYS, RFM_SCORE_MAX, Rfm,
};
pub use query::{
    CustomerPolicy, customer_metrics, customer_policies, customer_segments, membership_changes,
    segment_members, segments, survivor,
};
pub use rules::{
    DESCRIPTION_CHARS_MAX, RULE_CHARS_MAX, RULES_FILE_BYTES_MAX, RuleError, SEGMENTS_MAX,
    SHIPPED_RULES, SegmentRule, SegmentRules,
};
pub use snapshot::{
    CHANGES_MAX, Changes, MEMBERS_PAGE_MAX, POPULATION_MAX, Page, SegmentError, SegmentSnapshot,
    SegmentSummary, evaluate,
};
pub use variables::{VARIABLES, Variable, channel_key};
