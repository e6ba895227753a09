//! Who may reach which route. The table lists every route of the server; a
//! route added without a row here, or a row without a route, fails the test.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::{PASSWORD, each_backend, new_case};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    /// Not a team role: the route needs a reporter token. This is the
    /// token of the case the table's paths name (EMB-2026-0001).
    Reporter,
    /// The reporter of another case: treated as a reporter, and never shown
    /// anything of EMB-2026-0001.
    OtherReporter,
    Viewer,
    Responder,
    Admin,
}

struct Route {
    method: &'static str,
    template: &'static str,
    path: &'static str,
    body: Option<Value>,
    /// The least privileged caller allowed; `Reporter` routes take only a
    /// reporter's private token, so every team caller gets 401 there.
    least: Who,
}

fn table() -> Vec<Route> {
    let r = |method, template, path, body, least| Route {
        method,
        template,
        path,
        body,
        least,
    };
    vec![
        r("get", "/healthz", "/healthz", None, Who::Anonymous),
        r("get", "/readyz", "/readyz", None, Who::Anonymous),
        r("get", "/metrics", "/metrics", None, Who::Anonymous),
        r(
            "get",
            "/api/openapi.json",
            "/api/openapi.json",
            None,
            Who::Anonymous,
        ),
        r(
            "post",
            "/api/v1/session",
            "/api/v1/session",
            Some(json!({"username": "vic", "password": PASSWORD})),
            Who::Anonymous,
        ),
        r(
            "delete",
            "/api/v1/session",
            "/api/v1/session",
            None,
            Who::Viewer,
        ),
        r("get", "/api/v1/me", "/api/v1/me", None, Who::Viewer),
        r(
            "put",
            "/api/v1/me/password",
            "/api/v1/me/password",
            Some(
                json!({"current_password": "wrong wrong wrong", "new_password": "another long password"}),
            ),
            Who::Viewer,
        ),
        r("get", "/api/v1/cases", "/api/v1/cases", None, Who::Viewer),
        r(
            "post",
            "/api/v1/cases",
            "/api/v1/cases",
            Some(new_case("matrix")),
            Who::Responder,
        ),
        r(
            "get",
            "/api/v1/cases/{reference}",
            "/api/v1/cases/EMB-2026-0001",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/cases/{reference}/transitions",
            "/api/v1/cases/EMB-2026-0001/transitions",
            Some(json!({"action": "set_severity", "severity": "low"})),
            Who::Responder,
        ),
        r(
            "post",
            "/api/v1/cases/{reference}/notes",
            "/api/v1/cases/EMB-2026-0001/notes",
            Some(json!({"text": "n"})),
            Who::Responder,
        ),
        r("get", "/api/v1/tokens", "/api/v1/tokens", None, Who::Viewer),
        r(
            "post",
            "/api/v1/tokens",
            "/api/v1/tokens",
            Some(json!({"name": "x"})),
            Who::Viewer,
        ),
        r(
            "delete",
            "/api/v1/tokens/{id}",
            "/api/v1/tokens/999",
            None,
            Who::Viewer,
        ),
        r("get", "/api/v1/users", "/api/v1/users", None, Who::Admin),
        r(
            "post",
            "/api/v1/users",
            "/api/v1/users",
            Some(json!({"username": "new", "role": "viewer"})),
            Who::Admin,
        ),
        r(
            "patch",
            "/api/v1/users/{username}",
            "/api/v1/users/vic",
            Some(json!({"disabled": false})),
            Who::Admin,
        ),
        r(
            "post",
            "/api/v1/users/{username}/password",
            "/api/v1/users/nobody/password",
            None,
            Who::Admin,
        ),
        r(
            "delete",
            "/api/v1/users/{username}/totp",
            "/api/v1/users/nobody/totp",
            None,
            Who::Admin,
        ),
        r(
            "get",
            "/api/v1/sign-ins",
            "/api/v1/sign-ins",
            None,
            Who::Admin,
        ),
        r(
            "get",
            "/.well-known/security.txt",
            "/.well-known/security.txt",
            None,
            Who::Anonymous,
        ),
        r("get", "/policy", "/policy", None, Who::Anonymous),
        r(
            "get",
            "/api/v1/policies",
            "/api/v1/policies",
            None,
            Who::Viewer,
        ),
        r(
            "get",
            "/api/v1/metrics/clocks",
            "/api/v1/metrics/clocks",
            None,
            Who::Viewer,
        ),
        r(
            "get",
            "/api/v1/webhooks",
            "/api/v1/webhooks",
            None,
            Who::Admin,
        ),
        r(
            "post",
            "/api/v1/webhooks",
            "/api/v1/webhooks",
            Some(json!({"name": "h", "url": "https://hooks.example/x"})),
            Who::Admin,
        ),
        r(
            "patch",
            "/api/v1/webhooks/{id}",
            "/api/v1/webhooks/999",
            Some(json!({"disabled": true})),
            Who::Admin,
        ),
        r(
            "get",
            "/api/v1/deliveries",
            "/api/v1/deliveries?state=dead",
            None,
            Who::Admin,
        ),
        r(
            "post",
            "/api/v1/deliveries/{id}/retry",
            "/api/v1/deliveries/999/retry",
            None,
            Who::Admin,
        ),
        r(
            "get",
            "/api/v1/cases/{reference}/deliveries",
            "/api/v1/cases/EMB-2026-0001/deliveries",
            None,
            Who::Viewer,
        ),
        r(
            "get",
            "/api/v1/me/notifications",
            "/api/v1/me/notifications",
            None,
            Who::Viewer,
        ),
        r(
            "put",
            "/api/v1/me/notifications",
            "/api/v1/me/notifications",
            Some(json!({"email": null})),
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/reports",
            "/api/v1/reports",
            Some(new_case("public intake")),
            Who::Anonymous,
        ),
        r(
            "get",
            "/api/v1/reporter/case",
            "/api/v1/reporter/case",
            None,
            Who::Reporter,
        ),
        r(
            "post",
            "/api/v1/reporter/messages",
            "/api/v1/reporter/messages",
            Some(json!({"text": "hi"})),
            Who::Reporter,
        ),
        // Before the token's rotation, which ends the token these rows use.
        r(
            "put",
            "/api/v1/reporter/credit",
            "/api/v1/reporter/credit",
            Some(json!({"credit": "Ada"})),
            Who::Reporter,
        ),
        r(
            "post",
            "/api/v1/reporter/attachments",
            "/api/v1/reporter/attachments?filename=poc.json",
            Some(json!({"poc": true})),
            Who::Reporter,
        ),
        r(
            "get",
            "/api/v1/reporter/attachments/{id}",
            "/api/v1/reporter/attachments/att_none",
            None,
            Who::Reporter,
        ),
        r(
            "post",
            "/api/v1/reporter/token",
            "/api/v1/reporter/token",
            None,
            Who::Reporter,
        ),
        r(
            "post",
            "/api/v1/cases/{reference}/messages",
            "/api/v1/cases/EMB-2026-0001/messages",
            Some(json!({"text": "hello"})),
            Who::Responder,
        ),
        r(
            "delete",
            "/api/v1/cases/{reference}/reporter-tokens",
            "/api/v1/cases/EMB-2026-0001/reporter-tokens",
            None,
            Who::Responder,
        ),
        r(
            "get",
            "/api/v1/cases/{reference}/triage",
            "/api/v1/cases/EMB-2026-0001/triage",
            None,
            Who::Viewer,
        ),
        r(
            "get",
            "/api/v1/cases/{reference}/cra/{stage}",
            "/api/v1/cases/EMB-2026-0001/cra/early_warning",
            None,
            Who::Viewer,
        ),
        r(
            "get",
            "/api/v1/cases/{reference}/cra/bundle.zip",
            "/api/v1/cases/EMB-2026-0001/cra/bundle.zip",
            None,
            Who::Responder,
        ),
        r(
            "post",
            "/api/v1/incidents",
            "/api/v1/incidents",
            Some(json!({"title": "t", "product": "p", "description": "d"})),
            Who::Responder,
        ),
        r(
            "get",
            "/api/v1/schemas/cra-report.json",
            "/api/v1/schemas/cra-report.json",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/desk/cases/{reference}/cra/{stage}",
            "/desk/cases/EMB-2026-0001/cra/early_warning",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/cases/{reference}/cra/{stage}",
            "/desk/cases/EMB-2026-0001/cra/early_warning",
            Some(json!({"intent": "save", "nature": "matrix"})),
            Who::Responder,
        ),
        r("get", "/report", "/report", None, Who::Anonymous),
        r("post", "/report", "/report", None, Who::Anonymous),
        r(
            "get",
            "/report/receipt",
            "/report/receipt",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/portal/{token}",
            "/portal/rep_not_a_real_token",
            None,
            Who::Anonymous,
        ),
        r(
            "post",
            "/portal/{token}/reply",
            "/portal/rep_not_a_real_token/reply",
            None,
            Who::Anonymous,
        ),
        r(
            "post",
            "/portal/{token}/credit",
            "/portal/rep_not_a_real_token/credit",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/portal/{token}/attachments/{id}",
            "/portal/rep_not_a_real_token/attachments/att_none",
            None,
            Who::Anonymous,
        ),
        r(
            "post",
            "/api/v1/cases/{reference}/attachments",
            "/api/v1/cases/EMB-2026-0001/attachments?filename=notes.json",
            Some(json!({"internal": true})),
            Who::Responder,
        ),
        r(
            "get",
            "/api/v1/cases/{reference}/attachments/{id}",
            "/api/v1/cases/EMB-2026-0001/attachments/att_none",
            None,
            Who::Viewer,
        ),
        r(
            "put",
            "/api/v1/cases/{reference}/advisory",
            "/api/v1/cases/EMB-2026-0001/advisory",
            Some(json!({"id": "ADV-1", "title": "t", "summary": "s",
                "affected": [{"vendor": "v", "product": "p", "ranges": [{"fixed": "2.0"}]}]})),
            Who::Responder,
        ),
        r(
            "get",
            "/api/v1/cases/{reference}/advisory",
            "/api/v1/cases/EMB-2026-0001/advisory",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/cases/{reference}/advisory/publish",
            "/api/v1/cases/EMB-2026-0001/advisory/publish",
            Some(json!({})),
            Who::Responder,
        ),
        r("get", "/advisories", "/advisories", None, Who::Anonymous),
        r(
            "get",
            "/advisories/feed.atom",
            "/advisories/feed.atom",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/advisories/{id}",
            "/advisories/ADV-1",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/advisories/{id}/{file}",
            "/advisories/ADV-1/csaf.json",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/.well-known/csaf/provider-metadata.json",
            "/.well-known/csaf/provider-metadata.json",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/.well-known/csaf/white/index.txt",
            "/.well-known/csaf/white/index.txt",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/.well-known/csaf/white/changes.csv",
            "/.well-known/csaf/white/changes.csv",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/.well-known/csaf/white/{year}/{file}",
            "/.well-known/csaf/white/2026/adv-1.json",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/api/v1/cvss",
            "/api/v1/cvss?vector=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/cases/{reference}/cvss",
            "/api/v1/cases/EMB-2026-0001/cvss",
            Some(json!({"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"})),
            Who::Responder,
        ),
        r("get", "/api/v1/cwe", "/api/v1/cwe", None, Who::Viewer),
        r("get", "/cvss", "/cvss", None, Who::Anonymous),
        r(
            "post",
            "/api/v1/products",
            "/api/v1/products",
            Some(
                json!({"id": "p", "name": "P", "owner": "o", "deployment": "saas", "exposure": "internal"}),
            ),
            Who::Admin,
        ),
        r(
            "get",
            "/api/v1/products",
            "/api/v1/products",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/products/{product}/releases/{version}/sbom",
            "/api/v1/products/none/releases/1.0/sbom?filename=package-lock.json",
            Some(json!({"lockfileVersion": 3, "packages": {}})),
            Who::Responder,
        ),
        r(
            "get",
            "/api/v1/findings",
            "/api/v1/findings",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/customers",
            "/api/v1/customers",
            Some(json!({"id": "c", "name": "C", "contact": "mailto:c@example.org"})),
            Who::Admin,
        ),
        r(
            "get",
            "/api/v1/customers",
            "/api/v1/customers",
            None,
            Who::Viewer,
        ),
        r(
            "put",
            "/api/v1/customers/{id}/releases",
            "/api/v1/customers/nobody/releases",
            Some(json!({"releases": []})),
            Who::Admin,
        ),
        r(
            "post",
            "/api/v1/products/{product}/releases/{version}/sarif",
            "/api/v1/products/none/releases/1.0/sarif",
            Some(json!({"version": "2.1.0", "runs": []})),
            Who::Responder,
        ),
        r(
            "get",
            "/api/v1/products/{product}/releases/{version}/components",
            "/api/v1/products/none/releases/1.0/components",
            None,
            Who::Viewer,
        ),
        r(
            "get",
            "/api/v1/products/{product}/releases/{version}/vex",
            "/api/v1/products/none/releases/1.0/vex",
            None,
            Who::Viewer,
        ),
        r(
            "get",
            "/api/v1/products/{product}/releases/{version}/csaf-vex",
            "/api/v1/products/none/releases/1.0/csaf-vex",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/rules",
            "/api/v1/rules",
            Some(json!({"name": "quiet", "when": {"advisory": "GHSA-none"},
                "then": {"action": "set_severity", "severity": "low"}})),
            Who::Admin,
        ),
        r("get", "/api/v1/rules", "/api/v1/rules", None, Who::Viewer),
        r(
            "put",
            "/api/v1/rules/{id}",
            "/api/v1/rules/999999",
            Some(json!({"disabled": true})),
            Who::Admin,
        ),
        r(
            "get",
            "/api/v1/portfolio/metrics",
            "/api/v1/portfolio/metrics",
            None,
            Who::Viewer,
        ),
        r(
            "get",
            "/api/v1/portfolio/scans",
            "/api/v1/portfolio/scans",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/findings/escalate",
            "/api/v1/findings/escalate",
            Some(json!({"findings": [999999]})),
            Who::Responder,
        ),
        r(
            "post",
            "/api/v1/portfolio/rematch",
            "/api/v1/portfolio/rematch",
            Some(json!({})),
            Who::Admin,
        ),
        r(
            "get",
            "/api/v1/impact",
            "/api/v1/impact?advisory=GHSA-x",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/impact/notices",
            "/api/v1/impact/notices?advisory=GHSA-x",
            None,
            Who::Responder,
        ),
        r(
            "put",
            "/api/v1/findings/{id}/analysis",
            "/api/v1/findings/999999/analysis",
            Some(json!({"state": "affected"})),
            Who::Responder,
        ),
        r("get", "/", "/", None, Who::Anonymous),
        r(
            "get",
            "/static/embargo.css",
            "/static/embargo.css",
            None,
            Who::Anonymous,
        ),
        r(
            "get",
            "/static/embargo.js",
            "/static/embargo.js",
            None,
            Who::Anonymous,
        ),
        r("get", "/login", "/login", None, Who::Anonymous),
        r(
            "post",
            "/login",
            "/login",
            Some(json!({"username": "vic", "password": PASSWORD})),
            Who::Anonymous,
        ),
        r("post", "/logout", "/logout", Some(json!({})), Who::Viewer),
        r("get", "/desk", "/desk", None, Who::Viewer),
        r("get", "/desk/cases", "/desk/cases", None, Who::Viewer),
        r(
            "get",
            "/desk/cases/{reference}",
            "/desk/cases/EMB-2026-0001",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/cases/{reference}/act",
            "/desk/cases/EMB-2026-0001/act",
            Some(json!({"action": "add_note", "text": "matrix"})),
            Who::Responder,
        ),
        r(
            "post",
            "/desk/cases/{reference}/cvss",
            "/desk/cases/EMB-2026-0001/cvss",
            Some(json!({"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"})),
            Who::Responder,
        ),
        r(
            "post",
            "/desk/cases/{reference}/advisory",
            "/desk/cases/EMB-2026-0001/advisory",
            Some(json!({"title": "t", "summary": "s", "vendor": "v", "product": "p"})),
            Who::Responder,
        ),
        r(
            "post",
            "/desk/cases/{reference}/advisory/publish",
            "/desk/cases/EMB-2026-0001/advisory/publish",
            Some(json!({})),
            Who::Responder,
        ),
        r(
            "post",
            "/desk/views",
            "/desk/views",
            Some(json!({"name": "triage", "query": "state=triage"})),
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/views/{id}/delete",
            "/desk/views/999999/delete",
            Some(json!({})),
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/cases/{reference}/notices",
            "/desk/cases/EMB-2026-0001/notices",
            Some(json!({})),
            Who::Responder,
        ),
        r(
            "get",
            "/api/v1/cases/{reference}/customer-notices",
            "/api/v1/cases/EMB-2026-0001/customer-notices",
            None,
            Who::Viewer,
        ),
        r(
            "post",
            "/api/v1/cases/{reference}/customer-notices",
            "/api/v1/cases/EMB-2026-0001/customer-notices",
            None,
            Who::Responder,
        ),
        r("get", "/desk/findings", "/desk/findings", None, Who::Viewer),
        r(
            "post",
            "/desk/findings/{id}/analysis",
            "/desk/findings/999999/analysis",
            Some(json!({"state": "affected"})),
            Who::Responder,
        ),
        r("get", "/desk/products", "/desk/products", None, Who::Viewer),
        r(
            "post",
            "/desk/products",
            "/desk/products",
            Some(json!({"id": "Bad Id"})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/products/{product}/upload",
            "/desk/products/none/upload",
            Some(json!({"version": "1.0"})),
            Who::Responder,
        ),
        r(
            "post",
            "/desk/findings/{id}/escalate",
            "/desk/findings/999999/escalate",
            Some(json!({})),
            Who::Responder,
        ),
        r("get", "/desk/charts", "/desk/charts", None, Who::Viewer),
        r("get", "/desk/account", "/desk/account", None, Who::Viewer),
        r(
            "get",
            "/desk/deliveries",
            "/desk/deliveries",
            None,
            Who::Admin,
        ),
        r(
            "post",
            "/desk/deliveries/{id}/retry",
            "/desk/deliveries/999999/retry",
            Some(json!({})),
            Who::Admin,
        ),
        r("get", "/desk/team", "/desk/team", None, Who::Admin),
        r("get", "/desk/policy", "/desk/policy", None, Who::Viewer),
        r("get", "/desk/rules", "/desk/rules", None, Who::Admin),
        r(
            "post",
            "/desk/team/tokens/{id}/revoke",
            "/desk/team/tokens/999999/revoke",
            Some(json!({})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/rules",
            "/desk/rules",
            Some(json!({"name": "x", "action": "nothing"})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/rules/{id}/{action}",
            "/desk/rules/999999/disable",
            Some(json!({})),
            Who::Admin,
        ),
        r(
            "get",
            "/desk/customers",
            "/desk/customers",
            None,
            Who::Admin,
        ),
        r(
            "post",
            "/desk/customers",
            "/desk/customers",
            Some(json!({"id": "Bad Id"})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/customers/{id}/releases",
            "/desk/customers/nobody/releases",
            Some(json!({"releases": ""})),
            Who::Admin,
        ),
        r("get", "/desk/webhooks", "/desk/webhooks", None, Who::Admin),
        r(
            "post",
            "/desk/webhooks",
            "/desk/webhooks",
            Some(json!({"name": "", "url": "x"})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/webhooks/{id}/{action}",
            "/desk/webhooks/999999/test",
            Some(json!({})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/setup/test-email",
            "/desk/setup/test-email",
            Some(json!({"to": "nobody"})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/setup/backups",
            "/desk/setup/backups",
            Some(json!({})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/cases/bulk",
            "/desk/cases/bulk",
            Some(json!({"action": "acknowledge"})),
            Who::Responder,
        ),
        r(
            "post",
            "/desk/team",
            "/desk/team",
            Some(json!({"username": "", "role": "viewer"})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/team/{username}/{action}",
            "/desk/team/nobody/second-factor",
            Some(json!({})),
            Who::Admin,
        ),
        r(
            "post",
            "/desk/account/password",
            "/desk/account/password",
            Some(
                json!({"current_password": "wrong wrong wrong", "new_password": "another long password"}),
            ),
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/account/tokens",
            "/desk/account/tokens",
            Some(json!({"name": "matrix"})),
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/account/tokens/{id}/revoke",
            "/desk/account/tokens/999999/revoke",
            Some(json!({})),
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/account/totp",
            "/desk/account/totp",
            Some(json!({})),
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/account/recovery-codes",
            "/desk/account/recovery-codes",
            Some(json!({"password": "wrong wrong wrong"})),
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/account/totp/confirm",
            "/desk/account/totp/confirm",
            Some(json!({"code": "000000"})),
            Who::Viewer,
        ),
        r(
            "post",
            "/desk/account/totp/disable",
            "/desk/account/totp/disable",
            Some(json!({"password": "wrong"})),
            Who::Viewer,
        ),
        r(
            "get",
            "/.well-known/csaf/openpgp/{file}",
            "/.well-known/csaf/openpgp/0000.asc",
            None,
            Who::Anonymous,
        ),
    ]
}

#[test]
fn the_table_and_the_openapi_document_list_the_same_routes() {
    let doc = serde_json::to_value(embargo_server::openapi()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let tabled: BTreeSet<_> = table()
        .iter()
        .map(|r| (r.method.to_owned(), r.template.to_owned()))
        .collect();
    assert_eq!(
        documented, tabled,
        "routes in the OpenAPI document vs the access table"
    );
}

/// The words of EMB-2026-0001's report, looked for in what another case's
/// reporter is shown.
const SEED_WORDS: &str = "the seed report's own words, 7f3a";

#[tokio::test]
async fn every_route_admits_exactly_the_roles_in_the_table() {
    each_backend(|app| async move {
        // EMB-2026-0001 comes from a reporter, whose private token is a caller too.
        let mut seed_report = new_case("seed");
        seed_report["report"]["description"] = json!(SEED_WORDS);
        let r = app
            .http
            .post(app.url("/api/v1/reports"))
            .json(&seed_report)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let reporter = r.json::<serde_json::Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let seed = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0001").await.1;
        assert_eq!(seed["report"]["description"], SEED_WORDS, "{seed}");
        let mut other = new_case("someone else's report");
        other["reporter"] = json!({"contact": "other@example.net"});
        let r = app
            .http
            .post(app.url("/api/v1/reports"))
            .json(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let other = r.json::<serde_json::Value>().await.unwrap();
        assert_eq!(other["reference"], "EMB-2026-0002");
        let other_reporter = other["token"].as_str().unwrap().to_owned();
        for route in table() {
            for who in [
                Who::Anonymous,
                Who::Reporter,
                Who::OtherReporter,
                Who::Viewer,
                Who::Responder,
                Who::Admin,
            ] {
                let method =
                    reqwest::Method::from_bytes(route.method.to_uppercase().as_bytes()).unwrap();
                let mut req = app.http.request(method, app.url(route.path));
                req = match who {
                    Who::Anonymous => req,
                    Who::Reporter => req.bearer_auth(&reporter),
                    Who::OtherReporter => req.bearer_auth(&other_reporter),
                    Who::Viewer => req.bearer_auth(&app.viewer),
                    Who::Responder => req.bearer_auth(&app.responder),
                    Who::Admin => req.bearer_auth(&app.admin),
                };
                // The web pages take forms; the API takes JSON.
                let page = route.template.starts_with("/desk")
                    || route.template == "/logout"
                    || route.template == "/login";
                if let Some(body) = &route.body {
                    let mut body = body.clone();
                    if route.template == "/api/v1/users" {
                        body["username"] = json!(format!("new-{who:?}").to_lowercase());
                    }
                    req = if page {
                        req.form(&body)
                    } else {
                        req.json(&body)
                    };
                }
                let response = req.send().await.unwrap();
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                // Another case's reporter learns nothing of this one, whatever
                // the route answers.
                // (The API's description names EMB-2026-0001 as an example.)
                if who == Who::OtherReporter {
                    let documentation = route.template == "/api/openapi.json";
                    assert!(
                        (documentation || !body.contains("EMB-2026-0001"))
                            && !body.contains(SEED_WORDS),
                        "{} {} as another case's reporter shows EMB-2026-0001 ({})",
                        route.method,
                        route.path,
                        app.backend
                    );
                }
                // The HTML form's post needs the form's CSRF cookie, which no
                // caller here has: every one is refused alike.
                if route.method == "post"
                    && (route.template == "/report" || route.template == "/login")
                {
                    assert_eq!(
                        status, 403,
                        "post /report without the form cookie as {who:?}"
                    );
                    continue;
                }
                // The team's pages send whoever is not signed in as a team
                // member to the sign-in form.
                let team_page = page && route.least > Who::Reporter;
                if team_page && matches!(who, Who::Anonymous | Who::Reporter | Who::OtherReporter) {
                    assert_eq!(
                        status, 303,
                        "{} {} as {who:?} ({})",
                        route.method, route.path, app.backend
                    );
                    continue;
                }
                // A reporter token works on public and reporter routes only;
                // reporter routes take nothing else.
                let reporter_route = route.least == Who::Reporter;
                if matches!(who, Who::Reporter | Who::OtherReporter) {
                    if reporter_route || route.least == Who::Anonymous {
                        assert!(
                            status != 401 && status != 403 && status < 500,
                            "{} {} as the reporter: {status} ({})",
                            route.method,
                            route.path,
                            app.backend
                        );
                    } else {
                        assert_eq!(
                            status, 401,
                            "{} {} as the reporter ({})",
                            route.method, route.path, app.backend
                        );
                    }
                    continue;
                }
                if reporter_route {
                    assert_eq!(
                        status, 401,
                        "{} {} as {who:?} ({})",
                        route.method, route.path, app.backend
                    );
                    continue;
                }
                let allowed = who >= route.least;
                if allowed {
                    assert!(
                        status != 401 && status != 403 && status < 500,
                        "{} {} as {who:?}: {status}, expected access ({})",
                        route.method,
                        route.path,
                        app.backend
                    );
                } else {
                    let expected = if who == Who::Anonymous { 401 } else { 403 };
                    assert_eq!(
                        status, expected,
                        "{} {} as {who:?} ({})",
                        route.method, route.path, app.backend
                    );
                }
            }
        }
    })
    .await;
}

/// `/metrics` says when reports arrive: with a metrics token configured it
/// answers only that token, not a stranger and not a team member's token.
#[tokio::test]
async fn metrics_answer_only_their_token_when_one_is_configured() {
    for db in embargo_store::testing::TestDatabase::all().await {
        let settings = embargo_server::ServerSettings {
            metrics_token_digest: Some(embargo_server::ServerSettings::metrics_token_digest_of(
                "scrape-token-for-prometheus",
            )),
            ..embargo_server::ServerSettings::default()
        };
        let app = crate::TestApp::start_with(db, settings).await;
        let get = |token: Option<&str>| {
            let mut r = app.http.get(app.url("/metrics"));
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            async move { r.send().await.unwrap().status().as_u16() }
        };
        assert_eq!(get(None).await, 401);
        assert_eq!(get(Some(&app.admin)).await, 401);
        assert_eq!(get(Some("scrape-token-for-prometheus-not")).await, 401);
        assert_eq!(get(Some("scrape-token-for-prometheus")).await, 200);
        app.stop().await;
    }
}
