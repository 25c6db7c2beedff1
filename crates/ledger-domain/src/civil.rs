//! Calendar arithmetic shared by the crates that turn dates into day numbers without a
//! general date library on their hot path (the synthetic clock, the timeline's stored times).

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`). A day
/// past the end of its month rolls over into the next (29 February of a common year is
/// 1 March).
pub fn days_from_civil(year: i64, month: i64, day_of_month: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day_of_month - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_match_known_dates_and_roll_over() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2023, 2, 29), days_from_civil(2023, 3, 1));
    }
}
