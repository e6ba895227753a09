//! Charts drawn on the server as SVG (no JavaScript library): clock
//! compliance over time, open cases by severity and age, the time-to-triage
//! distribution, and findings burndown per product. Each chart carries a
//! title and description for screen readers and its numbers as a table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_core::clock::{self, ClockStatus};
use embargo_core::publish::escape_html;
use embargo_core::{CaseState, EventKind, Instant, Severity};
use minijinja::Value;
use serde::Serialize;

use crate::desk::dashboard::cases;
use crate::desk::{Desk, PageResult};
use crate::state::AppState;

/// Colours with at least 3:1 contrast against white (WCAG 1.4.11), for
/// series that are not severities. None of them is a severity's colour.
const PALETTE: [&str; 8] = [
    "#0b4f8a", "#5b2a86", "#00616f", "#444444", "#6b4e16", "#1f3a93", "#7a2e5a", "#2f5d50",
];

/// A series' colour: a severity keeps its own everywhere (the badges use
/// the same: critical red, high orange, medium amber, low green, none
/// grey); any other series takes the palette's next.
fn colour(series: &Series, index: usize) -> &'static str {
    match series.name.to_ascii_lowercase().as_str() {
        "critical" => "#a4161a",
        "high" => "#b5400a",
        "medium" => "#7a5a00",
        "low" => "#1b5e20",
        "none" | "unknown" | "not set" => "#595959",
        "met" => "#1b5e20",
        "breached" => "#a4161a",
        _ => PALETTE[index % PALETTE.len()],
    }
}

/// One named series of values, one per category.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// A chart: its SVG and the numbers behind it.
#[derive(Debug, Serialize)]
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub svg: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// How to read a value (a unit).
    pub unit: &'static str,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 56.0;

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if step * power >= max {
            return step * power;
        }
    }
    10.0 * power
}

fn open_svg(out: &mut String, id: &str, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-labelledby=\"{id}-t {id}-d\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        escape_html(title),
        escape_html(desc)
    );
}

/// How many steps the axis up to `y_max` (a [`nice_max`]) has, so that
/// every tick is a round number: 0–5 by 1, 0–20 by 5, 0–100 by 20.
fn ticks(y_max: f64) -> u32 {
    if y_max <= 5.0 && y_max.fract() == 0.0 {
        return y_max.max(1.0) as u32;
    }
    let leading = y_max / 10f64.powf(y_max.log10().floor());
    if (leading - 2.0).abs() < 1e-9 { 4 } else { 5 }
}

fn axes(out: &mut String, y_max: f64, categories: &[String], unit: &str) {
    let plot_h = HEIGHT - TOP - BOTTOM;
    let steps = ticks(y_max);
    for i in 0..=steps {
        let v = y_max * f64::from(i) / f64::from(steps);
        let y = TOP + plot_h - plot_h * f64::from(i) / f64::from(steps);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#d0d0d0\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">{}{}</text>",
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            fmt_num(v),
            escape_html(unit)
        );
    }
    let n = categories.len().max(1) as f64;
    let band = (WIDTH - LEFT - RIGHT) / n;
    // Label every category when they fit, else every other one.
    let every = if categories.len() > 12 { 2 } else { 1 };
    for (i, c) in categories.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let x = LEFT + band * (i as f64 + 0.5);
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            HEIGHT - BOTTOM + 16.0,
            escape_html(c)
        );
    }
}

fn legend(out: &mut String, series: &[Series]) {
    let mut x = LEFT;
    for (i, s) in series.iter().enumerate() {
        let colour = colour(s, i);
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#333\">{}</text>",
            HEIGHT - 22.0,
            x + 14.0,
            HEIGHT - 13.0,
            escape_html(&s.name)
        );
        x += 24.0 + 6.5 * s.name.chars().count() as f64;
    }
}

