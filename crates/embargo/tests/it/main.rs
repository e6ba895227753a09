//! The `embargo` binary as a user runs it: first run, crash safety under
//! `kill -9`, audit, keys, backups and configuration errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

mod architecture;
mod cli;
mod crash;
mod delivery;
mod faults;
mod first_run;
mod instances;
mod policy;
mod receivers;
mod sbom;
mod scan;
mod simulate;
mod soak;
mod sync;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use embargo_store::testing::TestDatabase;

pub const BIN: &str = env!("CARGO_BIN_EXE_embargo");

/// The binary the tests run: this build's, or the one EMBARGO_TEST_BINARY
/// names (a release build for the soak run, or an older build to show that a
/// test fails without a fix).
pub fn bin() -> String {
    std::env::var("EMBARGO_TEST_BINARY").unwrap_or_else(|_| BIN.to_owned())
}

/// A directory holding one installation, removed afterwards.
pub struct Installation {
    pub dir: tempfile::TempDir,
    pub token: String,
    pub password: String,
    _db: Option<TestDatabase>,
}

impl Installation {
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("embargo.toml")
    }

    pub fn embargo(&self, args: &[&str]) -> Output {
        embargo_in(self.dir.path(), args)
    }

    /// Starts `embargo serve` on a free port; returns the child and its base URL.
    pub fn serve(&self) -> (Child, String) {
        self.serve_with(&[])
    }

    /// [`Installation::serve`] with more `EMBARGO_*` settings.
    pub fn serve_with(&self, env: &[(&str, &str)]) -> (Child, String) {
        let mut child = Command::new(bin())
            .args(["serve"])
            .current_dir(self.dir.path())
            .env_remove("EMBARGO_CONFIG")
            .env("EMBARGO_LISTEN", "127.0.0.1:0")
            .env("EMBARGO_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = read_listening_url(&mut child);
        (child, url)
    }
}

/// Reads the server's stdout until it says where it listens.
pub fn read_listening_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.strip_prefix("embargo: listening on ") {
            let url = rest.split_whitespace().next().unwrap().to_owned();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return url;
        }
    }
}

pub fn embargo_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("EMBARGO_CONFIG")
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `embargo init` in a fresh directory (on `db` if given, else SQLite), plus an
/// admin API token.
pub fn install(db: Option<TestDatabase>) -> Installation {
    let url = db.as_ref().map(|db| db.url.clone());
    let mut inst = install_on(url.as_deref());
    inst._db = db;
    inst
}

/// `embargo init` in a fresh directory on the database at `url` (else SQLite
/// in the data directory), plus an admin API token.
pub fn install_on(url: Option<&str>) -> Installation {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["init".to_owned()];
    if let Some(url) = url {
        args.push("--database-url".into());
        args.push(url.to_owned());
    }
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = embargo_in(dir.path(), &args_ref);
    assert!(out.status.success(), "init: {}", stderr(&out));
    let password = stdout(&out)
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin password"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let out = embargo_in(
        dir.path(),
        &["token", "create", "--user", "admin", "--name", "tests"],
    );
    assert!(out.status.success(), "token: {}", stderr(&out));
    let token = stdout(&out).lines().nth(1).unwrap().trim().to_owned();
    assert!(token.starts_with("emb_"));
    Installation {
        dir,
        token,
        password,
        _db: None,
    }
}

/// Every backend available: SQLite always, PostgreSQL when configured.
pub async fn installations() -> Vec<Installation> {
    let mut out = vec![install(None)];
    if let Some(db) = TestDatabase::postgres().await.unwrap() {
        out.push(install(Some(db)));
    }
    out
}

/// `embargo serve` in `dir` with a 3-second delivery lease (and a 1-second
/// send timeout, which the lease must exceed), so that a
/// message claimed by a killed server is taken over quickly.
pub fn serve_with_short_lease(dir: &Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .env_remove("EMBARGO_CONFIG")
        .env("EMBARGO_LISTEN", "127.0.0.1:0")
        .env("EMBARGO_LOG", "warn")
        .env("EMBARGO_DELIVERY_LEASE_SECONDS", "3")
        .env("EMBARGO_DELIVERY_TIMEOUT_SECONDS", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let url = read_listening_url(&mut child);
    (child, url)
}

/// Every acknowledged case is readable on the server at `url`.
pub async fn assert_all_present(inst: &Installation, url: &str, acknowledged: &[String]) {
    for reference in acknowledged {
        let (status, _) = get_json(url, &inst.token, &format!("/api/v1/cases/{reference}")).await;
        assert_eq!(status, 200, "{reference} was acknowledged but is gone");
    }
}

/// `embargo audit verify` passes (the server stopped); its report.
pub fn audit_verifies(inst: &Installation) -> String {
    let out = inst.embargo(&["audit", "verify"]);
    assert!(out.status.success(), "{} {}", stdout(&out), stderr(&out));
    stdout(&out).trim().to_owned()
}

/// GET `path` on the server at `url` with the API token: the status and
/// the JSON answer (null when it is not JSON).
pub async fn get_json(url: &str, token: &str, path: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// A test that needs what this machine lacks: under `CI=true` it fails
/// (CI must run it); elsewhere it says why it skips.
pub fn unavailable(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("required under CI=true: {why}");
    }
    eprintln!("skipped: {why}");
}

pub fn kill9(child: &mut Child) {
    // Child::kill sends SIGKILL on Unix: no shutdown code runs.
    child.kill().unwrap();
    child.wait().unwrap();
}

pub fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..50 {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    kill9(child);
}
