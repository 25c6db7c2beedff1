//! The metrics as CEL variables: their names, types and meanings (the rule language's whole
//! vocabulary), binding one customer's metrics into a CEL scope, and the two probe customers
//! every rule is tried on when it is loaded.

use std::collections::HashMap;

use cel::{Context, Value};
use ledger_domain::ids::CustomerId;
use ledger_domain::values::Channel;

use crate::metrics::{CHANNELS, CustomerMetrics, Rfm};

/// One variable a rule can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    /// What the variable holds; loading checks every comparison in a rule against it.
    pub kind: VariableKind,
    /// The metric can be absent: the variable is then null.
    pub nullable: bool,
    pub meaning: &'static str,
}

/// What a variable holds, as far as a rule's comparisons are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableKind {
    /// A whole number; `min` and `max` (inclusive) are its bounds where the metric has them
    /// (a count is never negative, a CSAT answer is 1 to 5), so that a comparison no value
    /// within them can satisfy is refused when the rules are loaded.
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// A number with a fraction; `min` (inclusive) is its lower bound where the metric has one
    /// (a ratio of amounts that are never negative), checked as an int's bounds are.
    Double {
        min: Option<i64>,
    },
    Bool,
    /// `contacts_90d`: a map from every channel's key ([`channel_key`]) to a count.
    ChannelCounts,
}

impl Variable {
    /// The CEL type: `int`, `double`, `bool`, `map(string, int)`; `… or null` when the metric
    /// can be absent.
    pub const fn cel_type(&self) -> &'static str {
        match (self.kind, self.nullable) {
            (VariableKind::Int { .. }, false) => "int",
            (VariableKind::Int { .. }, true) => "int or null",
            (VariableKind::Double { .. }, false) => "double",
            (VariableKind::Double { .. }, true) => "double or null",
            (VariableKind::Bool, false) => "bool",
            (VariableKind::Bool, true) => "bool or null",
            (VariableKind::ChannelCounts, false) => "map(string, int)",
            (VariableKind::ChannelCounts, true) => "map(string, int) or null",
        }
    }

    /// The variable named `name`, if there is one.
    pub fn named(name: &str) -> Option<&'static Variable> {
        VARIABLES.iter().find(|variable| variable.name == name)
    }
}

/// A count: never negative.
const COUNT: VariableKind = VariableKind::Int {
    min: Some(0),
    max: None,
};

/// An amount in fen summed from premiums or claim payments, which the events' own rules keep
/// from being negative (`Money::non_negative`, a settlement more than zero): never negative.
const AMOUNT_FEN: VariableKind = VariableKind::Int {
    min: Some(0),
    max: None,
};

/// Days from an earlier fact to the as-of day: facts after the as-of day are not counted, so
/// never negative (0 on the fact's own day).
const DAYS_SINCE: VariableKind = VariableKind::Int {
    min: Some(0),
    max: None,
};

/// Days from the as-of day to the renewal of a period in force on it: the renewal is the day
/// after the period's last day, so at least 1.
const DAYS_UNTIL_RENEWAL: VariableKind = VariableKind::Int {
    min: Some(1),
    max: None,
};

/// A score or answer on a fixed scale, `min` to `max`.
const fn scale(min: i64, max: i64) -> VariableKind {
    VariableKind::Int {
        min: Some(min),
        max: Some(max),
    }
}

/// The product lines there are (`ProductLine::ALL`): a customer holds at most all of them.
const PRODUCT_LINES_MAX: i64 = 14;

