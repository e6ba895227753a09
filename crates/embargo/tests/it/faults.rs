//! Faults outside embargo: PostgreSQL restarted under load, and SQLite's disk
//! filling up. Both need the machine's help (PostgreSQL's server binaries to
//! run a private cluster; root to mount a small tmpfs) and say so when they
//! skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{assert_all_present, audit_verifies, install, install_on, stderr, stdout, stop};

/// What a stream of case creations was answered.
#[derive(Default, Debug)]
struct LoadRecord {
    acknowledged: Vec<String>,
    statuses: BTreeMap<u16, usize>,
    /// Answers other than 201 and the expected failure status, with their body.
    unexpected: Vec<String>,
    /// The first answer with the expected failure status: its Retry-After
    /// header and its body.
    first_failure: Option<(Option<String>, Value)>,
}

/// Clients creating cases with `description` until `done`; a 201 is recorded
/// as acknowledged, `expected_failure` is counted, anything else kept whole.
fn start_load(
    url: &str,
    token: &str,
    clients: usize,
    description: &str,
    expected_failure: u16,
    done: &Arc<AtomicBool>,
) -> (Arc<Mutex<LoadRecord>>, Vec<tokio::task::JoinHandle<()>>) {
    let record = Arc::new(Mutex::new(LoadRecord::default()));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let tasks = (0..clients)
        .map(|client| {
            let (http, url, token, description, done, record) = (
                http.clone(),
                url.to_owned(),
                token.to_owned(),
                description.to_owned(),
                done.clone(),
                record.clone(),
            );
            tokio::spawn(async move {
                let mut i = 0;
                while !done.load(Ordering::SeqCst) {
                    i += 1;
                    let sent = http
                        .post(format!("{url}/api/v1/cases"))
                        .bearer_auth(&token)
                        .json(&json!({
                            "title": format!("client {client} case {i}"),
                            "product": "Dock Certs",
                            "report": {"summary": "s", "description": description}
                        }))
                        .send()
                        .await;
                    let Ok(r) = sent else {
                        // The server itself stays up in both tests; a refused
                        // connection would be a crash.
                        record.lock().unwrap().unexpected.push("no answer".into());
                        continue;
                    };
                    let status = r.status().as_u16();
                    let retry_after = r
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_owned());
                    let body = r.text().await.unwrap_or_default();
                    let back_off = {
                        let mut rec = record.lock().unwrap();
                        *rec.statuses.entry(status).or_default() += 1;
                        if status == 201 {
                            let v: Value = serde_json::from_str(&body).unwrap();
                            rec.acknowledged
                                .push(v["reference"].as_str().unwrap().to_owned());
                        } else if status != expected_failure {
                            rec.unexpected.push(format!("{status} {body}"));
                        } else if rec.first_failure.is_none() {
                            rec.first_failure =
                                Some((retry_after, serde_json::from_str(&body).unwrap()));
                        }
                        status == expected_failure
                    };
                    if back_off {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    (record, tasks)
}

/// Waits until `record` has more than `n` acknowledged writes.
async fn until_acknowledged(record: &Arc<Mutex<LoadRecord>>, n: usize, within: Duration) {
    let started = Instant::now();
    while record.lock().unwrap().acknowledged.len() <= n {
        assert!(
            started.elapsed() < within,
            "no write acknowledged within {within:?}: {:?}",
            record.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A private PostgreSQL cluster this test may stop and start at will (the
/// machine's shared server serves the other tests).
pub(crate) struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    /// Initializes and starts a cluster, or says why it cannot.
    pub(crate) fn start() -> Result<PrivatePostgres, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "PostgreSQL's server binaries are not installed".to_owned())?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|b| b.join("initdb").exists())
            .ok_or("no initdb under /usr/lib/postgresql")?;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("pgdata");
        std::fs::create_dir(&data).unwrap();
        if is_root() {
            // PostgreSQL refuses to run as root: the cluster belongs to the
            // `postgres` user, who must be able to reach it.
            chmod(dir.path(), 0o755);
            let status = Command::new("chown")
                .args(["postgres:postgres", data.to_str().unwrap()])
                .status()
                .unwrap();
            if !status.success() {
                return Err("no `postgres` user to run a private cluster as".into());
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = PrivatePostgres {
            bin,
            data,
            port,
            _dir: dir,
        };
        let out = pg
            .command("initdb")
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "-D"])
            .arg(&pg.data)
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(format!("initdb failed: {}", stderr(&out)));
        }
        pg.start_server()?;
        Ok(pg)
    }

    fn command(&self, program: &str) -> Command {
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
            c
        } else {
            Command::new(self.bin.join(program))
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub(crate) fn start_server(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.data.display()
        );
        let out = self
            .command("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&self.data)
            .args(["-l"])
            .arg(self.data.join("server.log"))
            .args(["-o", &options, "start"])
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("pg_ctl start failed: {}", stderr(&out)))
        }
    }

    /// Stops the server as a crash would: no checkpoint, connections cut.
    pub(crate) fn crash(&self) {
        let out = self
            .command("pg_ctl")
            .args(["-w", "-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output()
            .unwrap();
        assert!(out.status.success(), "pg_ctl stop: {}", stderr(&out));
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| stdout(&o).trim() == "0")
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// PostgreSQL crashes and comes back while clients keep creating cases: the
/// server answers 503 with a retry time meanwhile (never a 500, never a hang,
/// never an exit), recovers by itself once the database is back, and every
/// case it acknowledged is there, its history verifying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_is_recovered_from_without_manual_action() {
    let pg = match PrivatePostgres::start() {
        Ok(pg) => pg,
        Err(why) => {
            crate::unavailable(&why);
            return;
        }
    };
    let inst = install_on(Some(&pg.url()));
    let (child, url) = inst.serve();
    let mut child = Serving(child);
    let done = Arc::new(AtomicBool::new(false));
    let (record, tasks) = start_load(&url, &inst.token, 8, "d", 503, &done);
    until_acknowledged(&record, 40, Duration::from_secs(60)).await;

    pg.crash();
    let down_at = record.lock().unwrap().acknowledged.len();
    let http = reqwest::Client::new();
    let ready = http.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status().as_u16(),
        503,
        "readiness while the database is down"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = http
        .post(format!("{url}/api/v1/cases"))
        .bearer_auth(&inst.token)
        .json(
            &json!({"title": "t", "product": "p", "report": {"summary": "s", "description": "d"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");

    pg.start_server().unwrap();
    until_acknowledged(&record, down_at + 40, Duration::from_secs(60)).await;
    let ready = http.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status().as_u16(),
        200,
        "readiness once the database is back"
    );
    done.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "the server stayed up"
    );
    let record = std::mem::take(&mut *record.lock().unwrap());
    assert!(
        record.unexpected.is_empty(),
        "answers other than 201 and 503: {:?}",
        record.unexpected
    );
    assert_all_present(&inst, &url, &record.acknowledged).await;
    stop(&mut child.0);
    let verified = audit_verifies(&inst);
    eprintln!(
        "PostgreSQL crashed and restarted under load: {:?}; all {} acknowledged cases present; {verified}",
        record.statuses,
        record.acknowledged.len()
    );
}

/// A server process killed when the test ends, even by a failed assertion
/// (a stray server would hold the test's output open).
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A tmpfs mounted for one test, unmounted afterwards.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, bytes: u64) -> Result<SmallDisk, String> {
        if !is_root() {
            return Err("mounting a small filesystem needs root".into());
        }
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if out.status.success() {
            Ok(SmallDisk {
                path: path.to_owned(),
            })
        } else {
            Err(format!("mount: {}", stderr(&out).trim()))
        }
    }

    fn resize(&self, bytes: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={bytes}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn used_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// SQLite's disk fills up under writes: each refused write is a 507 that
/// says the disk is full and that nothing was saved, reads go on, the server
/// stays up, and once space is freed writes succeed again without a restart;
/// nothing acknowledged is lost and the history verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_disk_full_is_a_clear_error_and_corrupts_nothing() {
    let inst = install(None);
    // Move the data directory (database and keys) onto a disk with a
    // little room to spare.
    let data = inst.dir.path().join("embargo-data");
    let aside = inst.dir.path().join("aside");
    std::fs::rename(&data, &aside).unwrap();
    std::fs::create_dir(&data).unwrap();
    let room = used_bytes(&aside) + 2 * 1024 * 1024;
    let disk = match SmallDisk::mount(&data, room) {
        Ok(disk) => disk,
        Err(why) => {
            std::fs::remove_dir(&data).unwrap();
            std::fs::rename(&aside, &data).unwrap();
            crate::unavailable(&why);
            return;
        }
    };
    chmod(&data, 0o700);
    for entry in std::fs::read_dir(&aside).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), data.join(entry.file_name())).unwrap();
    }

    let (child, url) = inst.serve();
    let mut child = Serving(child);
    let done = Arc::new(AtomicBool::new(false));
    // Reports of 16 KiB fill two megabytes in about a hundred cases.
    let (record, tasks) = start_load(&url, &inst.token, 4, &"x".repeat(16 * 1024), 507, &done);
    let started = Instant::now();
    while record
        .lock()
        .unwrap()
        .statuses
        .get(&507)
        .copied()
        .unwrap_or(0)
        < 5
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the disk never filled: {:?}",
            record.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    let record = std::mem::take(&mut *record.lock().unwrap());
    assert!(
        record.unexpected.is_empty(),
        "answers other than 201 and 507: {:?}",
        record.unexpected
    );
    assert!(!record.acknowledged.is_empty());

    let http = reqwest::Client::new();
    let (retry_after, body) = record.first_failure.clone().unwrap();
    assert!(retry_after.is_some(), "a 507 says when to retry");
    assert_eq!(body["error"]["code"], "storage_full", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("disk is full") && message.contains("nothing was saved"),
        "{message}"
    );
    // Reads go on while the disk is (nearly) full.
    assert_all_present(&inst, &url, &record.acknowledged).await;

    // Space is freed: writes succeed again, without a restart.
    disk.resize(room * 8);
    let r = http
        .post(format!("{url}/api/v1/cases"))
        .bearer_auth(&inst.token)
        .json(&json!({"title": "after", "product": "p", "report": {"summary": "s", "description": "d"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "the server stayed up"
    );
    stop(&mut child.0);

    let verified = audit_verifies(&inst);
    let (child, url) = inst.serve();
    let mut child = Serving(child);
    assert_all_present(&inst, &url, &record.acknowledged).await;
    stop(&mut child.0);
    eprintln!(
        "SQLite's disk filled under load: {:?}; all {} acknowledged cases present after a restart; {verified}",
        record.statuses,
        record.acknowledged.len()
    );
    drop(disk);
}
