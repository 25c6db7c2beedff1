//! A small hand-made book of eight customers, each built to land in particular segments as of
//! 2025-06-30 (the tests in `segments.rs` state exactly which), and its fold.

use ledger_domain::kinds::ProductLine::{
    CommercialGlass, CommercialThirdPartyLiability, CommercialVehicleDamage, CompulsoryTraffic,
};
use ledger_domain::values::{Channel, Topic};

use super::*;

/// The book:
///
/// - c1: group company, account manager, 8,000 yuan (three lines, 2025), a claim paid 1,200
///   yuan, contacts on three channels recently, CSAT 5.
/// - c2: group employee, 1,000 yuan (one line) up for renewal on 2025-07-15, four contacts
///   in the last year, two of them very recent.
/// - c3: 500 yuan, last CSAT 2.
/// - c4: policy lapsed on 2025-03-01, not renewed.
/// - c5: 500 yuan, two complaints in 180 days.
/// - c6: 600 yuan up for renewal on 2025-07-30, NPS 8 and a complaint.
/// - c7: customer since 2023, 400 yuan, renewed early (on 2025-06-25 for the period from
///   2025-07-20 at 380 yuan), last contacted on 2024-03-01.
/// - c8: registered in 2025, no policy, no contact.
pub(crate) fn book() -> Ledger {
    let [c1, c2, c3, c4, c5, c6, c7, c8] = [1, 2, 3, 4, 5, 6, 7, 8].map(customer);
    let mut ledger = Ledger::default();
    ledger
        .on("2023-01-01", registered(c7, false))
        .on(
            "2023-07-15",
            issued(
                7,
                c7,
                400,
                ("2023-07-20", "2024-07-19"),
                &[CompulsoryTraffic],
            ),
        )
        .on("2024-02-20", registered(c4, false))
        .on(
            "2024-02-25",
            issued(
                4,
                c4,
                700,
                ("2024-03-01", "2025-02-28"),
                &[CompulsoryTraffic],
            ),
        )
        .on("2024-03-01", phone(71, c7, "2024-03-01"))
        .on("2024-07-01", registered(c2, true))
        .on(
            "2024-07-10",
            issued(
                2,
                c2,
                1_000,
                ("2024-07-15", "2025-07-14"),
                &[CompulsoryTraffic],
            ),
        )
        .on(
            "2024-07-10",
            renewed(7, c7, 400, ("2024-07-20", "2025-07-19")),
        )
        .on("2024-07-20", registered(c6, false))
        .on(
            "2024-07-25",
            issued(
                6,
                c6,
                600,
                ("2024-07-30", "2025-07-29"),
                &[CompulsoryTraffic, CommercialGlass],
            ),
        )
        .on("2024-08-20", registered(c3, false))
        .on(
            "2024-08-25",
            issued(
                3,
                c3,
                500,
                ("2024-09-01", "2025-08-31"),
                &[CompulsoryTraffic, CommercialVehicleDamage],
            ),
        )
        .on(
            "2024-12-01",
            CustomerRegistered {
                kind: ledger_domain::kinds::CustomerKind::Corporate,
                ..registered(c1, true)
            },
        )
        .on("2024-12-05", manager(c1, "manager-0007"))
        .on(
            "2024-12-20",
            issued(
                1,
                c1,
                8_000,
                ("2025-01-01", "2025-12-31"),
                &[
                    CompulsoryTraffic,
                    CommercialVehicleDamage,
                    CommercialThirdPartyLiability,
                ],
            ),
        )
        .on("2025-01-15", registered(c8, false))
        .on("2025-02-01", phone(21, c2, "2025-02-01"))
        .on("2025-02-15", complaint(61, c6, "2025-02-15"))
        .on("2025-02-16", answered(c6, None, Some(8)))
        .on("2025-02-20", registered(c5, false))
        .on(
            "2025-02-25",
            issued(
                5,
                c5,
                500,
                ("2025-03-01", "2026-02-28"),
                &[CompulsoryTraffic, CommercialVehicleDamage],
            ),
        )
        .on("2025-03-01", lapsed(4, c4, "2025-03-01"))
        .on("2025-03-01", claim_reported(1, 1, c1))
        .on("2025-03-05", phone(41, c4, "2025-03-05"))
        .on("2025-03-20", claim_settled(1, c1, 1_200))
        .on(
            "2025-04-01",
            contact(22, c2, "2025-04-01", Channel::WeChat, Topic::Enquiry),
        )
        .on("2025-04-10", complaint(51, c5, "2025-04-10"))
        .on(
            "2025-05-01",
            contact(11, c1, "2025-05-01", Channel::WalkIn, Topic::Renewal),
        )
        .on("2025-05-20", complaint(52, c5, "2025-05-20"))
        .on("2025-06-01", phone(31, c3, "2025-06-01"))
        .on("2025-06-02", answered(c3, Some(2), None))
        .on("2025-06-10", phone(23, c2, "2025-06-10"))
        .on("2025-06-20", phone(12, c1, "2025-06-20"))
        .on("2025-06-21", answered(c1, Some(5), Some(10)))
        .on(
            "2025-06-25",
            contact(13, c1, "2025-06-25", Channel::WeChat, Topic::Enquiry),
        )
        .on(
            "2025-06-25",
            renewed(7, c7, 380, ("2025-07-20", "2026-07-19")),
        )
        .on("2025-06-28", phone(24, c2, "2025-06-28"));
    ledger
}

/// The day every test of the book asks about.
pub(crate) const AS_OF: &str = "2025-06-30";