/// Stacked bars: one bar per category, one segment per series.
#[must_use]
pub fn stacked_bars(
    id: &str,
    title: &str,
    desc: &str,
    categories: &[String],
    series: &[Series],
    unit: &str,
) -> String {
    let totals: Vec<f64> = (0..categories.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let y_max = nice_max(totals.iter().copied().fold(0.0, f64::max));
    let mut out = String::new();
    open_svg(&mut out, id, title, desc);
    axes(&mut out, y_max, categories, unit);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let band = (WIDTH - LEFT - RIGHT) / categories.len().max(1) as f64;
    for (i, category) in categories.iter().enumerate() {
        let mut base = 0.0;
        for (k, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let h = plot_h * v / y_max;
            let y = TOP + plot_h - plot_h * base / y_max - h;
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{}: {} {}</title></rect>",
                LEFT + band * i as f64 + band * 0.15,
                band * 0.7,
                colour(s, k),
                escape_html(category),
                fmt_num(v),
                escape_html(&s.name)
            );
            base += v;
        }
    }
    legend(&mut out, series);
    out.push_str("</svg>");
    out
}

/// Lines: one point per category, one line per series.
#[must_use]
pub fn lines(
    id: &str,
    title: &str,
    desc: &str,
    categories: &[String],
    series: &[Series],
    unit: &str,
    y_max: Option<f64>,
) -> String {
    let top = y_max.unwrap_or_else(|| {
        nice_max(
            series
                .iter()
                .flat_map(|s| s.values.iter().copied())
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max),
        )
    });
    let mut out = String::new();
    open_svg(&mut out, id, title, desc);
    axes(&mut out, top, categories, unit);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let band = (WIDTH - LEFT - RIGHT) / categories.len().max(1) as f64;
    for (k, s) in series.iter().enumerate() {
        let colour = colour(s, k);
        let points: Vec<(f64, f64, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, v)| {
                (
                    LEFT + band * (i as f64 + 0.5),
                    TOP + plot_h - plot_h * v.min(top) / top,
                    *v,
                )
            })
            .collect();
        if points.len() > 1 {
            let path: Vec<String> = points
                .iter()
                .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
                .collect();
            let _ = write!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                path.join(" ")
            );
        }
        for (i, (x, y, v)) in points.iter().enumerate() {
            let label = categories.get(i).map_or("", String::as_str);
            let _ = write!(
                out,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{colour}\"><title>{}: {}{}</title></circle>",
                escape_html(label),
                fmt_num(*v),
                escape_html(unit)
            );
        }
    }
    legend(&mut out, series);
    out.push_str("</svg>");
    out
}

/// How many weeks the time charts cover.
const WEEKS: i64 = 12;

fn week_starts(now: Instant) -> Vec<Instant> {
    (0..WEEKS)
        .rev()
        .map(|w| now - chrono::Duration::weeks(w + 1))
        .collect()
}

fn week_label(t: Instant) -> String {
    t.format("%d %b").to_string()
}

