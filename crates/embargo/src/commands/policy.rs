//! `embargo policy`: check, explain, render and list security policies; and
//! the loading of the policies a configuration names.

use std::process::ExitCode;

use embargo_core::policy::{Policy, PolicySet, presets};

use super::*;

/// Reads a policy from a file or `preset:NAME`, naming the source in errors.
pub(crate) fn read_policy(source: &str) -> Result<Policy> {
    let text = match source.strip_prefix("preset:") {
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
        None => std::fs::read_to_string(source).map_err(|e| message(format!("{source}: {e}")))?,
    };
    Policy::parse(&text).map_err(|e| message(format!("{source}: {e}")))
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
            for f in &files {
                match read_policy(f) {
                    Ok(p) => println!(
                        "{f}: ok: policy `{}` with {} clocks and {} scope rules",
                        p.id,
                        p.clocks.len(),
                        p.scope_rules.len()
                    ),
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
                }
                RenderFormat::Html => embargo_core::publish::policy_html(&p, &public_url),
            };
            print!("{text}");
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
