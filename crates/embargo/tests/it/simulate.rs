//! `embargo policy simulate` against an independent computation of the due
//! times, written in Python with `zoneinfo` (tests/oracles/clock_due.py):
//! business days and hours, calendar days and months, and elapsed hours,
//! across the DST changes of three hemispheres' zones, holidays and pauses
//! while waiting on the reporter.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};

use crate::{bin, stderr, stdout, unavailable};

/// A calendar as the policy file and the oracle both state it.
struct Calendar {
    working_days: &'static [&'static str],
    holidays: Vec<String>,
    hours: Option<(&'static str, &'static str)>,
}

struct Scenario {
    zone: &'static str,
    calendar: Calendar,
    /// The target as the policy writes it, and as the oracle reads it.
    target: (&'static str, &'static str, u32),
    start_local: NaiveDateTime,
    /// Waiting on the reporter: (from, to) minutes after the start.
    pause: Option<(i64, i64)>,
}

const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri"];
const EVERY_DAY: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn local(d: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    d.and_hms_opt(h, m, 0).unwrap()
}

fn scenarios() -> Vec<Scenario> {
    // (zone, a DST change in 2026: the Sunday the clocks move).
    let changes = [
        (
            "Europe/Paris",
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(),
        ),
        (
            "Europe/Paris",
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
        ),
        (
            "America/New_York",
            NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
        ),
        (
            "America/New_York",
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        ),
        (
            "Australia/Sydney",
            NaiveDate::from_ymd_opt(2026, 4, 5).unwrap(),
        ),
        (
            "Australia/Sydney",
            NaiveDate::from_ymd_opt(2026, 10, 4).unwrap(),
        ),
    ];
    let mut out = Vec::new();
    for (zone, sunday) in changes {
        let friday = sunday - TimeDelta::days(2);
        let monday = sunday + TimeDelta::days(1);
        let weekdays = || Calendar {
            working_days: WEEKDAYS,
            holidays: Vec::new(),
            hours: None,
        };
        // Three business days from a Friday evening, across the change.
        out.push(Scenario {
            zone,
            calendar: weekdays(),
            target: ("3 business days", "business_days", 3),
            start_local: local(friday, 17, 30),
            pause: None,
        });
        // The Monday after is a holiday.
        out.push(Scenario {
            zone,
            calendar: Calendar {
                holidays: vec![monday.to_string()],
                ..weekdays()
            },
            target: ("3 business days", "business_days", 3),
            start_local: local(friday, 17, 30),
            pause: None,
        });
        // Business hours, and a pause over the weekend of the change.
        out.push(Scenario {
            zone,
            calendar: Calendar {
                hours: Some(("09:00", "17:00")),
                ..weekdays()
            },
            target: ("2 business days", "business_days", 2),
            start_local: local(friday, 15, 0),
            pause: Some((60, 3 * 24 * 60)),
        });
        // Every day a working day: the 23- and 25-hour days themselves.
        out.push(Scenario {
            zone,
            calendar: Calendar {
                working_days: EVERY_DAY,
                holidays: Vec::new(),
                hours: None,
            },
            target: ("1 business day", "business_days", 1),
            start_local: local(sunday - TimeDelta::days(1), 22, 15),
            pause: None,
        });
        out.push(Scenario {
            zone,
            calendar: Calendar {
                working_days: EVERY_DAY,
                holidays: Vec::new(),
                hours: None,
            },
            target: ("30 business hours", "business_hours", 30),
            start_local: local(sunday - TimeDelta::days(1), 20, 0),
            pause: Some((120, 300)),
        });
        // Calendar days and months keep the local time of day.
        out.push(Scenario {
            zone,
            calendar: weekdays(),
            target: ("10 days", "days", 10),
            start_local: local(sunday - TimeDelta::days(5), 9, 45),
            pause: None,
        });
        out.push(Scenario {
            zone,
            calendar: weekdays(),
            target: ("1 month", "months", 1),
            start_local: local(sunday - TimeDelta::days(20), 23, 10),
            pause: None,
        });
        // Elapsed hours ignore the wall clock, but not the pause.
        out.push(Scenario {
            zone,
            calendar: weekdays(),
            target: ("72 hours", "hours", 72),
            start_local: local(friday, 12, 0),
            pause: Some((30, 24 * 60 + 30)),
        });
    }
    // A zone without DST, and a month-end.
    out.push(Scenario {
        zone: "Asia/Kolkata",
        calendar: Calendar {
            working_days: WEEKDAYS,
            holidays: vec!["2026-01-26".into(), "--08-15".into()],
            hours: Some(("09:30", "18:00")),
        },
        target: ("5 business days", "business_days", 5),
        start_local: local(NaiveDate::from_ymd_opt(2026, 8, 12).unwrap(), 18, 30),
        pause: None,
    });
    out.push(Scenario {
        zone: "UTC",
        calendar: Calendar {
            working_days: WEEKDAYS,
            holidays: Vec::new(),
            hours: None,
        },
        target: ("3 months", "months", 3),
        start_local: local(NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(), 10, 0),
        pause: None,
    });
    out
}

