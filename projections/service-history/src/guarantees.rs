//! Claim time guarantees: how many working days after complete documents a claim must be
//! decided, per product line, read from `guarantees.toml` beside this crate's `Cargo.toml`.
//!
//! The file's header says where the number for a claim comes from (the claim's own promise,
//! then the policy's product lines, then the default) and why the longest of the policy's
//! lines wins. [`ClaimGuarantees::for_policy`] is that rule; the claim's own promise is
//! applied by the fold, which sees the claim.

use std::collections::BTreeMap;

use ledger_domain::events::TIME_GUARANTEE_WORKING_DAYS_MAX;
use ledger_domain::kinds::ProductLine;
use serde::de::IntoDeserializer;
use serde::de::value::{Error as ValueError, StrDeserializer};
use serde::{Deserialize, Serialize};

/// The guarantee table shipped with the crate, validated by the test `shipped_table_loads`.
pub(crate) const SHIPPED_GUARANTEES_TOML: &str = include_str!("../guarantees.toml");

/// Where a claim's guarantee in working days came from, kept on the claim so a supervisor
/// can tell a promise made to the customer from a table default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuaranteeSource {
    /// `ClaimReported` carried `timeGuaranteeWorkingDays`.
    Claim,
    /// The table's entry for this line of the claim's policy.
    ProductLine(ProductLine),
    /// The table's default: no line of the policy has an entry, or the policy is unknown.
    Default,
}

/// Working days per product line, with a default; every value is 1 to
/// [`TIME_GUARANTEE_WORKING_DAYS_MAX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimGuarantees {
    default_working_days: u16,
    product_lines: BTreeMap<ProductLine, u16>,
}

/// Why a guarantee table was rejected. Each variant names the key in the file.
#[derive(Debug, thiserror::Error)]
pub enum GuaranteeError {
    #[error("guarantee file is not valid: {0}")]
    Toml(#[from] toml::de::Error),
    #[error(
        "{key}: {value} is not a number of working days from 1 to {TIME_GUARANTEE_WORKING_DAYS_MAX}"
    )]
    OutOfRange { key: String, value: i64 },
    #[error(
        "{key}: {line:?} is not a product line (write it as the API does, like COMPULSORY_TRAFFIC)"
    )]
    UnknownProductLine { key: String, line: String },
}

impl ClaimGuarantees {
    /// The table shipped in `projections/service-history/guarantees.toml`.
    pub fn shipped() -> Result<Self, GuaranteeError> {
        Self::from_toml(SHIPPED_GUARANTEES_TOML)
    }

    /// Reads and validates a table in the format documented in `guarantees.toml`.
    pub fn from_toml(text: &str) -> Result<Self, GuaranteeError> {
        let file: GuaranteeFile = toml::from_str(text)?;
        let section = file.claim_guarantees;
        let default_working_days = working_days(
            "claim_guarantees.default_working_days",
            section.default_working_days,
        )?;
        let mut product_lines = BTreeMap::new();
        for (name, days) in section.product_lines {
            let key = format!("claim_guarantees.product_lines.{name}");
            let line =
                parse_product_line(&name).ok_or_else(|| GuaranteeError::UnknownProductLine {
                    key: key.clone(),
                    line: name.clone(),
                })?;
            product_lines.insert(line, working_days(&key, days)?);
        }
        Ok(Self {
            default_working_days,
            product_lines,
        })
    }

    /// The guarantee for lines the table does not list.
    pub fn default_working_days(&self) -> u16 {
        self.default_working_days
    }

    /// The guarantee for one product line.
    pub fn working_days_for(&self, line: ProductLine) -> u16 {
        self.product_lines
            .get(&line)
            .copied()
            .unwrap_or(self.default_working_days)
    }

    /// The guarantee for a claim on a policy with `lines` (empty when the policy is unknown):
    /// the longest of the lines' guarantees, and where it came from. Ties go to the first
    /// line in the vocabulary's order, so the answer does not depend on the order of `lines`.
    pub fn for_policy(&self, lines: &[ProductLine]) -> (u16, GuaranteeSource) {
        let mut sorted = lines.to_vec();
        sorted.sort();
        sorted.dedup();
        let mut longest: Option<(u16, GuaranteeSource)> = None;
        for line in sorted {
            // A line without an entry is held to the default.
            let candidate = match self.product_lines.get(&line) {
                Some(&days) => (days, GuaranteeSource::ProductLine(line)),
                None => (self.default_working_days, GuaranteeSource::Default),
            };
            if longest.is_none_or(|(days, _)| candidate.0 > days) {
                longest = Some(candidate);
            }
        }
        longest.unwrap_or((self.default_working_days, GuaranteeSource::Default))
    }
}

