//! Business calendars: working days, holidays, optional business hours, and an
//! IANA time zone, with the arithmetic that policy clocks need.
//!
//! Business time is measured on the local wall clock: each working day offers
//! its business period (the whole day, or the business hours), and a duration
//! of business time is how much of those periods lies between two instants.
//! One business day is therefore always one day's business period, even on the
//! 23- and 25-hour days of a DST change; the hour skipped when clocks go
//! forward does not count, and the hour repeated when they go back counts once.
//!
//! The arithmetic works on local (naive) date-times; time zones matter only
//! where an instant becomes local time and back ([`BusinessCalendar::local`],
//! [`BusinessCalendar::instant`]).

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday,
};

use crate::Instant;
use crate::zone::{LocalInstants, Zone};

/// The longest stretch the arithmetic walks before giving up: a calendar
/// whose holidays swallow every working day must not loop forever.
const MAX_DAYS_WALKED: u32 = 366 * 30;

/// A business calendar. Build it with [`BusinessCalendar::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    time_zone: Zone,
    working_days: [bool; 7],
    holidays: BTreeSet<NaiveDate>,
    /// Month and day of holidays that recur every year.
    recurring: BTreeSet<(u32, u32)>,
    hours: Option<(NaiveTime, NaiveTime)>,
}

/// Why a calendar cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CalendarError {
    pub field: &'static str,
    pub message: String,
}

impl BusinessCalendar {
    /// `working_days` Monday first; `hours` as (opening, closing) local times.
    pub fn new(
        time_zone: Zone,
        working_days: &[Weekday],
        holidays: impl IntoIterator<Item = NaiveDate>,
        recurring: impl IntoIterator<Item = (u32, u32)>,
        hours: Option<(NaiveTime, NaiveTime)>,
    ) -> Result<Self, CalendarError> {
        let mut days = [false; 7];
        for d in working_days {
            days[d.num_days_from_monday() as usize] = true;
        }
        if !days.iter().any(|d| *d) {
            return Err(CalendarError {
                field: "working_days",
                message: "at least one day of the week must be a working day".into(),
            });
        }
        if let Some((open, close)) = hours
            && open >= close
        {
            return Err(CalendarError {
                field: "business_hours",
                message: format!(
                    "opens at {open} but closes at {close}; the day must end after it starts"
                ),
            });
        }
        let recurring: BTreeSet<(u32, u32)> = recurring.into_iter().collect();
        for (m, d) in &recurring {
            if NaiveDate::from_ymd_opt(2024, *m, *d).is_none() {
                return Err(CalendarError {
                    field: "holidays",
                    message: format!("--{m:02}-{d:02} is not a day of the year"),
                });
            }
        }
        Ok(BusinessCalendar {
            time_zone,
            working_days: days,
            holidays: holidays.into_iter().collect(),
            recurring,
            hours,
        })
    }

    /// Monday to Friday, whole days, in `time_zone`, no holidays.
    #[must_use]
    pub fn weekdays(time_zone: Zone) -> Self {
        BusinessCalendar {
            time_zone,
            working_days: [true, true, true, true, true, false, false],
            holidays: BTreeSet::new(),
            recurring: BTreeSet::new(),
            hours: None,
        }
    }

    #[must_use]
    pub fn time_zone(&self) -> &Zone {
        &self.time_zone
    }

    #[must_use]
    pub fn business_hours(&self) -> Option<(NaiveTime, NaiveTime)> {
        self.hours
    }