fn policy_text(s: &Scenario) -> String {
    let days: Vec<String> = s
        .calendar
        .working_days
        .iter()
        .map(|d| format!("\"{d}\""))
        .collect();
    let holidays: Vec<String> = s
        .calendar
        .holidays
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect();
    let hours = s
        .calendar
        .hours
        .map(|(o, c)| format!("business_hours = \"{o}-{c}\"\n"))
        .unwrap_or_default();
    format!(
        "format = 1\nid = \"oracle\"\nname = \"oracle\"\n\n[organization]\nname = \"Oracle\"\n\n\
         [calendar]\ntime_zone = \"{zone}\"\nworking_days = [{days}]\nholidays = [{holidays}]\n{hours}\n\
         [[clock]]\nid = \"c\"\nname = \"c\"\npromise = \"p\"\nstart = \"reported\"\nstop = \"triaged\"\n\
         target = \"{target}\"\npause_while_waiting_on_reporter = true\n",
        zone = s.zone,
        days = days.join(", "),
        holidays = holidays.join(", "),
        target = s.target.0,
    )
}

/// The UTC instant of the scenario's start (its local times all exist once).
fn start_utc(s: &Scenario) -> DateTime<Utc> {
    let tz: chrono_tz::Tz = s.zone.parse().unwrap();
    tz.from_local_datetime(&s.start_local)
        .single()
        .expect("scenario starts are unambiguous local times")
        .with_timezone(&Utc)
}

fn z(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%MZ").to_string()
}

#[test]
fn simulated_due_times_equal_an_independent_computation() {
    let oracle = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/clock_due.py");
    let has_zoneinfo = Command::new("python3")
        .args(["-c", "import zoneinfo; zoneinfo.ZoneInfo('Europe/Paris')"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_zoneinfo {
        unavailable("python3 with zoneinfo and the system time zone database");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenarios = scenarios();
    assert!(scenarios.len() >= 15);
    let mut ours = Vec::new();
    let mut inputs = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        let policy = dir.path().join(format!("policy-{i}.toml"));
        std::fs::write(&policy, policy_text(s)).unwrap();
        let start = start_utc(s);
        // The report in the zone's own words, the rest in UTC.
        let mut script = format!(
            "{} {} reported\n{} acknowledge\n",
            s.start_local.format("%Y-%m-%dT%H:%M"),
            s.zone,
            z(start)
        );
        let mut pauses = Vec::new();
        if let Some((from, to)) = s.pause {
            let (a, b) = (
                start + TimeDelta::minutes(from),
                start + TimeDelta::minutes(to),
            );
            script.push_str(&format!(
                "{} waiting_on_reporter\n{} reporter_answered\n",
                z(a),
                z(b)
            ));
            pauses.push(json!([z(a), z(b)]));
        }
        let events = dir.path().join(format!("events-{i}.txt"));
        std::fs::write(&events, &script).unwrap();
        let out = Command::new(bin())
            .args(["policy", "simulate", "--format", "json"])
            .arg(&policy)
            .arg(&events)
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}\n{}", stderr(&out));
        let run: Value = serde_json::from_str(&stdout(&out)).unwrap();
        ours.push(run["clocks"][0]["due_at"].clone());
        let weekday_numbers: Vec<usize> = s
            .calendar
            .working_days
            .iter()
            .map(|d| EVERY_DAY.iter().position(|w| w == d).unwrap())
            .collect();
        // Recurring holidays as dates of the scenario's year, for the oracle.
        let holidays: Vec<String> = s
            .calendar
            .holidays
            .iter()
            .map(|h| match h.strip_prefix("--") {
                Some(md) => format!("{}-{md}", s.start_local.format("%Y")),
                None => h.clone(),
            })
            .collect();
        inputs.push(json!({
            "time_zone": s.zone,
            "working_days": weekday_numbers,
            "holidays": holidays,
            "hours": s.calendar.hours.map(|(o, c)| vec![o, c]),
            "unit": s.target.1,
            "amount": s.target.2,
            "start": z(start),
            "pauses": pauses,
        }));
    }
    let mut child = Command::new("python3")
        .arg(oracle)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&inputs).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the oracle failed");
    let theirs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let normalize = |v: &Value| {
        v.as_str()
            .map(|t| t.parse::<DateTime<Utc>>().unwrap().to_rfc3339())
    };
    let mismatches: Vec<String> = scenarios
        .iter()
        .zip(ours.iter().zip(&theirs))
        .filter(|(_, (a, b))| normalize(a) != normalize(b))
        .map(|(s, (a, b))| {
            format!(
                "{} {} from {} (pause {:?}): embargo {a}, oracle {b}",
                s.zone, s.target.0, s.start_local, s.pause
            )
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} scenarios differ:\n{}",
        mismatches.len(),
        scenarios.len(),
        mismatches.join("\n")
    );
    assert!(
        ours.iter().all(Value::is_string),
        "every scenario has a due time"
    );
}
