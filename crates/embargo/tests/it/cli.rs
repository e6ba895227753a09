use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::{BIN, embargo_in, install, installations, read_listening_url, stderr, stdout, stop};

fn case_body(title: &str) -> Value {
    json!({
        "title": title,
        "product": "Dock Certs",
        "reporter": {"contact": "r@example.org"},
        "report": {"summary": "s", "description": "MARKER-cli-description"}
    })
}

#[tokio::test]
async fn first_run_serve_sets_up_and_the_printed_admin_can_log_in_and_create_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("EMBARGO_CONFIG")
        .env("EMBARGO_LISTEN", "127.0.0.1:0")
        .env("EMBARGO_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The first-run report comes before the listening line; read both.
    let stdout = child.stdout.take().unwrap();
    let mut reader = std::io::BufReader::new(stdout);
    let mut printed = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0,
            "{printed}"
        );
        printed.push_str(&line);
        if let Some(rest) = line.strip_prefix("embargo: listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    assert!(
        printed.contains("embargo.toml") && printed.contains("embargo-data"),
        "{printed}"
    );
    let password = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("admin password"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let key_mode = std::fs::metadata(dir.path().join("embargo-data/keys")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key_mode.permissions()) & 0o777,
        0o600
    );

    let http = reqwest::Client::new();
    let r = http
        .post(format!("{url}/api/v1/session"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{url}/api/v1/cases"))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&case_body("first case"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(
        r.json::<Value>().await.unwrap()["reference"]
            .as_str()
            .unwrap()
            .len(),
        13
    );
    stop(&mut child);

    // A second start reuses the installation and prints no new password.
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("EMBARGO_CONFIG")
        .env("EMBARGO_LISTEN", "127.0.0.1:0")
        .env("EMBARGO_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let url = read_listening_url(&mut child);
    let r = http
        .post(format!("{url}/api/v1/session"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    stop(&mut child);
}

#[tokio::test]
async fn audit_verify_passes_then_names_the_edited_event() {
    for inst in installations().await {
        let (mut child, url) = inst.serve();
        let http = reqwest::Client::new();
        for i in 0..3 {
            let r = http
                .post(format!("{url}/api/v1/cases"))
                .bearer_auth(&inst.token)
                .json(&case_body(&format!("case {i}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201);
        }
        stop(&mut child);
        let out = inst.embargo(&["audit", "verify"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("3 events in 3 cases"),
            "{}",
            stdout(&out)
        );

        // Tamper directly in the database.
        let config = std::fs::read_to_string(inst.config()).unwrap();
        let url_line = config
            .lines()
            .find(|l| l.starts_with("database_url"))
            .unwrap();
        let db_url = url_line.split('"').nth(1).unwrap();
        let db_url = if let Some(path) = db_url.strip_prefix("sqlite://") {
            if path.starts_with('/') {
                db_url.to_owned()
            } else {
                format!("sqlite://{}", inst.dir.path().join(path).display())
            }
        } else {
            db_url.to_owned()
        };
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db_url)
            .await
            .unwrap();
        sqlx::query("UPDATE events SET at = at + 1 WHERE seq = 2")
            .execute(&mut conn)
            .await
            .unwrap();
        drop(conn);
        let out = inst.embargo(&["audit", "verify"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("event 2 (EMB-"), "{}", stderr(&out));
    }
}

/// `embargo cra export` writes a case's signed evidence bundle, `cra
/// verify` checks it offline and names what one changed byte touches.
#[tokio::test]
async fn cra_export_then_verify_and_a_changed_byte_is_named() {
    for inst in installations().await {
        let (mut child, url) = inst.serve();
        let http = reqwest::Client::new();
        let case: Value = http
            .post(format!("{url}/api/v1/cases"))
            .bearer_auth(&inst.token)
            .json(&case_body("exploited in the wild"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let reference = case["reference"].as_str().unwrap().to_owned();
        let r = http
            .post(format!("{url}/api/v1/cases/{reference}/transitions"))
            .bearer_auth(&inst.token)
            .json(
                &json!({"action": "mark_exploited", "source": "own_telemetry",
                          "evidence": "our honeypot logged the exploit: unique-marker-7f3a"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        stop(&mut child);

        let out = inst.embargo(&["cra", "export", &reference, "--out", "bundle.zip"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = inst.embargo(&["cra", "verify", "bundle.zip"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("ok"), "{}", stdout(&out));
        assert!(stdout(&out).contains(&reference), "{}", stdout(&out));
        // Exporting over an existing file is refused.
        let out = inst.embargo(&["cra", "export", &reference, "--out", "bundle.zip"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("exists"), "{}", stderr(&out));

        let path = inst.dir.path().join("bundle.zip");
        let mut bytes = std::fs::read(&path).unwrap();
        let marker = b"unique-marker-7f3a";
        let at = bytes
            .windows(marker.len())
            .position(|w| w == marker)
            .unwrap();
        bytes[at] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();
        let out = inst.embargo(&["cra", "verify", "bundle.zip"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("events.json changed"),
            "{}",
            stderr(&out)
        );
    }
}

/// Key rotation and pruning, then a backup and its restore: every case,
/// event, file and key reference comes back as it was, readable, and the
/// audit verifies.
#[tokio::test]
async fn keys_rotate_prune_backup_and_restore_keep_every_case_readable() {
    let inst = install(None);
    let (mut child, url) = inst.serve();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{url}/api/v1/cases"))
        .bearer_auth(&inst.token)
        .json(&case_body("before rotation"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    stop(&mut child);

    let out = inst.embargo(&["keys", "rotate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("new active key k2"),
        "{}",
        stdout(&out)
    );
    let out = inst.embargo(&["keys", "list"]);
    assert!(
        stdout(&out).contains("k1: unused") && stdout(&out).contains("k2 (active)"),
        "{}",
        stdout(&out)
    );
    let out = inst.embargo(&["keys", "prune"]);
    assert!(
        stdout(&out).contains("removed 1 unused key(s): k1"),
        "{}",
        stdout(&out)
    );
    let keys = std::fs::read_to_string(inst.dir.path().join("embargo-data/keys")).unwrap();
    assert!(!keys.contains("key k1 "));
    let out = inst.embargo(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let (mut child, url) = inst.serve();
    let r = http
        .get(format!("{url}/api/v1/cases/EMB-2026-0001"))
        .bearer_auth(&inst.token)
        .send()
        .await
        .unwrap();
    // The reference year follows the clock; read whatever was created.
    let list: Value = http
        .get(format!("{url}/api/v1/cases"))
        .bearer_auth(&inst.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().as_u16() == 404);
    assert_eq!(
        list["cases"][0]["report"]["description"],
        "MARKER-cli-description"
    );
    // A file on the case, so that the backup holds an attachment too.
    let reference = list["cases"][0]["reference"].as_str().unwrap().to_owned();
    let file: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let r = http
        .post(format!(
            "{url}/api/v1/cases/{reference}/attachments?filename=poc.bin"
        ))
        .bearer_auth(&inst.token)
        .header("content-type", "application/octet-stream")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let attachment: Value = r.json().await.unwrap();
    let attachment_path = format!(
        "/api/v1/cases/{reference}/attachments/{}",
        attachment["id"].as_str().unwrap()
    );
    // The whole case as it stands: fields, clocks, every event, the file.
    let (_, case_before) =
        crate::get_json(&url, &inst.token, &format!("/api/v1/cases/{reference}")).await;
    stop(&mut child);
    let keys_before = stdout(&inst.embargo(&["keys", "list"]));

    let backup = inst.dir.path().join("copy.db");
    let out = inst.embargo(&["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&backup).unwrap();
    assert!(
        !bytes.windows(14).any(|w| w == b"MARKER-cli-des"),
        "the backup is encrypted"
    );

    // Restore: the backup is checked, then put in place of the database,
    // which then holds exactly what was backed up and verifies.
    let before = stdout(&inst.embargo(&["audit", "verify"]));
    let (mut child, url) = inst.serve();
    let r = http
        .post(format!("{url}/api/v1/cases"))
        .bearer_auth(&inst.token)
        .json(
            &serde_json::json!({"title": "after the backup", "product": "p",
            "reporter": {}, "report": {"summary": "s", "description": "d"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    stop(&mut child);
    assert_ne!(
        stdout(&inst.embargo(&["audit", "verify"])),
        before,
        "a case more"
    );
    let out = inst.embargo(&["restore", backup.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let junk = inst.dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let out = inst.embargo(&["restore", "--force", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("nothing was replaced") || stderr(&out).contains("not a database"),
        "{}",
        stderr(&out)
    );
    let out = inst.embargo(&["restore", "--force", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("verified"), "{}", stdout(&out));
    assert_eq!(
        stdout(&inst.embargo(&["audit", "verify"])),
        before,
        "exactly what was backed up"
    );
    let (mut child, url) = inst.serve();
    let list: Value = http
        .get(format!("{url}/api/v1/cases"))
        .bearer_auth(&inst.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["cases"][0]["report"]["description"], "MARKER-cli-description",
        "readable with the keys"
    );
    assert!(!list.to_string().contains("after the backup"));
    // Every event and the file come back as they were, under the same keys.
    let (_, mut case_after) =
        crate::get_json(&url, &inst.token, &format!("/api/v1/cases/{reference}")).await;
    let mut case_before = case_before;
    for case in [&mut case_before, &mut case_after] {
        // Clocks are evaluated at the moment of reading.
        case.as_object_mut().unwrap().remove("clocks");
    }
    assert_eq!(case_after, case_before, "the case and its history");
    let r = http
        .get(format!("{url}{attachment_path}"))
        .bearer_auth(&inst.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        file,
        "the file, byte for byte"
    );
    stop(&mut child);
    assert_eq!(
        stdout(&inst.embargo(&["keys", "list"])),
        keys_before,
        "the key references"
    );
}

#[test]
fn configuration_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("embargo.toml"),
        "database_url = \"sqlite://e.db\"\nkey_file = \"keys\"\nlisen = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = embargo_in(dir.path(), &["migrate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("lisen"), "{}", stderr(&out));

    let out = Command::new(BIN)
        .args(["migrate"])
        .current_dir(dir.path())
        .env("EMBARGO_DATABSE_URL", "x")
        .output()
        .unwrap();
    assert!(stderr(&out).contains("EMBARGO_DATABSE_URL") || stderr(&out).contains("lisen"));

    let out = embargo_in(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(1), "init refuses to overwrite");
    assert!(stderr(&out).contains("already exists"));

    let out = embargo_in(dir.path(), &["--help"]);
    assert!(stdout(&out).contains("serve") && stdout(&out).contains("audit"));
}

/// A taken port is named with how to choose another, before a first run
/// sets anything up; on an installation too.
#[test]
fn a_taken_port_says_how_to_choose_another_before_anything_is_set_up() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = embargo_in(dir.path(), &["serve", "--listen", &address]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot listen on {address}")),
        "{err}"
    );
    assert!(
        err.contains("--listen") && err.contains("EMBARGO_LISTEN"),
        "{err}"
    );
    assert!(
        !dir.path().join("embargo.toml").exists(),
        "nothing set up for a server that cannot start"
    );
    assert!(!stdout(&out).contains("password"), "{}", stdout(&out));
    let inst = install(None);
    let out = inst.embargo(&["serve", "--listen", &address]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--listen"), "{}", stderr(&out));
    let out = inst.embargo(&["serve", "--listen", "not-an-address"]);
    assert!(
        stderr(&out).contains("--listen: `not-an-address`"),
        "{}",
        stderr(&out)
    );
}

/// `serve --listen` on a first run: the configuration's public_url follows
/// the address; the log written to a pipe has no colour codes.
#[test]
fn serve_listen_moves_public_url_and_logs_are_plain_off_a_terminal() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = free.local_addr().unwrap().to_string();
    drop(free);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &address])
        .current_dir(dir.path())
        .env_remove("EMBARGO_CONFIG")
        .env_remove("EMBARGO_LISTEN")
        .env("EMBARGO_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The log as it arrives, line by line, so the test can wait for a line.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let err_pipe = child.stderr.take().unwrap();
    let writer = log.clone();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(err_pipe)).map_while(Result::ok)
        {
            writer.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let url = read_listening_url(&mut child);
    assert_eq!(url, format!("http://{address}"));
    for _ in 0..100 {
        if log.lock().unwrap().contains("listening") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    stop(&mut child);
    reader.join().unwrap();
    let config = std::fs::read_to_string(dir.path().join("embargo.toml")).unwrap();
    assert!(
        config.contains(&format!("public_url = \"http://{address}\"")),
        "{config}"
    );
    let log = log.lock().unwrap().clone();
    assert!(log.contains("listening"), "log: {log:?}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a piped log: {log:?}"
    );
}
