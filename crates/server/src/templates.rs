//! Every HTML page embargo serves is a minijinja template compiled into the
//! binary (`crates/server/templates/`): the team's desk and the public pages
//! alike. Templates ending in `.html` escape every value they show.

use std::sync::OnceLock;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{AutoEscape, Environment, Value};

/// The templates, parsed once.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Strings are escaped as the rest of embargo escapes HTML (`&`, `<`,
        // `>`, `"`, `'`), so a page shows `text/plain` and `</script>` as
        // written rather than with `/` turned into `&#x2f;`, which is not
        // needed inside text or a quoted attribute. Everything else (safe
        // strings, numbers, none) is formatted as minijinja does.
        // Bidirectional controls in untrusted text are made visible first
        // (`[U+202E]`): a title or a file name reads as what it holds.
        env.set_formatter(|out, state, value| match value.as_str() {
            Some(text) if state.auto_escape() == AutoEscape::Html && !value.is_safe() => out
                .write_str(&embargo_core::publish::escape_html(
                    &embargo_core::html::neutralise_bidi(text),
                ))
                .map_err(|_| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "writing a page")
                }),
            _ => minijinja::escape_formatter(out, state, value),
        });
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("login.html", include_str!("../templates/login.html")),
            ("message.html", include_str!("../templates/message.html")),
            ("home.html", include_str!("../templates/home.html")),
            (
                "dashboard.html",
                include_str!("../templates/dashboard.html"),
            ),
            ("cases.html", include_str!("../templates/cases.html")),
            ("case.html", include_str!("../templates/case.html")),
            ("cra_pack.html", include_str!("../templates/cra_pack.html")),
            ("findings.html", include_str!("../templates/findings.html")),
            ("products.html", include_str!("../templates/products.html")),
            ("charts.html", include_str!("../templates/charts.html")),
            ("account.html", include_str!("../templates/account.html")),
            (
                "deliveries.html",
                include_str!("../templates/deliveries.html"),
            ),
            ("team.html", include_str!("../templates/team.html")),
            ("policy.html", include_str!("../templates/policy.html")),
            ("webhooks.html", include_str!("../templates/webhooks.html")),
            ("policies.html", include_str!("../templates/policies.html")),
            (
                "customers.html",
                include_str!("../templates/customers.html"),
            ),
            ("rules.html", include_str!("../templates/rules.html")),
            (
                "bulk_result.html",
                include_str!("../templates/bulk_result.html"),
            ),
            (
                "delivery_table.html",
                include_str!("../templates/delivery_table.html"),
            ),
            // The public pages.
            ("public.html", include_str!("../templates/public.html")),
            (
                "report_form.html",
                include_str!("../templates/report_form.html"),
            ),
            ("receipt.html", include_str!("../templates/receipt.html")),
            ("portal.html", include_str!("../templates/portal.html")),
            ("notice.html", include_str!("../templates/notice.html")),
            // Escaped as XML (minijinja escapes `.xml` templates like HTML).
            ("feed.xml", include_str!("../templates/feed.xml")),
            (
                "advisories.html",
                include_str!("../templates/advisories.html"),
            ),
            ("advisory.html", include_str!("../templates/advisory.html")),
            (
                "calculator.html",
                include_str!("../templates/calculator.html"),
            ),
        ] {
            // The templates are part of the binary and checked by the tests;
            // a broken one shows as an error page, not a crash.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not parse");
            }
        }
        env
    })
}

/// Renders `template` with `context` as a complete HTML response.
pub fn render(status: StatusCode, template: &str, context: Value) -> Response {
    let html = environment()
        .get_template(template)
        .and_then(|t| t.render(context));
    match html {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(template, error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "this page could not be shown; the error is in the server log",
            )
                .into_response()
        }
    }
}

/// Renders `template` with `context` as HTML text, for a response the
/// caller finishes itself (a page that sets a form's cookie).
#[must_use]
pub fn page(template: &str, context: Value) -> String {
    environment()
        .get_template(template)
        .and_then(|t| t.render(context))
        .unwrap_or_else(|e| {
            tracing::error!(template, error = %e, "template failed");
            "<!doctype html>\n<title>Error</title>\n<p>This page could not be shown; the error is in the server log.</p>\n".to_owned()
        })
}
