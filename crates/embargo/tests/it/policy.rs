//! `embargo policy`: check, explain, render and presets.

use crate::{embargo_in, stderr, stdout};

#[test]
fn every_preset_checks_and_explains() {
    let dir = tempfile::tempdir().unwrap();
    let out = embargo_in(dir.path(), &["policy", "presets"]);
    assert!(out.status.success());
    let names: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 6, "{}", stdout(&out));
    for name in &names {
        let source = format!("preset:{name}");
        let out = embargo_in(dir.path(), &["policy", "check", &source]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let out = embargo_in(dir.path(), &["policy", "explain", &source]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
    }
    let explained = stdout(&embargo_in(
        dir.path(),
        &["policy", "explain", "preset:truvera"],
    ));
    assert!(
        explained.contains("Triage and respond to the reporter [triage]"),
        "{explained}"
    );
    assert!(
        explained.contains("due 3 business days after it starts"),
        "{explained}"
    );
    assert!(
        explained.contains("Applies when severity is critical or high."),
        "{explained}"
    );
}

#[test]
fn check_names_the_line_and_key_of_a_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let out = embargo_in(dir.path(), &["policy", "presets", "opensecops"]);
    let text = stdout(&out).replace(
        "target = \"3 business days\"",
        "target = \"3 bussiness days\"",
    );
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, &text).unwrap();
    let out = embargo_in(dir.path(), &["policy", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let line = text.lines().position(|l| l.contains("bussiness")).unwrap() + 1;
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "line {line}: clock `preliminary-assessment`.target"
        )),
        "{err}"
    );
    let out = embargo_in(dir.path(), &["policy", "check", "preset:nonexistent"]);
    assert!(stderr(&out).contains("no preset `nonexistent`"));
}

#[test]
fn render_writes_security_md_and_security_txt() {
    let dir = tempfile::tempdir().unwrap();
    let out = embargo_in(
        dir.path(),
        &[
            "policy",
            "render",
            "preset:opensecops",
            "--format",
            "security-md",
        ],
    );
    assert!(out.status.success());
    let md = stdout(&out);
    assert!(md.starts_with("# Security policy: OpenSecOps"));
    assert!(md.contains("Acknowledge receipt of your report within 24 hours"));
    assert!(md.contains("- Steps to reproduce the issue"));
    let out = embargo_in(
        dir.path(),
        &[
            "policy",
            "render",
            "preset:opensecops",
            "--format",
            "security-txt",
            "--public-url",
            "https://s.example",
        ],
    );
    let txt = stdout(&out);
    assert!(
        txt.contains("Canonical: https://s.example/.well-known/security.txt"),
        "{txt}"
    );
    assert!(txt.contains("Expires: "));
}
