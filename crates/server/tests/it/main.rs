//! The server over real HTTP on port 0, against SQLite and (when
//! `EMBARGO_TEST_POSTGRES_URL` is set) PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

mod access;
mod advisories;
mod attachments;
mod attacks;
mod browser;
mod cases;
mod cra;
mod desk;
mod errors;
mod intake;
mod jobs;
mod mailbox;
mod notices;
mod notifications;
mod policy;
mod portfolio;
mod promises;
mod reporter;
mod schemathesis;
mod session;
mod summaries;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use embargo_core::auth::{Role, generate_token, hash_password, token_digest};
use embargo_core::crypto::Keyring;
use embargo_server::{ServerSettings, app};
use embargo_store::Store;
use embargo_store::testing::TestDatabase;
use serde_json::{Value, json};

pub const PASSWORD: &str = "a sufficiently long password";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 6, 17, 0, 0).single().unwrap()
}

/// A running server with one user per role, each with an API token.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub backend: &'static str,
    pub admin: String,
    pub responder: String,
    pub viewer: String,
    _db: TestDatabase,
    _server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn start(db: TestDatabase) -> TestApp {
        Self::start_with(db, ServerSettings::default()).await
    }

    pub async fn start_with(db: TestDatabase, settings: ServerSettings) -> TestApp {
        Self::start_with_clock(db, settings, Arc::new(t0)).await
    }

    pub async fn start_with_clock(
        db: TestDatabase,
        settings: ServerSettings,
        clock: embargo_server::Clock,
    ) -> TestApp {
        let store = Store::connect(&db.url, Keyring::generate()).await.unwrap();
        store.migrate(t0()).await.unwrap();
        let hash = hash_password(PASSWORD).unwrap();
        let mut tokens = Vec::new();
        for (name, role) in [
            ("admin", Role::Admin),
            ("rita", Role::Responder),
            ("vic", Role::Viewer),
        ] {
            let user = store.add_user(name, role, &hash, t0()).await.unwrap();
            let token = generate_token("emb_");
            store
                .create_api_token(user.id, "tests", &token_digest(&token), t0())
                .await
                .unwrap();
            tokens.push(token);
        }
        let router = app(store.clone(), settings, clock);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = embargo_server::serve(listener, router, std::future::pending()).await;
        });
        let [admin, responder, viewer]: [String; 3] = tokens.try_into().unwrap();
        TestApp {
            base: format!("http://{addr}"),
            // Redirects are answers to check, not to follow.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            store,
            backend: db.backend(),
            admin,
            responder,
            viewer,
            _db: db,
            _server: server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn stop(self) {
        self._server.abort();
        self.store.close().await;
    }
}

/// Runs `f` against a fresh server on each available backend.
pub async fn each_backend<F, Fut>(f: F)
where
    F: Fn(Arc<TestApp>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in TestDatabase::all().await {
        let app = Arc::new(TestApp::start(db).await);
        f(app.clone()).await;
        if let Ok(app) = Arc::try_unwrap(app) {
            app.stop().await;
        }
    }
}

pub fn new_case(title: &str) -> Value {
    json!({
        "title": title,
        "product": "Dock Certs",
        "reporter": {"contact": "r@example.org", "name": "r"},
        "report": {"summary": "s", "description": "d"}
    })
}

/// GETs the form at `url` and returns the CSRF cookie the page sets and the
/// token in it (the form's hidden field must carry the same).
pub async fn form_cookie(http: &reqwest::Client, url: &str) -> (String, String) {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{url}");
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = cookie.split_once('=').unwrap().1.to_owned();
    (cookie, csrf)
}

/// The application layer's recording on a bare store, for tests that set
/// cases up without going through a server (the default policy's language,
/// no links).
pub(crate) fn recording() -> app::record::Recording<'static> {
    static POLICIES: std::sync::LazyLock<embargo_core::policy::PolicySet> =
        std::sync::LazyLock::new(embargo_core::policy::PolicySet::default);
    app::record::Recording {
        policies: &POLICIES,
        public_url: "",
    }
}

/// The receipt page a successful report form leads to: `r` is the form's
/// answer (a 303 carrying the receipt's cookie); returns the page.
pub async fn receipt_page(app: &TestApp, r: reqwest::Response) -> String {
    assert_eq!(r.status().as_u16(), 303, "submit, then redirect");
    assert_eq!(r.headers()["location"], "/report/receipt");
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("embargo_receipt=rep_"), "{cookie}");
    let page = app
        .http
        .get(app.url("/report/receipt"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    page.text().await.unwrap()
}
