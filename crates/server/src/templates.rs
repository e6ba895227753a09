//! Every HTML page embargo serves is a minijinja template compiled into the
//! binary (`crates/server/templates/`): the team's desk and the public pages
//! alike. Templates ending in `.html` escape every value they show.

use std::sync::OnceLock;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Environment, Value};

/// The templates, parsed once.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
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
            ("findings.html", include_str!("../templates/findings.html")),
            ("products.html", include_str!("../templates/products.html")),
            ("charts.html", include_str!("../templates/charts.html")),
            ("account.html", include_str!("../templates/account.html")),
            (
                "deliveries.html",
                include_str!("../templates/deliveries.html"),
            ),
            (
                "delivery_table.html",
                include_str!("../templates/delivery_table.html"),
            ),
            // The public pages.
            ("public.html", include_str!("../templates/public.html")),
            (
                "public_page.html",
                include_str!("../templates/public_page.html"),
            ),
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

/// A public page around `body`, HTML the caller has already escaped (the
/// pages still written in code: the report form, the portal), in the same
/// frame as the templated public pages.
#[must_use]
pub fn public_page(title: &str, lang: &str, body: &str) -> String {
    let context = minijinja::context! {
        title,
        lang,
        body => Value::from_safe_string(body.to_owned()),
    };
    environment()
        .get_template("public_page.html")
        .and_then(|t| t.render(context))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "template failed");
            "<!doctype html>\n<title>Error</title>\n<p>This page could not be shown; the error is in the server log.</p>\n".to_owned()
        })
}
