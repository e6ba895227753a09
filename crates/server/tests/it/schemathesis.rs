//! API fuzzing with schemathesis (PyPI), an independent tool that reads
//! `/api/openapi.json` and generates requests from it: no response is a 5xx,
//! and every response has the documented content type and matches the
//! documented schema. A bounded number of examples per operation (CI runs
//! it at this size; `EMBARGO_FUZZ_EXAMPLES` raises it, see the README).
//!
//! Outside CI a missing `st` skips the test with a message.

use crate::{TestApp, new_case};
use embargo_store::testing::TestDatabase;

fn schemathesis() -> bool {
    std::process::Command::new("st")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_undocumented_response() {
    if !schemathesis() {
        assert!(
            std::env::var_os("CI").is_none(),
            "schemathesis is installed by .ci/run"
        );
        eprintln!("skipped: schemathesis (`st`) is not installed");
        return;
    }
    let app = TestApp::start(TestDatabase::sqlite().unwrap()).await;
    // Something to read: a case from a reporter, and one from the team.
    let (status, _) = app.post("", "/api/v1/reports", &new_case("fuzzed")).await;
    assert_eq!(status, 201);
    let (status, _) = app
        .post(&app.responder, "/api/v1/cases", &new_case("fuzzed too"))
        .await;
    assert_eq!(status, 201);
    let examples = std::env::var("EMBARGO_FUZZ_EXAMPLES").unwrap_or_else(|_| "5".into());
    let schema = app.url("/api/openapi.json");
    let auth = format!("Authorization: Bearer {}", app.admin);
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("st")
            .current_dir(&cwd)
            .args([
                "run",
                &schema,
                "-H",
                &auth,
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
                "--max-examples",
                &examples,
                "--workers",
                "1",
                "--seed",
                "20261124",
                "--suppress-health-check=filter_too_much",
                // Revoking the admin's own token would leave the rest of the run anonymous.
                "--exclude-path-regex",
                "^/api/v1/tokens/",
            ])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let tail: String = report
        .lines()
        .rev()
        .take(80)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("generated"), "{tail}");
    app.stop().await;
}
