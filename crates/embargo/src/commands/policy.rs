//! `embargo policy`: check, explain, render and list security policies; and
//! the loading of the policies a configuration names.

use std::process::ExitCode;

use embargo_core::policy::{Policy, PolicySet, presets};

use super::*;

/// Reads a policy from a file or `preset:NAME`, naming the source in errors.
pub(crate) fn read_policy(source: &str) -> Result<Policy> {
    let text = read_policy_text(source)?;
    Policy::parse(&text).map_err(|e| message(format!("{source}: {e}")))
}

/// The text of a policy file or preset, refusing files over 1 MiB before
/// reading them whole.
fn read_policy_text(source: &str) -> Result<String> {
    use std::io::Read;
    Ok(match source.strip_prefix("preset:") {
        Some(name) => presets::get(name)
            .ok_or_else(|| {
                message(format!(
                    "no preset `{name}`; the presets are {}",
                    presets::ALL
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?
            .to_owned(),
        None => {
            let limit = embargo_core::policy::MAX_POLICY_BYTES as u64;
            let mut text = String::new();
            std::fs::File::open(source)
                .and_then(|f| f.take(limit + 1).read_to_string(&mut text))
                .map_err(|e| message(format!("{source}: {e}")))?;
            if text.len() as u64 > limit {
                return Err(message(format!(
                    "{source}: a policy file is at most {limit} bytes (1 MiB)"
                )));
            }
            text
        }
    })
}

pub(crate) fn load_policies(config: &Config) -> Result<PolicySet> {
    let policies = config
        .policies
        .iter()
        .map(|p| read_policy(p))
        .collect::<Result<Vec<_>>>()?;
    PolicySet::new(policies).map_err(|e| message(format!("policies: {e}")))
}

pub(crate) fn policy(cmd: PolicyCommand) -> Result<ExitCode> {
    match cmd {
        PolicyCommand::Check { files } => {
            let mut failed = false;
            // Policy id → the first file that has it.
            let mut ids: std::collections::BTreeMap<String, String> = Default::default();
            for f in &files {
                match read_policy_text(f).and_then(|text| {
                    Policy::parse(&text)
                        .map(|p| (p, text))
                        .map_err(|e| message(format!("{f}: {e}")))
                }) {
                    Ok((p, text)) => {
                        println!(
                            "{f}: ok: policy `{}` with {} clocks and {} scope rules",
                            p.id,
                            p.clocks.len(),
                            p.scope_rules.len()
                        );
                        for w in p.warnings(&text) {
                            eprintln!("{f}: warning: {w}");
                        }
                        if let Some(first) = ids.get(&p.id) {
                            eprintln!(
                                "{f}: warning: id: `{}` is also the id of {first}: a server loads one policy per id",
                                p.id
                            );
                        } else {
                            ids.insert(p.id.clone(), f.clone());
                        }
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        failed = true;
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        PolicyCommand::Explain { file } => {
            print!("{}", read_policy(&file)?.explain());
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Render {
            file,
            format,
            public_url,
        } => {
            let p = read_policy(&file)?;
            let text = match format {
                RenderFormat::SecurityMd => embargo_core::publish::security_md(&p, &public_url),
                RenderFormat::SecurityTxt => {
                    embargo_core::publish::security_txt(&p, &public_url, now())
                        .map_err(|e| message(format!("--public-url: {e}")))?
                }
                RenderFormat::Html => embargo_core::publish::policy_html(&p, &public_url),
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Simulate {
            policy,
            events,
            at,
            format,
        } => {
            let p = read_policy(&policy)?;
            let script = read_script(&events)?;
            let at = at
                .map(|t| {
                    let (text, zone) = match t.split_once(' ') {
                        Some((t, z)) => (t.to_owned(), Some(z.trim().to_owned())),
                        None => (t, None),
                    };
                    embargo_core::simulate::instant(&text, zone.as_deref(), p.calendar.time_zone())
                        .map_err(|e| message(format!("--at: {e}")))
                })
                .transpose()?;
            let run = embargo_core::simulate::simulate(&p, &script, at)
                .map_err(|e| message(format!("{events}: {e}")))?;
            match format {
                SimulateFormat::Json => {
                    let json = serde_json::to_string_pretty(&run)
                        .map_err(|e| message(format!("json: {e}")))?;
                    println!("{json}");
                }
                SimulateFormat::Text => print!("{}", simulation_text(&p, &run)),
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Presets { name } => {
            match name {
                None => {
                    for (n, text) in presets::ALL {
                        let title = Policy::parse(text).map(|p| p.name).unwrap_or_default();
                        println!("{n:<24} {title}");
                    }
                }
                Some(n) => print!(
                    "{}",
                    presets::get(&n).ok_or_else(|| message(format!("no preset `{n}`")))?
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The most a script may hold: 10,000 lines of events fit in far less.
const MAX_SCRIPT_BYTES: u64 = 1024 * 1024;

fn read_script(source: &str) -> Result<String> {
    use std::io::Read;
    let mut text = String::new();
    let read = if source == "-" {
        std::io::stdin()
            .take(MAX_SCRIPT_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(source)
            .and_then(|f| f.take(MAX_SCRIPT_BYTES + 1).read_to_string(&mut text))
    };
    read.map_err(|e| message(format!("{source}: {e}")))?;
    if text.len() as u64 > MAX_SCRIPT_BYTES {
        return Err(message(format!(
            "{source}: a script is at most {MAX_SCRIPT_BYTES} bytes"
        )));
    }
    Ok(text)
}

/// A simulation as a table a person reads: each clock run with its times in
/// the policy's zone (and UTC).
fn simulation_text(policy: &Policy, run: &embargo_core::simulate::Simulation) -> String {
    use std::fmt::Write;
    let zone = policy.calendar.time_zone();
    let local = |t: embargo_core::Instant| {
        format!(
            "{} {} ({})",
            zone.local(t).format("%Y-%m-%d %H:%M"),
            zone.abbreviation(t),
            t.format("%Y-%m-%dT%H:%MZ")
        )
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy `{}` ({}), clocks read at {}; the case is {}",
        run.policy,
        run.time_zone,
        local(run.at),
        run.state
    );
    for c in &run.clocks {
        let _ = writeln!(out, "\n{} ({}): {}", c.id, c.name, c.promise);
        let runs = c.runs();
        if runs.is_empty() {
            let _ = writeln!(out, "  not started");
        }
        for r in runs {
            let status = embargo_core::clock::status_label(r.status);
            let _ = writeln!(out, "  {status}");
            let _ = writeln!(out, "    started  {}", local(r.started_at));
            if r.started_at == c.started_at.unwrap_or_default()
                && let Some(w) = c.warn_at
            {
                let _ = writeln!(out, "    warning  {}", local(w));
            }
            match r.due_at {
                Some(d) => {
                    let _ = writeln!(out, "    due      {}", local(d));
                }
                None => {
                    let _ = writeln!(out, "    due      none while it is paused");
                }
            }
            if let Some(s) = r.stopped_at {
                let _ = writeln!(out, "    ended    {}", local(s));
            }
            if let Some(o) = r.overdue_seconds {
                let _ = writeln!(
                    out,
                    "    late by  {}",
                    embargo_core::clock::duration_words(o)
                );
            }
            if let Some(cause) = &r.cause {
                let _ = writeln!(out, "    because  {cause}");
            }
        }
    }
    out
}