/// Everything the charts page computes, from the cases and findings at `now`.
pub(crate) async fn build(state: &AppState) -> Result<Vec<Chart>, crate::desk::PageError> {
    let now = state.now();
    let all = cases(state, false).await?;
    let weeks = week_starts(now);
    let labels: Vec<String> = weeks.iter().map(|w| week_label(*w)).collect();
    let week_of = |t: Instant| -> Option<usize> {
        weeks
            .iter()
            .rposition(|start| t >= *start)
            .filter(|_| t <= now)
    };
    let mut met = vec![0.0; weeks.len()];
    let mut missed = vec![0.0; weeks.len()];
    let severities: [Option<Severity>; 6] = [
        Some(Severity::Critical),
        Some(Severity::High),
        Some(Severity::Medium),
        Some(Severity::Low),
        Some(Severity::None),
        None,
    ];
    let age_buckets = ["under 7 days", "7–30 days", "30–90 days", "over 90 days"];
    let mut by_age = vec![vec![0.0; age_buckets.len()]; severities.len()];
    let triage_buckets = ["< 1 d", "1–2 d", "2–3 d", "3–5 d", "5–10 d", "> 10 d"];
    let mut triage = vec![0.0; triage_buckets.len()];
    for case in &all {
        let history = state.store.history(case.reference).await?;
        let policy = state.settings.policies.for_product(&case.product);
        for c in clock::evaluate(policy, case, &history, now)
            .iter()
            .flat_map(clock::ClockReport::runs)
        {
            match c.status {
                ClockStatus::Met => {
                    if let Some(w) = c.stopped_at.and_then(week_of) {
                        met[w] += 1.0;
                    }
                }
                ClockStatus::Breached | ClockStatus::MetLate => {
                    if let Some(w) = c.due_at.and_then(week_of) {
                        missed[w] += 1.0;
                    }
                }
                _ => {}
            }
        }
        if !case.state.is_final() {
            let days = (now - case.created_at).num_days();
            let bucket = match days {
                d if d < 7 => 0,
                d if d < 30 => 1,
                d if d < 90 => 2,
                _ => 3,
            };
            if let Some(k) = severities.iter().position(|s| *s == case.severity) {
                by_age[k][bucket] += 1.0;
            }
        }
        let triaged = history.iter().find_map(|e| match &e.kind {
            EventKind::StateChanged { to, .. }
                if *to == CaseState::Accepted || to.is_rejection() || *to == CaseState::Spam =>
            {
                Some(e.at)
            }
            _ => None,
        });
        if let Some(at) = triaged {
            let hours = (at - case.created_at).num_hours();
            let bucket = match hours {
                h if h < 24 => 0,
                h if h < 48 => 1,
                h if h < 72 => 2,
                h if h < 120 => 3,
                h if h < 240 => 4,
                _ => 5,
            };
            triage[bucket] += 1.0;
        }
    }
    let compliance: Vec<f64> = met
        .iter()
        .zip(&missed)
        .map(|(m, b)| {
            if m + b > 0.0 {
                100.0 * m / (m + b)
            } else {
                f64::NAN
            }
        })
        .collect();
    let mut charts = Vec::new();
    let compliance_series = vec![Series {
        name: "Clocks met".into(),
        values: compliance,
    }];
    charts.push(Chart {
        id: "compliance",
        title: "Clock compliance per week".into(),
        svg: lines(
            "compliance",
            "Clock compliance per week",
            "The share of policy clocks that stopped on time, of those that stopped or fell due each week, over the last 12 weeks.",
            &labels,
            &compliance_series,
            "%",
            Some(100.0),
        ),
        categories: labels.clone(),
        series: vec![
            compliance_series[0].clone(),
            Series { name: "met".into(), values: met },
            Series { name: "breached".into(), values: missed },
        ],
        unit: "%",
    });
    let age_series: Vec<Series> = severities
        .iter()
        .zip(by_age)
        .map(|(s, values)| Series {
            name: s.map_or("not set", Severity::as_str).to_owned(),
            values,
        })
        .collect();
    let age_labels: Vec<String> = age_buckets.iter().map(|s| (*s).to_owned()).collect();
    charts.push(Chart {
        id: "open-cases",
        title: "Open cases by severity and age".into(),
        svg: stacked_bars(
            "open-cases",
            "Open cases by severity and age",
            "How many cases are still open, by how long ago they were reported, split by severity.",
            &age_labels,
            &age_series,
            "",
        ),
        categories: age_labels,
        series: age_series,
        unit: "cases",
    });
    let triage_labels: Vec<String> = triage_buckets.iter().map(|s| (*s).to_owned()).collect();
    let triage_series = vec![Series {
        name: "cases".into(),
        values: triage,
    }];
    charts.push(Chart {
        id: "triage",
        title: "Time to triage".into(),
        svg: stacked_bars(
            "triage",
            "Time to triage",
            "How long triage took, from the report to acceptance or rejection, in calendar days.",
            &triage_labels,
            &triage_series,
            "",
        ),
        categories: triage_labels,
        series: triage_series,
        unit: "cases",
    });
    // Findings burndown: open findings per product at the end of each week. A
    // finding counts from its first sighting until its analysis closed it
    // (its last update, for one closed now).
    let findings = state.findings(None, now).await?;
    let mut per_product: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for f in &findings {
        let closed_at = (!f.analysis.open_at(now)).then_some(f.updated_at);
        let values = per_product
            .entry(f.product.clone())
            .or_insert_with(|| vec![0.0; weeks.len()]);
        for (i, start) in weeks.iter().enumerate() {
            let end = *start + chrono::Duration::weeks(1);
            if f.first_seen <= end && closed_at.is_none_or(|c| c > end) {
                values[i] += 1.0;
            }
        }
    }
    let burndown: Vec<Series> = per_product
        .into_iter()
        .take(PALETTE.len())
        .map(|(name, values)| Series { name, values })
        .collect();
    charts.push(Chart {
        id: "burndown",
        title: "Open findings per product".into(),
        svg: lines(
            "burndown",
            "Open findings per product",
            "How many findings each product had open at the end of each of the last 12 weeks.",
            &labels,
            &burndown,
            "",
            None,
        ),
        categories: labels,
        series: burndown,
        unit: "findings",
    });
    Ok(charts)
}

