//! Server-rendered HTML pages. They work with JavaScript off, carry no inline
//! script or style (the Content-Security-Policy forbids both), and escape
//! every value they show.

pub mod portal;
pub mod report;

use embargo_core::publish::escape_html;

/// A complete page around `body`.
pub(crate) fn page(title: &str, lang: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        lang = escape_html(lang),
        title = escape_html(title),
    )
}
