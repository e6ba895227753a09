//! `embargo db sync` against a local HTTP server serving the shared OSV
//! feeds (`../shared/data/osv`) in the OSV bucket's layout: a first sync
//! downloads and builds; a second asks conditionally and changes nothing; a
//! broken, truncated or failed download leaves the database as it was.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::{embargo_in, stderr, stdout};

/// How the server answers a feed.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    /// Announces the whole length, sends half, and hangs up.
    Truncated,
    Fails,
}

#[derive(Default)]
struct ServerState {
    /// The feed's version: part of its ETag.
    generation: u32,
    modes: std::collections::HashMap<String, Mode>,
    /// (path, If-None-Match) of each request.
    requests: Vec<(String, Option<String>)>,
}

/// Serves `root` until the test ends; returns its base URL.
fn serve(root: PathBuf, state: Arc<Mutex<ServerState>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            let state = state.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let mut if_none_match = None;
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("if-none-match:") {
                        if_none_match = Some(v.trim().to_owned());
                    }
                }
                let (etag, mode) = {
                    let mut s = state.lock().unwrap();
                    s.requests.push((path.clone(), if_none_match.clone()));
                    let ecosystem = path.trim_start_matches('/').split('/').next().unwrap_or("");
                    (
                        format!("\"{}-{}\"", ecosystem.to_ascii_lowercase(), s.generation),
                        s.modes.get(ecosystem).copied().unwrap_or(Mode::Normal),
                    )
                };
                let file = root.join(path.trim_start_matches('/'));
                let reply = |stream: &mut std::net::TcpStream, head: &str, body: &[u8]| {
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(body);
                };
                if mode == Mode::Fails {
                    reply(
                        &mut stream,
                        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        b"",
                    );
                } else if if_none_match.as_deref() == Some(etag.as_str()) {
                    reply(
                        &mut stream,
                        &format!(
                            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                        ),
                        b"",
                    );
                } else if let Ok(mut f) = std::fs::File::open(&file) {
                    let mut body = Vec::new();
                    f.read_to_end(&mut body).unwrap();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\nLast-Modified: Mon, 23 Nov 2026 10:00:00 GMT\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let sent = if mode == Mode::Truncated {
                        &body[..body.len() / 2]
                    } else {
                        &body[..]
                    };
                    reply(&mut stream, &head, sent);
                } else {
                    reply(
                        &mut stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        b"",
                    );
                }
            });
        }
    });
    format!("http://{addr}")
}

fn feeds() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    if p.exists() {
        Some(p)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is absent; CI runs with ../shared beside the clone",
            p.display()
        );
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

