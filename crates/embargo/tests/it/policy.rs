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
    assert_eq!(names.len(), 7, "{}", stdout(&out));
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
        explained.contains("Applies when the severity level is High."),
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
fn check_warns_of_what_is_valid_but_wrong_and_refuses_huge_files() {
    let dir = tempfile::tempdir().unwrap();
    let text = stdout(&embargo_in(
        dir.path(),
        &["policy", "presets", "opensecops"],
    ))
    .replace("target = \"24 hours\"", "target = \"100000 business days\"")
    .replace("languages = [\"en\"]", "languages = [\"english\"]");
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, &text).unwrap();
    // The same policy twice: two files with one id.
    let out = embargo_in(
        dir.path(),
        &[
            "policy",
            "check",
            file.to_str().unwrap(),
            "preset:opensecops",
        ],
    );
    assert!(out.status.success(), "warnings do not fail the check");
    let err = stderr(&out);
    let target = text.lines().position(|l| l.contains("100000")).unwrap() + 1;
    assert!(
        err.contains(&format!(
            "warning: line {target}: clock `acknowledgement`.target: `100000 business days` gives no due time"
        )),
        "{err}"
    );
    let language = text.lines().position(|l| l.contains("english")).unwrap() + 1;
    assert!(
        err.contains(&format!(
            "warning: line {language}: organization.languages[0]"
        )),
        "{err}"
    );
    assert!(
        err.contains("preset:opensecops: warning: id: `opensecops` is also the id of"),
        "{err}"
    );
    // A key misspelt in a table is named with its table.
    let misspelt = text.replace("public = true", "pubilc = true");
    std::fs::write(&file, &misspelt).unwrap();
    let out = embargo_in(dir.path(), &["policy", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("clock[1].pubilc"), "{}", stderr(&out));
    // Over 1 MiB is refused before it is read whole.
    let huge = format!("{text}\n#{}", "x".repeat(1024 * 1024));
    std::fs::write(&file, huge).unwrap();
    let out = embargo_in(dir.path(), &["policy", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("at most 1048576 bytes"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn simulate_prints_each_clock_and_names_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.txt");
    std::fs::write(
        &events,
        "# a Friday evening report in Paris\n\
         2026-03-27T17:00 Europe/Paris reported\n\
         2026-03-28T09:00 Europe/Paris message_reporter\n\
         2026-04-02T10:00Z start_triage\n",
    )
    .unwrap();
    let out = embargo_in(
        dir.path(),
        &[
            "policy",
            "simulate",
            "preset:opensecops",
            events.to_str().unwrap(),
            "--at",
            "2026-04-03T00:00Z",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("acknowledgement (Acknowledge receipt)"),
        "{text}"
    );
    assert!(text.contains("  met\n"), "{text}");
    assert!(text.contains("  breached\n"), "{text}");
    assert!(text.contains("due      2026-04-01 16:00 UTC"), "{text}");
    std::fs::write(
        &events,
        "2026-03-27T17:00 reported\n2026-03-28T09:00 accept\n",
    )
    .unwrap();
    let out = embargo_in(
        dir.path(),
        &[
            "policy",
            "simulate",
            "preset:opensecops",
            events.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("events.txt: line 2:"),
        "{}",
        stderr(&out)
    );
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
