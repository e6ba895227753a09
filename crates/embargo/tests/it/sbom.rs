//! `embargo sbom push` as a CI pipeline runs it against a served embargo:
//! the release's lockfile uploaded and matched against the server's
//! vulnerability database; errors named, exit 2.

use serde_json::json;

use crate::{install, kill9, stderr, stdout};

#[test]
fn a_pipeline_pushes_a_lockfile_and_the_server_matches_it() {
    let inst = install(None);
    let d = inst.dir.path();
    // The server's vulnerability database: one advisory for left-pad.
    std::fs::create_dir_all(d.join("feed")).unwrap();
    std::fs::write(
        d.join("feed/GHSA-x.json"),
        json!({"id": "GHSA-x", "modified": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}]})
        .to_string(),
    )
    .unwrap();
    let import = inst.embargo(&["db", "import", "feed", "--db", "osv.db"]);
    assert!(import.status.success(), "{}", stderr(&import));
    let config = std::fs::read_to_string(inst.config()).unwrap();
    std::fs::write(inst.config(), format!("{config}\nvulndb = \"osv.db\"\n")).unwrap();
    let (child, url) = inst.serve();
    // The server goes with the test, even when an assertion fails.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            kill9(&mut self.0);
        }
    }
    let _server = Server(child);

    let http = reqwest::blocking_free_client();
    let r = http(
        &url,
        &inst.token,
        json!({"id": "shop", "name": "Shop", "owner": "web",
        "deployment": "customer_deployed", "exposure": "internal"}),
    );
    assert_eq!(r, 201);
    std::fs::write(
        d.join("package-lock.json"),
        json!({"lockfileVersion": 3, "packages": {"node_modules/left-pad": {"version": "1.1.0"},
            "node_modules/other": {"version": "2.0.0"}}})
        .to_string(),
    )
    .unwrap();
    let push = |args: &[&str]| {
        let mut all = vec![
            "sbom",
            "push",
            "--url",
            url.as_str(),
            "--token",
            inst.token.as_str(),
        ];
        all.extend_from_slice(args);
        inst.embargo(&all)
    };
    let out = push(&[
        "--product",
        "shop",
        "--version",
        "1.0.0",
        "package-lock.json",
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("shop@1.0.0: 2 components, 1 findings opened, 0 resolved"),
        "{}",
        stdout(&out)
    );
    // An unknown product, a missing file, a wrong token: exit 2, named.
    let out = push(&["--product", "nope", "--version", "1", "package-lock.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
    let out = push(&["--product", "shop", "--version", "1", "missing.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.json"), "{}", stderr(&out));
    // Too large: the limit is said, not a cut connection (a sparse file
    // costs no disk).
    let huge = std::fs::File::create(d.join("huge.cdx.json")).unwrap();
    huge.set_len(65 * 1024 * 1024).unwrap();
    let out = push(&["--product", "shop", "--version", "1", "huge.cdx.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("65 MiB; the server accepts an SBOM or lockfile of at most 64 MiB"),
        "{}",
        stderr(&out)
    );
    let out = inst.embargo(&[
        "sbom",
        "push",
        "--url",
        &url,
        "--token",
        "emb_wrong",
        "--product",
        "shop",
        "--version",
        "1",
        "package-lock.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
}

mod reqwest {
    /// A tiny JSON POST over std, to create the product (the test needs no
    /// async runtime of its own).
    pub fn blocking_free_client() -> impl Fn(&str, &str, serde_json::Value) -> u16 {
        |url: &str, token: &str, body: serde_json::Value| {
            use std::io::{Read, Write};
            let addr = url.trim_start_matches("http://").trim_end_matches('/');
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            let text = body.to_string();
            write!(
                stream,
                "POST /api/v1/products HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            )
            .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            response
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        }
    }
}
