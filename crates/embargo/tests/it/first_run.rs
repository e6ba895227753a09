//! The first hour of a new installation, as a person meets it, in Debian's
//! Chromium: port 8080 is taken, so `embargo serve` says how to choose
//! another and sets nothing up; started with `--listen`, the first run
//! prints the admin password, and the dashboard's setup checklist (read in
//! the browser at 1280 and 390 px, axe-clean, no CSP report) says email is
//! not configured. With `[smtp]` written into the configuration and the
//! server restarted, the checklist's "send a test email" button sends a
//! message that reaches a real SMTP server (aiosmtpd), and the checklist
//! then counts email delivery as tested.
//!
//! Outside CI, a missing Chromium, node, playwright-core or aiosmtpd skips
//! the test with a message; under `CI=true` it fails (`.ci/run` installs
//! them).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::{bin, stderr, stop};

fn server_tests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests")
}

/// Chromium, node with playwright-core and axe-core, and aiosmtpd.
fn tools_or_skip() -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node = Command::new("node")
        .args(["-e", "require('playwright-core'); require('axe-core')"])
        .output()
        .is_ok_and(|o| o.status.success());
    let smtp = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if Path::new(&chromium).exists() && node && smtp {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "Chromium, node, playwright-core, axe-core and aiosmtpd are installed by .ci/run"
    );
    eprintln!("skipped: Chromium, playwright-core/axe-core (NODE_PATH) or aiosmtpd is missing");
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `embargo serve --listen ADDRESS` in `dir`; returns the child, its URL and
/// what it printed before listening (the first run's password is there).
fn serve(dir: &Path, address: &str) -> (Child, String, String) {
    let mut child = Command::new(bin())
        .args(["serve", "--listen", address])
        .current_dir(dir)
        .env_remove("EMBARGO_CONFIG")
        .env_remove("EMBARGO_LISTEN")
        .env("EMBARGO_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (url, printed) = read_until_listening(&mut child);
    (child, url, printed)
}

/// The server's stdout up to the line saying where it listens (then drained
/// in the background), and that address.
fn read_until_listening(child: &mut Child) -> (String, String) {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    loop {
        let line = lines
            .next()
            .expect("the server exited before listening")
            .unwrap();
        if let Some(rest) = line.strip_prefix("embargo: listening on ") {
            let url = rest.split_whitespace().next().unwrap().to_owned();
            std::thread::spawn(move || for _ in lines {});
            return (url, printed);
        }
        printed.push_str(&line);
        printed.push('\n');
    }
}

fn browser(base: &str, password: &str, phase: &str) -> Value {
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(server_tests().join("browser/first_run.cjs"))
        .args([base, password, phase])
        .arg(shots)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn assert_clean(report: &Value) {
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["csp"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["violations"], serde_json::json!([]), "{report:#}");
}

fn item<'r>(report: &'r Value, starts: &str) -> &'r Value {
    report["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["text"].as_str().unwrap().contains(starts))
        .unwrap_or_else(|| panic!("no checklist item `{starts}`: {report:#}"))
}

#[test]
fn the_first_hour_from_a_taken_port_to_a_tested_email_in_chromium() {
    if !tools_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Port 8080 taken (by this test, or by something else already).
    let _held = std::net::TcpListener::bind("127.0.0.1:8080");
    let out = Command::new(bin())
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("EMBARGO_CONFIG")
        .env_remove("EMBARGO_LISTEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("cannot listen on 127.0.0.1:8080"), "{err}");
    assert!(
        err.contains("embargo serve --listen 127.0.0.1:8081"),
        "{err}"
    );
    assert!(!dir.path().join("embargo.toml").exists(), "nothing set up");

    // Another port, as the message says: the first run sets up and prints
    // the admin's password.
    let address = format!("127.0.0.1:{}", free_port());
    let (mut server, url, printed) = serve(dir.path(), &address);
    assert_eq!(url, format!("http://{address}"));
    let password = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin password"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password printed: {printed}"))
        .to_owned();
    let report = browser(&url, &password, "setup");
    stop(&mut server);
    assert_clean(&report);
    assert_eq!(report["pages"].as_array().unwrap().len(), 2, "{report:#}");
    let email = item(&report, "Email delivery");
    assert_eq!(email["done"], false);
    assert!(
        email["text"]
            .as_str()
            .unwrap()
            .contains("No SMTP server is configured"),
        "{email}"
    );
    assert_eq!(item(&report, "At least one product")["done"], false);

    // The admin configures a real SMTP server and restarts.
    let inbox = tempfile::tempdir().unwrap();
    let smtp_port = free_port();
    let mut smtp = Command::new("python3")
        .arg(server_tests().join("support/smtp_sink.py"))
        .arg(smtp_port.to_string())
        .arg(inbox.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(smtp.stdout.as_mut().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "READY");
    let config = dir.path().join("embargo.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\nfrom = \"Security team <security@example.org>\"\n"
    ));
    std::fs::write(&config, text).unwrap();
    let (mut server, url, _) = serve(dir.path(), &address);
    let report = browser(&url, &password, "email");
    stop(&mut server);
    let _ = smtp.kill();
    let _ = smtp.wait();
    assert_clean(&report);
    assert!(
        report["notice"]
            .as_str()
            .unwrap_or_default()
            .contains("test email"),
        "{report:#}"
    );
    assert_eq!(item(&report, "Email delivery")["done"], true, "{report:#}");
    let received: Vec<String> = std::fs::read_dir(inbox.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(received.len(), 1, "one test email");
    assert!(received[0].contains("admin@example.org"), "{}", received[0]);
}