/// Every variable a segment rule can use. Any other identifier in a rule is rejected when the
/// rules are loaded. Windows are Beijing calendar days ending on the as-of day.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "premium_in_force_fen",
        kind: AMOUNT_FEN,
        nullable: false,
        meaning: "annualised premium of the policies in force, in fen",
    },
    Variable {
        name: "policies_active",
        kind: COUNT,
        nullable: false,
        meaning: "policies in force",
    },
    Variable {
        name: "product_lines",
        kind: scale(0, PRODUCT_LINES_MAX),
        nullable: false,
        meaning: "distinct product lines across the policies in force",
    },
    Variable {
        name: "days_to_next_renewal",
        kind: DAYS_UNTIL_RENEWAL,
        nullable: true,
        meaning: "days until the first policy in force not yet renewed comes up for renewal (the day after its period's last day, so 1 or more); null without one",
    },
    Variable {
        name: "lapsed_not_renewed",
        kind: VariableKind::Bool,
        nullable: false,
        meaning: "a policy lapsed in the last 365 days and was not renewed",
    },
    Variable {
        name: "claims_12m",
        kind: COUNT,
        nullable: false,
        meaning: "claims reported in the last 365 days",
    },
    Variable {
        name: "claims_paid_12m_fen",
        kind: AMOUNT_FEN,
        nullable: false,
        meaning: "claim payments in the last 365 days, in fen",
    },
    Variable {
        name: "loss_ratio",
        // Claim payments and premiums are never negative (see AMOUNT_FEN).
        kind: VariableKind::Double { min: Some(0) },
        nullable: true,
        meaning: "claims_paid_12m_fen / premium_in_force_fen; null without premium in force",
    },
    Variable {
        name: "contacts_90d",
        kind: VariableKind::ChannelCounts,
        nullable: false,
        meaning: "contacts in the last 90 days per channel, every channel present: contacts_90d.PHONE, .WEB, .WECHAT, .SELF_SERVICE_TERMINAL, .WALK_IN, .EMAIL, .FAX, .POST, .APP",
    },
    Variable {
        name: "contacts_90d_total",
        kind: COUNT,
        nullable: false,
        meaning: "contacts in the last 90 days, all channels",
    },
    Variable {
        name: "contacts_365d",
        kind: COUNT,
        nullable: false,
        meaning: "contacts in the last 365 days, all channels",
    },
    Variable {
        name: "complaints_180d",
        kind: COUNT,
        nullable: false,
        meaning: "contacts about a complaint in the last 180 days",
    },
    Variable {
        name: "last_csat",
        kind: scale(1, 5),
        nullable: true,
        meaning: "the latest CSAT answer, 1 to 5; null if the customer never gave one",
    },
    Variable {
        name: "last_nps",
        kind: scale(0, 10),
        nullable: true,
        meaning: "the latest NPS answer, 0 to 10; null if the customer never gave one",
    },
    Variable {
        name: "days_since_last_contact",
        kind: DAYS_SINCE,
        nullable: true,
        meaning: "days since the latest contact; null if the customer was never contacted",
    },
    Variable {
        name: "days_since_registered",
        kind: DAYS_SINCE,
        nullable: false,
        meaning: "days since the customer registered (or first appeared in the ledger)",
    },
    Variable {
        name: "group",
        kind: VariableKind::Bool,
        nullable: false,
        meaning: "a member of the carmaker group",
    },
    Variable {
        name: "corporate",
        kind: VariableKind::Bool,
        nullable: false,
        meaning: "a company rather than a person",
    },
    Variable {
        name: "has_account_manager",
        kind: VariableKind::Bool,
        nullable: false,
        meaning: "an account manager is assigned",
    },
    Variable {
        name: "rfm_recency",
        kind: scale(1, 5),
        nullable: false,
        meaning: "1 to 5 by quintile of days since the latest contact, 5 the most recent",
    },
    Variable {
        name: "rfm_frequency",
        kind: scale(1, 5),
        nullable: false,
        meaning: "1 to 5 by quintile of contacts in the last 365 days, 5 the most",
    },
    Variable {
        name: "rfm_monetary",
        kind: scale(1, 5),
        nullable: false,
        meaning: "1 to 5 by quintile of premium in force, 5 the highest",
    },
    Variable {
        name: "in_key_accounts",
        kind: VariableKind::Bool,
        nullable: false,
        meaning: "in the smallest set of customers holding 80% of the premium in force",
    },
];

/// Identifiers CEL itself defines that a rule may name: its type names (`type(x) == int`).
pub(crate) const CEL_TYPE_NAMES: &[&str] = &[
    "bool",
    "bytes",
    "double",
    "int",
    "list",
    "map",
    "null_type",
    "string",
    "type",
    "uint",
];

/// The channel's name as a key of `contacts_90d`: its JSON spelling.
pub fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Phone => "PHONE",
        Channel::Web => "WEB",
        Channel::WeChat => "WECHAT",
        Channel::SelfServiceTerminal => "SELF_SERVICE_TERMINAL",
        Channel::WalkIn => "WALK_IN",
        Channel::Email => "EMAIL",
        Channel::Fax => "FAX",
        Channel::Post => "POST",
        Channel::App => "APP",
    }
}