#[test]
fn sync_downloads_once_skips_unchanged_and_never_half_updates() {
    let Some(root) = feeds() else { return };
    let state = Arc::new(Mutex::new(ServerState::default()));
    let base = serve(root, state.clone());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sync = |extra: &[&str]| {
        let mut args = vec![
            "db",
            "sync",
            "--db",
            "cache/osv.db",
            "--base-url",
            &base,
            "--ecosystem",
            "crates.io",
            "--ecosystem",
            "PyPI",
            "--ecosystem",
            "Go",
            "--no-signals",
        ];
        args.extend_from_slice(extra);
        embargo_in(d, &args)
    };

    // First sync: three downloads, a database.
    let out = sync(&[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("crates.io: downloaded"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("imported"), "{}", stdout(&out));
    let db = d.join("cache/osv.db");
    let first = std::fs::read(&db).unwrap();
    let info = embargo_in(d, &["db", "info", "--db", "cache/osv.db"]);
    assert!(stdout(&info).contains("advisories"), "{}", stdout(&info));
    assert!(d.join("cache/feeds/PyPI.zip").exists());

    // Second sync: asked with the ETags, answered 304, nothing rebuilt.
    let out = sync(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("is up to date"), "{}", stdout(&out));
    {
        let s = state.lock().unwrap();
        let conditional: Vec<_> = s.requests[3..].iter().map(|(_, inm)| inm.clone()).collect();
        assert_eq!(
            conditional,
            [
                Some("\"crates.io-0\"".to_owned()),
                Some("\"pypi-0\"".to_owned()),
                Some("\"go-0\"".to_owned())
            ]
        );
    }
    assert_eq!(std::fs::read(&db).unwrap(), first);

    // The feeds change; Go's download breaks off halfway: an error, and
    // the database and Go's cached feed are as they were.
    let cached_go = std::fs::read(d.join("cache/feeds/Go.zip")).unwrap();
    {
        let mut s = state.lock().unwrap();
        s.generation = 1;
        s.modes.insert("Go".into(), Mode::Truncated);
    }
    let out = sync(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Go/all.zip"), "{}", stderr(&out));
    assert!(stderr(&out).contains("left as it was"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&db).unwrap(),
        first,
        "no half-updated database"
    );
    assert_eq!(
        std::fs::read(d.join("cache/feeds/Go.zip")).unwrap(),
        cached_go
    );
    assert!(!d.join("cache/feeds/Go.zip.part").exists());

    // A server error, likewise.
    state.lock().unwrap().modes.insert("Go".into(), Mode::Fails);
    let out = sync(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("503"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&db).unwrap(), first);

    // Go fails again, now unchanged: crates.io and PyPI, fetched by the
    // failed syncs, are newer than the database, which is still not
    // touched while a feed fails.
    let out = sync(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&db).unwrap(), first);

    // Back to normal: the changed feed is fetched and the database rebuilt.
    state.lock().unwrap().modes.clear();
    let out = sync(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Go: downloaded"), "{}", stderr(&out));
    assert!(stdout(&out).contains("imported"));

    // Nothing changed since: up to date.
    let out = sync(&[]);
    assert!(stdout(&out).contains("is up to date"), "{}", stdout(&out));

    // A feed refreshed by a sync that failed later is built in next time,
    // even though the server then says it has not changed.
    {
        let mut s = state.lock().unwrap();
        s.generation = 2;
        s.modes.insert("Go".into(), Mode::Fails);
    }
    let before = std::fs::read(&db).unwrap();
    assert_eq!(sync(&[]).status.code(), Some(2));
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let out = embargo_in(
        d,
        &[
            "db",
            "sync",
            "--db",
            "cache/osv.db",
            "--base-url",
            &base,
            "--ecosystem",
            "crates.io",
            "--no-signals",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("crates.io: unchanged"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("imported"),
        "rebuilt: {}",
        stdout(&out)
    );

    // An unknown ecosystem is named.
    state.lock().unwrap().modes.clear();
    let out = sync(&["--ecosystem", "Nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Nope/all.zip"), "{}", stderr(&out));
}

/// KEV and EPSS come with the feeds: CISA's catalog (the real one from
/// `../shared/data/kev`) and FIRST's gzipped CSV, served locally, asked for
/// conditionally; a truncated EPSS download leaves the database as it was;
/// bad EPSS lines are named and skipped.
#[test]
fn sync_fetches_kev_and_epss_conditionally_and_keeps_the_data_on_a_broken_download() {
    use std::io::Write as _;
    let Some(osv) = feeds() else { return };
    let kev = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/kev/known_exploited_vulnerabilities.json");
    if !kev.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is present in CI",
            kev.display()
        );
        eprintln!("skipped: {} absent", kev.display());
        return;
    }
    let signals = tempfile::tempdir().unwrap();
    std::fs::copy(&kev, signals.path().join("kev.json")).unwrap();
    let csv = "#model_version:v2025.03.14,score_date:2026-12-01T12:55:00Z\n\
               cve,epss,percentile\n\
               CVE-2025-48384,0.31,0.96\n\
               CVE-2026-bad,0.5,0.5\n\
               CVE-2024-0001,7,0.5\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv.as_bytes()).unwrap();
    std::fs::write(signals.path().join("epss.csv.gz"), gz.finish().unwrap()).unwrap();
    let osv_state = Arc::new(Mutex::new(ServerState::default()));
    let base = serve(osv, osv_state);
    let state = Arc::new(Mutex::new(ServerState::default()));
    let signal_base = serve(signals.path().to_owned(), state.clone());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kev_url = format!("{signal_base}/kev.json");
    let epss_url = format!("{signal_base}/epss.csv.gz");
    let sync = || {
        embargo_in(
            d,
            &[
                "db",
                "sync",
                "--db",
                "cache/osv.db",
                "--base-url",
                &base,
                "--ecosystem",
                "crates.io",
                "--kev-url",
                &kev_url,
                "--epss-url",
                &epss_url,
            ],
        )
    };
    let out = sync();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("kev.json: downloaded"), "{err}");
    assert!(err.contains("epss.csv.gz: downloaded"), "{err}");
    assert!(err.contains("KEV catalog 2025.08.25"), "{err}");
    assert!(
        err.contains("epss.csv.gz:4: skipped: `CVE-2026-bad` is not a CVE id"),
        "{err}"
    );
    assert!(
        err.contains("epss.csv.gz:5: skipped: score 7 is not between 0 and 1"),
        "{err}"
    );
    assert!(err.contains("model v2025.03.14"), "{err}");
    let db = d.join("cache/osv.db");
    let first = std::fs::read(&db).unwrap();

    // Unchanged: both answered 304, nothing rebuilt.
    let out = sync();
    assert!(
        stdout(&out).contains("is up to date"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    {
        let s = state.lock().unwrap();
        let asked: Vec<_> = s.requests[2..].to_vec();
        assert_eq!(
            asked,
            vec![
                ("/kev.json".to_owned(), Some("\"kev.json-0\"".to_owned())),
                (
                    "/epss.csv.gz".to_owned(),
                    Some("\"epss.csv.gz-0\"".to_owned())
                ),
            ]
        );
    }

    // New scores, cut off halfway: an error, and the database and the
    // cached scores are as they were.
    let cached = std::fs::read(d.join("cache/feeds/epss.csv.gz")).unwrap();
    {
        let mut s = state.lock().unwrap();
        s.generation = 1;
        s.modes.insert("epss.csv.gz".into(), Mode::Truncated);
    }
    let out = sync();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("left as it was"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&db).unwrap(), first);
    assert_eq!(
        std::fs::read(d.join("cache/feeds/epss.csv.gz")).unwrap(),
        cached
    );
}