/// The team's charts.
#[utoipa::path(get, path = "/desk/charts", tag = "desk",
    responses((status = 200, description = "The charts", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form")))]
pub async fn charts(State(state): State<AppState>, desk: Desk) -> PageResult {
    desk.require(Role::Viewer)?;
    let charts = build(&state).await?;
    let mut ctx = desk.context("Charts", "charts");
    let views: Vec<Value> = charts
        .iter()
        .map(|c| {
            let rows: Vec<(String, Vec<String>)> = c
                .categories
                .iter()
                .enumerate()
                .map(|(i, cat)| {
                    (
                        cat.clone(),
                        c.series
                            .iter()
                            .map(|s| {
                                s.values.get(i).map_or_else(String::new, |v| {
                                    if v.is_finite() {
                                        fmt_num(*v)
                                    } else {
                                        "—".into()
                                    }
                                })
                            })
                            .collect(),
                    )
                })
                .collect();
            minijinja::context! {
                id => c.id,
                title => c.title.clone(),
                // Built from escaped text only (see `open_svg`, `axes`, `legend`).
                svg => Value::from_safe_string(c.svg.clone()),
                names => c.series.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
                rows => rows,
                unit => c.unit,
            }
        })
        .collect();
    ctx.insert("charts", Value::from(views));
    Ok(desk.page(StatusCode::OK, "charts.html", ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_severity_has_its_own_colour_in_every_chart() {
        let named = |n: &str| Series {
            name: n.into(),
            values: Vec::new(),
        };
        // Whatever its position, critical is red and low is green.
        for i in 0..10 {
            assert_eq!(colour(&named("critical"), i), "#a4161a");
            assert_eq!(colour(&named("low"), i), "#1b5e20");
        }
        assert_ne!(colour(&named("critical"), 0), colour(&named("high"), 0));
        let severities =
            ["critical", "high", "medium", "low", "none"].map(|s| colour(&named(s), 0));
        for c in PALETTE {
            assert!(!severities.contains(&c), "{c} is a severity's colour");
        }
        assert_eq!(colour(&named("Dock Certs"), 0), PALETTE[0]);
    }

    #[test]
    fn nice_axis_bounds() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.0), 5.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(12.0), 20.0);
        assert_eq!(nice_max(100.0), 100.0);
        // Ticks land on round numbers.
        for (max, steps) in [
            (1.0, 1),
            (2.0, 2),
            (5.0, 5),
            (10.0, 5),
            (20.0, 4),
            (50.0, 5),
            (100.0, 5),
        ] {
            assert_eq!(ticks(max), steps, "{max}");
            let step = max / f64::from(steps);
            assert_eq!(step.fract(), 0.0, "{max}: step {step}");
        }
    }

    #[test]
    fn bars_scale_to_the_axis_and_escape_names() {
        let svg = stacked_bars(
            "t",
            "A <title>",
            "desc & more",
            &["a".into(), "b".into()],
            &[
                Series {
                    name: "<script>".into(),
                    values: vec![2.0, 4.0],
                },
                Series {
                    name: "x".into(),
                    values: vec![1.0, 0.0],
                },
            ],
            "",
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("A &lt;title&gt;"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        // 4 is the tallest bar on a 0..5 axis: 4/5 of the plot height.
        let plot_h = HEIGHT - TOP - BOTTOM;
        assert!(svg.contains(&format!("height=\"{:.1}\"", plot_h * 4.0 / 5.0)));
        // Three non-empty segments.
        assert_eq!(
            svg.matches("<rect x=").count() - 2,
            3,
            "two legend swatches"
        );
    }

    #[test]
    fn lines_skip_missing_values() {
        let svg = lines(
            "l",
            "t",
            "d",
            &["a".into(), "b".into(), "c".into()],
            &[Series {
                name: "s".into(),
                values: vec![50.0, f64::NAN, 100.0],
            }],
            "%",
            Some(100.0),
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("100%"));
    }
}