/// Reads a product line as the API spells it (`COMPULSORY_TRAFFIC`), through the vocabulary's
/// own serde names so the two cannot drift apart.
fn parse_product_line(name: &str) -> Option<ProductLine> {
    let deserializer: StrDeserializer<'_, ValueError> = name.into_deserializer();
    ProductLine::deserialize(deserializer).ok()
}

fn working_days(key: &str, value: i64) -> Result<u16, GuaranteeError> {
    u16::try_from(value)
        .ok()
        .filter(|days| (1..=TIME_GUARANTEE_WORKING_DAYS_MAX).contains(days))
        .ok_or_else(|| GuaranteeError::OutOfRange {
            key: key.to_owned(),
            value,
        })
}

// The file's shape; unknown keys are rejected so a misspelt key is an error.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuaranteeFile {
    claim_guarantees: GuaranteeSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuaranteeSection {
    default_working_days: i64,
    #[serde(default)]
    product_lines: BTreeMap<String, i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<ClaimGuarantees, GuaranteeError> {
        ClaimGuarantees::from_toml(text)
    }

    #[test]
    fn shipped_table_loads() {
        let guarantees = ClaimGuarantees::shipped().unwrap();
        assert_eq!(guarantees.default_working_days(), 10);
        assert_eq!(
            guarantees.working_days_for(ProductLine::CompulsoryTraffic),
            5
        );
        assert_eq!(
            guarantees.working_days_for(ProductLine::CommercialVehicleDamage),
            10
        );
    }

    #[test]
    fn the_longest_line_of_the_policy_wins() {
        let guarantees = table(
            "[claim_guarantees]\ndefault_working_days = 10\n\
             [claim_guarantees.product_lines]\nCOMPULSORY_TRAFFIC = 5\nCOMMERCIAL_THEFT = 15\n\
             COMMERCIAL_GLASS = 3\n",
        )
        .unwrap();
        assert_eq!(guarantees.for_policy(&[]), (10, GuaranteeSource::Default));
        assert_eq!(
            guarantees.for_policy(&[ProductLine::CompulsoryTraffic]),
            (
                5,
                GuaranteeSource::ProductLine(ProductLine::CompulsoryTraffic)
            )
        );
        assert_eq!(
            guarantees.for_policy(&[
                ProductLine::CompulsoryTraffic,
                ProductLine::CommercialVehicleDamage
            ]),
            (10, GuaranteeSource::Default)
        );
        assert_eq!(
            guarantees.for_policy(&[
                ProductLine::CommercialVehicleDamage,
                ProductLine::CommercialTheft,
                ProductLine::CompulsoryTraffic,
            ]),
            (
                15,
                GuaranteeSource::ProductLine(ProductLine::CommercialTheft)
            )
        );
        assert_eq!(
            guarantees.for_policy(&[ProductLine::CommercialGlass, ProductLine::CompulsoryTraffic]),
            (
                5,
                GuaranteeSource::ProductLine(ProductLine::CompulsoryTraffic)
            )
        );
    }

    #[test]
    fn bad_files_name_the_key() {
        let zero = table("[claim_guarantees]\ndefault_working_days = 0\n").unwrap_err();
        assert!(
            matches!(&zero, GuaranteeError::OutOfRange { key, value: 0 }
                if key == "claim_guarantees.default_working_days"),
            "{zero:?}"
        );
        let too_long = table(
            "[claim_guarantees]\ndefault_working_days = 10\n\
             [claim_guarantees.product_lines]\nCOMMERCIAL_GLASS = 61\n",
        )
        .unwrap_err();
        assert_eq!(
            too_long.to_string(),
            "claim_guarantees.product_lines.COMMERCIAL_GLASS: 61 is not a number of working days from 1 to 60"
        );
        let unknown = table(
            "[claim_guarantees]\ndefault_working_days = 10\n\
             [claim_guarantees.product_lines]\nGLASS = 3\n",
        )
        .unwrap_err();
        assert!(
            matches!(&unknown, GuaranteeError::UnknownProductLine { key, line }
                if key == "claim_guarantees.product_lines.GLASS" && line == "GLASS"),
            "{unknown:?}"
        );
        let misspelt = table("[claim_guarantees]\ndefault_working_day = 10\n").unwrap_err();
        let message = misspelt.to_string();
        assert!(message.contains("default_working_day"), "{message}");
        let missing = table("").unwrap_err();
        assert!(
            missing.to_string().contains("claim_guarantees"),
            "{missing}"
        );
    }
}