/// Binds every variable of [`VARIABLES`] to `metrics`' value in `scope`.
pub(crate) fn bind(scope: &mut Context<'_, '_>, metrics: &CustomerMetrics) {
    let int = |value: i64| Value::Int(value);
    let count = |value: u32| Value::Int(i64::from(value));
    let optional = |value: Option<i64>| value.map_or(Value::Null, Value::Int);
    let contacts: HashMap<&'static str, i64> = Channel::ALL
        .iter()
        .zip(metrics.contacts_90d)
        .map(|(channel, contacts)| (channel_key(*channel), i64::from(contacts)))
        .collect();
    let values = [
        ("premium_in_force_fen", int(metrics.premium_in_force_fen)),
        ("policies_active", count(metrics.policies_active)),
        ("product_lines", count(metrics.product_lines)),
        (
            "days_to_next_renewal",
            optional(metrics.days_to_next_renewal),
        ),
        (
            "lapsed_not_renewed",
            Value::Bool(metrics.lapsed_not_renewed),
        ),
        ("claims_12m", count(metrics.claims_12m)),
        ("claims_paid_12m_fen", int(metrics.claims_paid_12m_fen)),
        (
            "loss_ratio",
            metrics.loss_ratio.map_or(Value::Null, Value::Float),
        ),
        ("contacts_90d", Value::from(contacts)),
        ("contacts_90d_total", count(metrics.contacts_90d_total)),
        ("contacts_365d", count(metrics.contacts_365d)),
        ("complaints_180d", count(metrics.complaints_180d)),
        ("last_csat", optional(metrics.last_csat.map(i64::from))),
        ("last_nps", optional(metrics.last_nps.map(i64::from))),
        (
            "days_since_last_contact",
            optional(metrics.days_since_last_contact),
        ),
        ("days_since_registered", int(metrics.days_since_registered)),
        ("group", Value::Bool(metrics.group)),
        ("corporate", Value::Bool(metrics.corporate)),
        (
            "has_account_manager",
            Value::Bool(metrics.account_manager.is_some()),
        ),
        ("rfm_recency", int(i64::from(metrics.rfm.recency))),
        ("rfm_frequency", int(i64::from(metrics.rfm.frequency))),
        ("rfm_monetary", int(i64::from(metrics.rfm.monetary))),
        ("in_key_accounts", Value::Bool(metrics.in_key_accounts)),
    ];
    debug_assert_eq!(values.len(), VARIABLES.len());
    for (name, value) in values {
        scope.add_variable_from_value(name, value);
    }
}

/// The customers every rule is evaluated on when loaded: one with every optional metric
/// absent and every count zero (a prospect: no policy, contact, claim or survey answer), and
/// one with every metric present. A rule must give a boolean for both, so a rule that would
/// fail at query time on a common kind of customer (comparing a null `last_csat`, dividing by
/// a zero count, naming a channel that does not exist) is rejected at start-up instead.
pub(crate) fn probes() -> [(&'static str, CustomerMetrics); 2] {
    let customer =
        CustomerId::parse("probe", "00000000-0000-7000-8000-000000000000").expect("a valid UUID");
    let as_of = jiff::civil::date(2025, 1, 1);
    let absent = CustomerMetrics {
        customer,
        as_of,
        corporate: false,
        group: false,
        account_manager: None,
        erased: false,
        premium_in_force_fen: 0,
        policies_active: 0,
        product_lines: 0,
        next_renewal: None,
        days_to_next_renewal: None,
        lapsed_not_renewed: false,
        claims_12m: 0,
        claims_paid_12m_fen: 0,
        loss_ratio: None,
        contacts_90d: [0; CHANNELS],
        contacts_90d_total: 0,
        contacts_365d: 0,
        complaints_180d: 0,
        last_csat: None,
        last_nps: None,
        last_contact: None,
        days_since_last_contact: None,
        days_since_registered: 0,
        rfm: Rfm {
            recency: 1,
            frequency: 1,
            monetary: 1,
        },
        in_key_accounts: false,
    };
    let present = CustomerMetrics {
        corporate: true,
        group: true,
        account_manager: Some(ledger_domain::samples::staff("manager-0001")),
        premium_in_force_fen: 486_000,
        policies_active: 2,
        product_lines: 3,
        next_renewal: Some(jiff::civil::date(2025, 1, 31)),
        days_to_next_renewal: Some(30),
        lapsed_not_renewed: true,
        claims_12m: 2,
        claims_paid_12m_fen: 120_000,
        loss_ratio: Some(0.25),
        contacts_90d: [2; CHANNELS],
        contacts_90d_total: 18,
        contacts_365d: 40,
        complaints_180d: 2,
        last_csat: Some(3),
        last_nps: Some(8),
        last_contact: Some(jiff::civil::date(2024, 12, 22)),
        days_since_last_contact: Some(10),
        days_since_registered: 400,
        rfm: Rfm {
            recency: 3,
            frequency: 3,
            monetary: 3,
        },
        in_key_accounts: true,
        ..absent.clone()
    };
    [
        (
            "a customer with no policy, contact, claim or survey answer (every `… or null` variable null)",
            absent,
        ),
        ("a customer with every metric present", present),
    ]
}

#[cfg(test)]
mod tests {
    use ledger_domain::kinds::ProductLine;

    use super::*;

    #[test]
    fn the_product_lines_bound_is_the_number_of_product_lines() {
        assert_eq!(
            usize::try_from(PRODUCT_LINES_MAX).unwrap(),
            ProductLine::ALL.len()
        );
    }

    #[test]
    fn the_documented_types_name_nullable_variables_or_null() {
        let documented: Vec<(&str, &str)> = VARIABLES
            .iter()
            .map(|variable| (variable.name, variable.cel_type()))
            .filter(|(_, cel_type)| cel_type.ends_with("or null"))
            .collect();
        assert_eq!(
            documented,
            [
                ("days_to_next_renewal", "int or null"),
                ("loss_ratio", "double or null"),
                ("last_csat", "int or null"),
                ("last_nps", "int or null"),
                ("days_since_last_contact", "int or null"),
            ]
        );
    }
}
