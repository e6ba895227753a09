//! The security mailbox against a real IMAP server: Dovecot (Debian package
//! dovecot-imapd), started here with its own configuration, a throwaway CA
//! and a Maildir the test writes real messages into. embargo reads it over
//! TLS, as it would in production.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use embargo_core::attachment::AttachmentLimits;
use embargo_core::notify::Delivery;
use embargo_core::{CaseRef, EventKind};
use embargo_server::ServerSettings;
use embargo_server::mailbox::{self, MailSecurity, MailboxSettings, Taken};
use embargo_store::testing::TestDatabase;

use crate::t0;

const PASSWORD: &str = "imap-test-password";
const USER: &str = "security@example.org";

/// A Dovecot server on a free port, stopped on drop.
pub(crate) struct Dovecot {
    dir: tempfile::TempDir,
    port: u16,
    uid: u32,
    child: Child,
    delivered: u32,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("the command runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The effective user id, from /proc (no libc needed).
fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2))
                .and_then(|u| u.parse().ok())
        })
        .unwrap_or(0)
}

impl Dovecot {
    /// Starts Dovecot, or `None` (with a message) where it is not installed
    /// outside CI. In CI (`CI` set) a missing Dovecot fails the test.
    pub(crate) fn start() -> Option<Dovecot> {
        if !Path::new("/usr/sbin/dovecot").exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "dovecot is not installed; .ci/run installs dovecot-imapd"
            );
            eprintln!("skipped: dovecot is not installed (apt-get install dovecot-imapd)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Dovecot's unprivileged processes must reach the files.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        for sub in ["run", "state", "home"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        // A throwaway CA and a server certificate it signs.
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        run(Command::new("openssl")
            .args(["req", "-x509"])
            .args(ec)
            .args([
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=embargo test CA",
                "-days",
                "2",
            ])
            .current_dir(d));
        run(Command::new("openssl")
            .arg("req")
            .args(ec)
            .args([
                "-keyout",
                "key.pem",
                "-out",
                "req.csr",
                "-subj",
                "/CN=localhost",
            ])
            .current_dir(d));
        std::fs::write(d.join("ext.cnf"), "subjectAltName=DNS:localhost\n").unwrap();
        run(Command::new("openssl")
            .args([
                "x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            ])
            .args([
                "-CAcreateserial",
                "-out",
                "cert.pem",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ])
            .current_dir(d));
        std::fs::write(d.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        // Mail is owned by an ordinary user: Dovecot refuses uid 0.
        let uid = if euid() == 0 { 65534 } else { euid() };
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let p = d.display();
        std::fs::write(
            d.join("dovecot.conf"),
            format!(
                "base_dir = {p}/run\nstate_dir = {p}/state\nlog_path = {p}/dovecot.log\n\
                 protocols = imap\nlisten = 127.0.0.1\nssl = required\n\
                 ssl_cert = <{p}/cert.pem\nssl_key = <{p}/key.pem\n\
                 auth_mechanisms = plain\nfirst_valid_uid = 1\n\
                 mail_location = maildir:{p}/home/%n/Maildir\n\
                 default_login_user = dovenull\ndefault_internal_user = dovecot\n\
                 passdb {{\n  driver = passwd-file\n  args = {p}/passwd\n}}\n\
                 userdb {{\n  driver = static\n  args = uid={uid} gid={uid} home={p}/home/%n\n}}\n\
                 service imap-login {{\n  chroot =\n  inet_listener imap {{\n    port = 0\n  }}\n  \
                 inet_listener imaps {{\n    port = {port}\n    ssl = yes\n  }}\n}}\n\
                 service anvil {{\n  chroot =\n}}\n"
            ),
        )
        .unwrap();
        let maildir = d.join("home/security/Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        if euid() == 0 {
            for path in [
                d.join("home"),
                d.join("home/security"),
                maildir.clone(),
                maildir.join("new"),
                maildir.join("cur"),
                maildir.join("tmp"),
            ] {
                std::os::unix::fs::chown(&path, Some(uid), Some(uid)).unwrap();
            }
        }
        let child = Command::new("/usr/sbin/dovecot")
            .args(["-F", "-c"])
            .arg(d.join("dovecot.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dovecot starts");
        let dovecot = Dovecot {
            dir,
            port,
            uid,
            child,
            delivered: 0,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(dovecot);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "dovecot did not listen: {}",
            std::fs::read_to_string(dovecot.dir.path().join("dovecot.log")).unwrap_or_default()
        );
    }

    /// Drops a message into the mailbox, as a delivery agent would.
    pub(crate) fn deliver(&mut self, raw: &[u8]) {
        self.delivered += 1;
        let maildir = self.dir.path().join("home/security/Maildir");
        let tmp = maildir.join(format!("tmp/{}.embargo-test", self.delivered));
        std::fs::write(&tmp, raw).unwrap();
        if euid() == 0 {
            std::os::unix::fs::chown(&tmp, Some(self.uid), Some(self.uid)).unwrap();
        }
        std::fs::rename(
            &tmp,
            maildir.join(format!("new/{}.embargo-test", self.delivered)),
        )
        .unwrap();
    }

    pub(crate) fn settings(&self) -> MailboxSettings {
        MailboxSettings {
            host: "localhost".into(),
            port: self.port,
            security: MailSecurity::Tls,
            username: USER.into(),
            password: PASSWORD.into(),
            folder: "INBOX".into(),
            poll_interval: Duration::from_secs(60),
            ca_file: Some(self.ca()),
            product: "Mail Intake".into(),
        }
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}

/// A migrated store on `db` and the server's state over it, at the test clock.
pub(crate) async fn server_state(
    db: &TestDatabase,
    settings: ServerSettings,
) -> (embargo_store::Store, embargo_server::AppState) {
    let store = embargo_store::Store::connect(&db.url, embargo_core::crypto::Keyring::generate())
        .await
        .unwrap();
    store.migrate(t0()).await.unwrap();
    let state = embargo_server::state(store.clone(), settings, Arc::new(t0));
    (store, state)
}

/// The cases a poll opened, in order.
fn opened(taken: &[Taken]) -> Vec<CaseRef> {
    taken
        .iter()
        .filter_map(|t| match t {
            Taken::Opened(r) => Some(*r),
            _ => None,
        })
        .collect()
}

pub(crate) fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

fn multipart_with_attachment(message_id: &str, file: &str, content_b64: &str) -> Vec<u8> {
    crlf(&format!(
        "From: Ada Lovelace <ada@example.org>\n\
         To: {USER}\n\
         Subject: SQL injection in /search\n\
         Message-ID: <{message_id}>\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\n\
         \n\
         --b1\n\
         Content-Type: text/plain; charset=utf-8\n\
         \n\
         The q parameter of /search is injectable.\n\
         Send ' OR 1=1 -- and every row comes back.\n\
         --b1\n\
         Content-Type: application/octet-stream; name=\"{file}\"\n\
         Content-Disposition: attachment; filename=\"{file}\"\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {content_b64}\n\
         --b1--\n"
    ))
}

/// Base64 without padding concerns: the test's payloads are multiples of 3.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    assert_eq!(bytes.len() % 3, 0);
    let mut out = String::new();
    for (i, c) in bytes.chunks(3).enumerate() {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        for shift in [18, 12, 6, 0] {
            out.push(A[((n >> shift) & 63) as usize] as char);
        }
        if i % 19 == 18 {
            out.push('\n');
        }
    }
    out
}

async fn emails_to(store: &embargo_store::Store, to: &str) -> Vec<(String, String)> {
    store
        .claim_deliveries("test", t0(), t0() + chrono::TimeDelta::hours(1), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| match c.delivery {
            Delivery::Email {
                to: t,
                subject,
                text,
                ..
            } if t == to => Some((subject, text)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn mailed_reports_become_cases_replies_thread_and_oversize_mail_is_answered() {
    let Some(mut dovecot) = Dovecot::start() else {
        return;
    };
    for db in TestDatabase::all().await {
        let settings = ServerSettings {
            attachments: AttachmentLimits {
                max_bytes: 3 * 1024,
                max_count: 3,
            },
            ..ServerSettings::default()
        };
        let (store, state) = server_state(&db, settings).await;
        let mailbox = dovecot.settings();
        let tag = db.backend();

        // 1. Multipart with an attachment; 2. HTML only; 3. ISO-8859-1 text
        // with an encoded subject; 4. an attachment over the 3 KiB limit;
        // 5. a whole message over the raw limit (read by its header only).
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-a-screenshot-";
        let png = &png[..png.len() / 3 * 3];
        dovecot.deliver(&multipart_with_attachment(
            &format!("m1-{tag}@example.org"),
            "shot.png",
            &base64(png),
        ));
        dovecot.deliver(&crlf(&format!(
            "From: bob@example.net\nTo: {USER}\nSubject: Stored XSS\nMessage-ID: <m2-{tag}@example.net>\n\
             MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n\
             <html><body><p>The <b>comment</b> field runs <code>&lt;script&gt;</code>.</p></body></html>\n"
        )));
        let mut latin = crlf(&format!(
            "From: =?ISO-8859-1?Q?Jos=E9?= <jose@example.es>\nTo: {USER}\n\
             Subject: =?ISO-8859-1?Q?Contrase=F1a_en_claro?=\nMessage-ID: <m3-{tag}@example.es>\n\
             MIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
        ));
        latin.extend_from_slice(b"La contrase\xf1a se guarda en claro: \xbfpor qu\xe9?\r\n");
        dovecot.deliver(&latin);
        dovecot.deliver(&multipart_with_attachment(
            &format!("m4-{tag}@example.org"),
            "dump.bin",
            &base64(&[7u8; 4 * 1024 + 2]),
        ));
        dovecot.deliver(&multipart_with_attachment(
            &format!("m5-{tag}@example.org"),
            "huge.bin",
            &base64(&[9u8; 300 * 1024]),
        ));

        let taken = mailbox::poll_once(&state, &mailbox).await.unwrap();
        let opened = opened(&taken);
        assert_eq!(opened.len(), 3, "{taken:?} ({tag})");
        let refused: Vec<&String> = taken
            .iter()
            .filter_map(|t| match t {
                Taken::Refused(why) => Some(why),
                _ => None,
            })
            .collect();
        assert_eq!(refused.len(), 2, "{taken:?}");
        assert!(
            refused[0].contains("`dump.bin` is larger than the limit of 3 KiB (3072 bytes)"),
            "{refused:?}"
        );
        assert!(
            refused[1].contains("is larger than the limit of"),
            "{refused:?}"
        );

        // The multipart report: sender, subject, body, the file.
        let first = store.case(opened[0]).await.unwrap();
        assert_eq!(first.title, "SQL injection in /search");
        assert_eq!(first.product, "Mail Intake");
        assert_eq!(first.reporter.contact.as_deref(), Some("ada@example.org"));
        assert_eq!(first.reporter.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(
            first.report.summary,
            "The q parameter of /search is injectable."
        );
        assert!(first.report.description.contains("' OR 1=1 --"));
        assert_eq!(first.attachments.len(), 1);
        assert_eq!(first.attachments[0].filename, "shot.png");
        assert_eq!(first.attachments[0].media_type, "image/png");
        let (_, content) = store
            .attachment(first.reference, &first.attachments[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(content, png);
        // HTML only: read as text.
        let html = store.case(opened[1]).await.unwrap();
        assert_eq!(html.reporter.contact.as_deref(), Some("bob@example.net"));
        assert!(
            html.report
                .description
                .contains("The comment field runs <script>."),
            "{:?}",
            html.report.description
        );
        assert!(!html.report.description.contains("<b>"));
        // Latin-1: decoded, subject and name too.
        let latin = store.case(opened[2]).await.unwrap();
        assert_eq!(latin.title, "Contraseña en claro");
        assert_eq!(latin.reporter.name.as_deref(), Some("José"));
        assert!(
            latin
                .report
                .description
                .contains("La contraseña se guarda en claro: ¿por qué?")
        );

        // Receipts for the senders, and answers with the limit for the refused.
        let ada = emails_to(&store, "ada@example.org").await;
        assert!(
            ada.iter()
                .any(|(s, t)| s.contains(&opened[0].to_string()) && t.contains("/portal/rep_")),
            "{ada:?}"
        );
        assert!(
            ada.iter()
                .any(|(s, t)| s.starts_with("Not accepted: SQL injection")
                    && t.contains("3 KiB (3072 bytes)")
                    && t.contains("Nothing from it was kept")),
            "{ada:?}"
        );

        // Nothing is taken twice: the next poll finds nothing unseen, and the
        // same message delivered again is recognised.
        assert_eq!(mailbox::poll_once(&state, &mailbox).await.unwrap(), []);
        dovecot.deliver(&multipart_with_attachment(
            &format!("m1-{tag}@example.org"),
            "shot.png",
            &base64(png),
        ));
        assert_eq!(
            mailbox::poll_once(&state, &mailbox).await.unwrap(),
            [Taken::AlreadyTaken]
        );

        // A reply carrying the reference, from the reporter, joins the thread;
        // the same subject from someone else opens a case of its own.
        let reply = |from: &str, id: &str| {
            crlf(&format!(
                "From: {from}\nTo: {USER}\nSubject: Re: [{r}] We received your report\n\
                 Message-ID: <{id}-{tag}@example.org>\nIn-Reply-To: <receipt@embargo>\n\
                 Content-Type: text/plain; charset=utf-8\n\n\
                 It also works on /admin/search.\n\nOn Fri, 6 Mar 2026, Security wrote:\n> We received your report\n",
                r = opened[0]
            ))
        };
        dovecot.deliver(&reply("ada@example.org", "r1"));
        dovecot.deliver(&reply("mallory@example.com", "r2"));
        let taken = mailbox::poll_once(&state, &mailbox).await.unwrap();
        assert_eq!(taken[0], Taken::Threaded(opened[0]), "{taken:?}");
        assert!(
            matches!(taken[1], Taken::Opened(r) if r != opened[0]),
            "{taken:?}"
        );
        let history = store.history(opened[0]).await.unwrap();
        let replies: Vec<&String> = history
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::MessageFromReporter { text } => Some(text),
                _ => None,
            })
            .collect();
        assert_eq!(replies, ["It also works on /admin/search."]);

        // Wrong credentials: an error naming the login, nothing else happens.
        let mut wrong = mailbox.clone();
        wrong.password = "not-it".into();
        let err = mailbox::poll_once(&state, &wrong)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("refused the login"), "{err}");
        // An untrusted certificate: refused before any credential is sent.
        let mut untrusted = mailbox.clone();
        untrusted.ca_file = None;
        let err = mailbox::poll_once(&state, &untrusted)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("TLS"), "{err}");
        store.close().await;
    }
}

/// The attack corpus by mail: script, SQL, template syntax, CRLF header
/// injection (raw and hidden in encoded words) and path traversal in the
/// sender's name, the subject, the body and an attachment's name. Every
/// message is taken (opened or answered), nothing breaks a header — not the
/// case's title nor the subject of the receipt embargo sends back — file
/// names are cleaned, and the SQL does nothing: the history verifies.
#[tokio::test]
async fn mailed_attacks_are_taken_as_text_and_inject_no_header() {
    let Some(mut dovecot) = Dovecot::start() else {
        return;
    };
    for db in TestDatabase::all().await {
        let (store, state) = server_state(&db, ServerSettings::default()).await;
        let mailbox = dovecot.settings();
        let tag = db.backend();
        let messages = [
            // A subject and a name hiding CR LF in encoded words.
            format!(
                "From: =?UTF-8?Q?Eve=0D=0ABcc:_all@example.com?= <eve1@example.org>\nTo: {USER}\n\
                 Subject: =?UTF-8?Q?Hello=0D=0ABcc:_victim@example.com=0D=0A=0D=0Abody?=\n\
                 Message-ID: <a1-{tag}@example.org>\nContent-Type: text/plain; charset=utf-8\n\n\
                 <script>alert(1)</script> '; DROP TABLE cases; --\n"
            ),
            // Script and template syntax in the subject and the name.
            format!(
                "From: \"<img src=x onerror=alert(1)>\" <eve2@example.org>\nTo: {USER}\n\
                 Subject: <script>alert(1)</script> {{{{ 7*7 }}}} ${{7*7}}\n\
                 Message-ID: <a2-{tag}@example.org>\nContent-Type: text/plain; charset=utf-8\n\n\
                 Robert'); DELETE FROM events WHERE ('1'='1\n"
            ),
            // An HTML body with script and event handlers.
            format!(
                "From: eve3@example.org\nTo: {USER}\nSubject: html\nMessage-ID: <a3-{tag}@example.org>\n\
                 MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n\
                 <html><body onload=alert(1)><script>alert(2)</script><p>visible text</p>\
                 <a href=\"javascript:alert(3)\">link</a></body></html>\n"
            ),
        ];
        for m in &messages {
            dovecot.deliver(&crlf(m));
        }
        for (i, file) in [
            "../../../etc/passwd",
            "..\\..\\win.ini",
            "<script>.html",
            "=?UTF-8?Q?a=0D=0ASet-Cookie:_x.txt?=",
        ]
        .iter()
        .enumerate()
        {
            dovecot.deliver(&multipart_with_attachment(
                &format!("f{i}-{tag}@example.org"),
                file,
                &base64(b"<script>alert(1)</script>!!"),
            ));
        }
        let taken = mailbox::poll_once(&state, &mailbox).await.unwrap();
        assert_eq!(taken.len(), 7, "{taken:?}");
        let opened = opened(&taken);
        assert_eq!(opened.len(), 7, "{taken:?}");
        for reference in &opened {
            let case = store.case(*reference).await.unwrap();
            for (what, text) in [
                ("title", case.title.as_str()),
                ("reporter name", case.reporter.name.as_deref().unwrap_or("")),
            ] {
                assert!(
                    !text.contains('\r') && !text.contains('\n'),
                    "{reference}: the {what} {text:?} breaks a line"
                );
            }
            for file in &case.attachments {
                let name = &file.filename;
                assert!(
                    !name.contains('/')
                        && !name.contains('\\')
                        && !name.contains("..")
                        && !name.contains('\r')
                        && !name.contains('\n'),
                    "{reference}: file name {name:?}"
                );
            }
        }
        // The HTML body is read as text: the script and handlers are gone,
        // the visible text stays.
        let html = store.case(opened[2]).await.unwrap();
        assert!(html.report.description.contains("visible text"));
        assert!(
            !html.report.description.contains("<script")
                && !html.report.description.contains("onload"),
            "{:?}",
            html.report.description
        );
        // The SQL was text: stored verbatim.
        let first = store.case(opened[0]).await.unwrap();
        assert!(first.report.description.contains("'; DROP TABLE cases; --"));
        // The receipts' subjects (built from the mailed subject) stay one line.
        let claimed = store
            .claim_deliveries("test", t0(), t0() + chrono::TimeDelta::hours(1), 1000)
            .await
            .unwrap();
        let subjects: Vec<String> = claimed
            .into_iter()
            .filter_map(|c| match c.delivery {
                Delivery::Email { subject, .. } => Some(subject),
                _ => None,
            })
            .collect();
        assert!(subjects.len() >= 7, "{subjects:?}");
        for s in &subjects {
            assert!(!s.contains('\r') && !s.contains('\n'), "{s:?}");
        }
        let report = store.verify().await.unwrap();
        assert_eq!(report.cases, 7);
        store.close().await;
    }
}