    /// Whether `date` is a working day that is not a holiday.
    #[must_use]
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        self.working_days[date.weekday().num_days_from_monday() as usize]
            && !self.holidays.contains(&date)
            && !self.recurring.contains(&(date.month(), date.day()))
    }

    /// How long one business day is: 24 hours, or the business hours.
    #[must_use]
    pub fn day_length(&self) -> TimeDelta {
        match self.hours {
            Some((open, close)) => close - open,
            None => TimeDelta::days(1),
        }
    }

    /// The business period of `date` in local time, if it is a business day.
    fn period(&self, date: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
        if !self.is_business_day(date) {
            return None;
        }
        Some(match self.hours {
            Some((open, close)) => (date.and_time(open), date.and_time(close)),
            None => (
                date.and_time(NaiveTime::MIN),
                date.succ_opt()?.and_time(NaiveTime::MIN),
            ),
        })
    }

    /// The local wall-clock time of an instant.
    #[must_use]
    pub fn local(&self, at: Instant) -> NaiveDateTime {
        self.time_zone.local(at)
    }

    /// The instant a local time names: the earlier one when clocks go back
    /// and the time occurs twice; when clocks go forward and it never occurs,
    /// the moment the clock jumps past it.
    #[must_use]
    pub fn instant(&self, local: NaiveDateTime) -> Instant {
        match self.time_zone.instants(local) {
            LocalInstants::One(t) | LocalInstants::Two(t, _) => t,
            LocalInstants::Skipped => {
                // In a gap: find the first millisecond whose local time is at
                // or after `local`. Offsets lie within ±15 h of UTC.
                let naive_ms = local.and_utc().timestamp_millis();
                let mut lo = naive_ms - 15 * 3_600_000;
                let mut hi = naive_ms + 15 * 3_600_000;
                let local_of = |ms: i64| DateTime::from_timestamp_millis(ms).map(|t| self.local(t));
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if local_of(mid).is_some_and(|l| l >= local) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                DateTime::from_timestamp_millis(hi).unwrap_or_else(|| local.and_utc())
            }
        }
    }

    /// Business time between two local times (zero if `to` is not after `from`).
    #[must_use]
    pub fn business_between_local(&self, from: NaiveDateTime, to: NaiveDateTime) -> TimeDelta {
        let mut total = TimeDelta::zero();
        if to <= from {
            return total;
        }
        // The walk is as long as the interval: bounded by the caller's instants.
        let mut date = from.date();
        while date <= to.date() {
            if let Some((open, close)) = self.period(date) {
                let start = open.max(from);
                let end = close.min(to);
                if end > start {
                    total += end - start;
                }
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        total
    }

    /// The earliest local time at which `amount` of business time has passed
    /// since `from`. `None` if the calendar offers none for decades.
    #[must_use]
    pub fn add_business_local(
        &self,
        from: NaiveDateTime,
        amount: TimeDelta,
    ) -> Option<NaiveDateTime> {
        if amount <= TimeDelta::zero() {
            return Some(from);
        }
        let mut remaining = amount;
        let mut date = from.date();
        for _ in 0..MAX_DAYS_WALKED {
            if let Some((open, close)) = self.period(date) {
                let start = open.max(from);
                if close > start {
                    let available = close - start;
                    if remaining <= available {
                        return Some(start + remaining);
                    }
                    remaining -= available;
                }
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// Business time elapsed between two instants.
    #[must_use]
    pub fn business_between(&self, from: Instant, to: Instant) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        self.business_between_local(self.local(from), self.local(to))
    }

    /// The instant at which `amount` of business time has passed since `from`.
    #[must_use]
    pub fn add_business(&self, from: Instant, amount: TimeDelta) -> Option<Instant> {
        self.add_business_local(self.local(from), amount)
            .map(|local| self.instant(local).max(from))
    }

    /// `from` plus `n` business days.
    #[must_use]
    pub fn add_business_days(&self, from: Instant, n: u32) -> Option<Instant> {
        self.add_business(from, self.day_length() * i32::try_from(n).ok()?)
    }

    /// `from` plus `n` calendar days, at the same local time of day.
    #[must_use]
    pub fn add_days(&self, from: Instant, n: u32) -> Option<Instant> {
        let local = self.local(from).checked_add_days(Days::new(u64::from(n)))?;
        Some(self.instant(local))
    }

    /// `from` plus `n` calendar months, at the same local time of day (the
    /// 31st becomes the last day of a shorter month).
    #[must_use]
    pub fn add_months(&self, from: Instant, n: u32) -> Option<Instant> {
        let local = self.local(from).checked_add_months(Months::new(n))?;
        Some(self.instant(local))
    }
}

/// An instant from a local date and time in `tz` (for tests and examples).
#[must_use]
pub fn at_local(tz: &Zone, y: i32, m: u32, d: u32, h: u32, min: u32) -> Option<DateTime<Utc>> {
    let local = NaiveDate::from_ymd_opt(y, m, d)?.and_hms_opt(h, min, 0)?;
    Some(BusinessCalendar::weekdays(tz.clone()).instant(local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn paris() -> Zone {
        Zone::named("Europe/Paris").unwrap()
    }

    fn ny() -> Zone {
        Zone::named("America/New_York").unwrap()
    }

    fn at(tz: &Zone, y: i32, m: u32, d: u32, h: u32, min: u32) -> Instant {
        at_local(tz, y, m, d, h, min).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn friday_evening_plus_three_business_days_is_wednesday_evening() {
        let cal = BusinessCalendar::weekdays(paris());
        // Friday 2026-03-06 17:00 Paris.
        let due = cal
            .add_business_days(at(&paris(), 2026, 3, 6, 17, 0), 3)
            .unwrap();
        assert_eq!(due, at(&paris(), 2026, 3, 11, 17, 0));
    }

    #[test]
    fn a_monday_holiday_moves_it_to_thursday() {
        let cal =
            BusinessCalendar::new(paris(), &weekdays(), [date(2026, 3, 9)], [], None).unwrap();
        let due = cal
            .add_business_days(at(&paris(), 2026, 3, 6, 17, 0), 3)
            .unwrap();
        assert_eq!(due, at(&paris(), 2026, 3, 12, 17, 0));
        // A recurring holiday does the same every year.
        let cal = BusinessCalendar::new(paris(), &weekdays(), [], [(3, 9)], None).unwrap();
        assert_eq!(
            cal.add_business_days(at(&paris(), 2026, 3, 6, 17, 0), 3),
            Some(at(&paris(), 2026, 3, 12, 17, 0))
        );
    }

    fn weekdays() -> Vec<Weekday> {
        vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
    }

    #[test]
    fn a_weekend_start_counts_from_monday() {
        let cal = BusinessCalendar::weekdays(paris());
        let saturday = at(&paris(), 2026, 3, 7, 10, 0);
        assert_eq!(
            cal.add_business_days(saturday, 1),
            Some(at(&paris(), 2026, 3, 10, 0, 0))
        );
        assert_eq!(
            cal.business_between(saturday, at(&paris(), 2026, 3, 9, 9, 30)),
            TimeDelta::minutes(570)
        );
    }

    #[test]
    fn business_hours_count_only_open_time() {
        let hours = Some((
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        ));
        let cal = BusinessCalendar::new(paris(), &weekdays(), [], [], hours).unwrap();
        // Friday 16:00 + 2 business hours = Monday 10:00.
        let due = cal
            .add_business(at(&paris(), 2026, 3, 6, 16, 0), TimeDelta::hours(2))
            .unwrap();
        assert_eq!(due, at(&paris(), 2026, 3, 9, 10, 0));
        // Friday 17:00 + 3 business days (24 business hours) = Wednesday 17:00.
        assert_eq!(
            cal.add_business_days(at(&paris(), 2026, 3, 6, 17, 0), 3),
            Some(at(&paris(), 2026, 3, 11, 17, 0))
        );
        // Before opening counts from opening.
        assert_eq!(
            cal.business_between(
                at(&paris(), 2026, 3, 9, 6, 0),
                at(&paris(), 2026, 3, 9, 9, 45)
            ),
            TimeDelta::minutes(45)
        );
    }

    #[test]
    fn across_the_spring_dst_change_days_keep_their_wall_time() {
        // Paris moves from +01:00 to +02:00 on Sunday 2026-03-29.
        let cal = BusinessCalendar::weekdays(paris());
        let friday = at(&paris(), 2026, 3, 27, 17, 0);
        let due = cal.add_business_days(friday, 3).unwrap();
        assert_eq!(due, at(&paris(), 2026, 4, 1, 17, 0));
        assert_eq!(due.to_rfc3339(), "2026-04-01T15:00:00+00:00", "17:00 CEST");
        assert_eq!(
            friday.to_rfc3339(),
            "2026-03-27T16:00:00+00:00",
            "17:00 CET"
        );
        // 24-hour clocks are absolute; calendar days keep wall time.
        assert_eq!(
            cal.add_days(at(&paris(), 2026, 3, 28, 12, 0), 1),
            Some(at(&paris(), 2026, 3, 29, 12, 0))
        );
        assert_eq!(
            at(&paris(), 2026, 3, 29, 12, 0) - at(&paris(), 2026, 3, 28, 12, 0),
            TimeDelta::hours(23)
        );
    }

    #[test]
    fn a_working_day_with_a_dst_change_is_still_one_business_day() {
        // New York falls back on Sunday 2026-11-01; make Sunday a working day.
        let every_day = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let cal = BusinessCalendar::new(ny(), &every_day, [], [], None).unwrap();
        let start = at(&ny(), 2026, 10, 31, 12, 0);
        let due = cal.add_business_days(start, 1).unwrap();
        assert_eq!(due, at(&ny(), 2026, 11, 1, 12, 0));
        assert_eq!(due - start, TimeDelta::hours(25), "the 25-hour day");
        assert_eq!(cal.business_between(start, due), TimeDelta::days(1));
        // Spring forward (2026-03-08): a time in the gap resolves to the jump.
        let gap = NaiveDate::from_ymd_opt(2026, 3, 8)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(cal.instant(gap).to_rfc3339(), "2026-03-08T07:00:00+00:00");
    }

    #[test]
    fn invalid_calendars_are_refused() {
        assert!(BusinessCalendar::new(paris(), &[], [], [], None).is_err());
        assert!(BusinessCalendar::new(paris(), &weekdays(), [], [(2, 30)], None).is_err());
        let backwards = Some((
            NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        ));
        assert!(BusinessCalendar::new(paris(), &weekdays(), [], [], backwards).is_err());
    }

    fn any_calendar() -> impl Strategy<Value = BusinessCalendar> {
        (
            prop::sample::select(vec![
                Zone::utc(),
                paris(),
                ny(),
                Zone::named("Asia/Kolkata").unwrap(),
                Zone::named("Australia/Sydney").unwrap(),
            ]),
            prop::collection::vec(any::<bool>(), 7),
            prop::collection::vec((1u32..=12, 1u32..=28), 0..6),
            prop::option::of((7u32..=10, 15u32..=19)),
        )
            .prop_filter_map("needs a working day", |(tz, days, holidays, hours)| {
                let working: Vec<Weekday> = days
                    .iter()
                    .enumerate()
                    .filter(|(_, on)| **on)
                    .filter_map(|(i, _)| Weekday::try_from(u8::try_from(i).ok()?).ok())
                    .collect();
                let hours = hours.map(|(o, c)| {
                    (
                        NaiveTime::from_hms_opt(o, 0, 0).unwrap_or_default(),
                        NaiveTime::from_hms_opt(c, 0, 0).unwrap_or_default(),
                    )
                });
                BusinessCalendar::new(tz, &working, [], holidays, hours).ok()
            })
    }

    proptest! {
        #[test]
        fn adding_n_business_days_then_measuring_gives_n(
            cal in any_calendar(),
            start in 1_700_000_000i64..1_900_000_000,
            n in 0u32..40,
        ) {
            let from = DateTime::from_timestamp(start, 0).unwrap_or_default();
            let local = cal.local(from);
            let due = cal.add_business_local(local, cal.day_length() * i32::try_from(n).unwrap_or(0)).unwrap();
            prop_assert_eq!(cal.business_between_local(local, due), cal.day_length() * i32::try_from(n).unwrap_or(0));
            // On instants too, whenever the due time is not inside a DST gap.
            let due_instant = cal.add_business_days(from, n).unwrap();
            if cal.local(due_instant) == due {
                prop_assert_eq!(cal.business_between(from, due_instant), cal.day_length() * i32::try_from(n).unwrap_or(0));
            }
        }

        #[test]
        fn due_instants_are_monotonic_in_n(
            cal in any_calendar(),
            start in 1_700_000_000i64..1_900_000_000,
            n in 0u32..60,
        ) {
            let from = DateTime::from_timestamp(start, 0).unwrap_or_default();
            let a = cal.add_business_days(from, n).unwrap();
            let b = cal.add_business_days(from, n + 1).unwrap();
            prop_assert!(a < b, "{} then {}", a, b);
            prop_assert!(a >= from);
        }

        #[test]
        fn business_time_is_additive(
            cal in any_calendar(),
            a in 1_700_000_000i64..1_800_000_000,
            gap1 in 0i64..2_000_000,
            gap2 in 0i64..2_000_000,
        ) {
            let t1 = DateTime::from_timestamp(a, 0).unwrap_or_default();
            let t2 = t1 + TimeDelta::seconds(gap1);
            let t3 = t2 + TimeDelta::seconds(gap2);
            let whole = cal.business_between(t1, t3);
            let parts = cal.business_between(t1, t2) + cal.business_between(t2, t3);
            // Equal except across a repeated (fall-back) hour, where the local
            // clock runs backwards and the repeated time counts once.
            prop_assert!(whole <= parts);
            prop_assert!(parts - whole <= TimeDelta::hours(1));
        }
    }
}
