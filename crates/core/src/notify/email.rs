//! Email: what the reporter, customers and the team read (in the policy's
//! language for people outside the team), plain text with an HTML part, and
//! encrypted to the recipient's OpenPGP key when they have one.

use super::{Delivery, Notice};
use crate::case::Severity;
use crate::chain::hex;
use crate::html::escape_html;
use crate::messages::{self, fill};
use crate::openpgp::encrypt_to;

/// Encrypts an email's text to the recipient's key when they have one. If
/// encryption fails, the recipient gets a notice of that instead of the
/// plaintext they asked not to receive.
pub fn encrypt_if_keyed(delivery: Delivery, key: Option<&str>) -> Delivery {
    match (delivery, key) {
        (
            Delivery::Email {
                to, subject, text, ..
            },
            Some(key),
        ) => match encrypt_to(key, &text) {
            Ok(armored) => Delivery::Email {
                to,
                subject,
                text: armored,
                html: String::new(),
                encrypted: true,
                attachments: Vec::new(),
            },
            Err(e) => {
                let text = format!(
                    "embargo could not encrypt a notification to your OpenPGP key ({e}).\n\
                     Sign in to embargo to read it, and check the key in your notification settings.\n"
                );
                Delivery::Email {
                    html: format!("<p>{}</p>", escape_html(&text)),
                    to,
                    subject,
                    text,
                    encrypted: false,
                    attachments: Vec::new(),
                }
            }
        },
        (other, _) => other,
    }
}

/// The part of an idempotency key that names an email destination: a digest,
/// because keys are stored (and shown) in the clear and a reporter's address
/// is confidential.
#[must_use]
pub fn email_key(address: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(address.trim().to_lowercase().as_bytes());
    format!("email:{}", &hex(&digest)[..24])
}

/// The `Message-ID` of the email sent for the delivery `idempotency_key`:
/// the key (letters, digits, `.` and `-` kept, anything else as `-`) at
/// `embargo.invalid`. It derives from the key alone, so a redelivery after a
/// crash carries the same id and a receiver can drop the repeat.
#[must_use]
pub fn message_id(idempotency_key: &str) -> String {
    let id: String = idempotency_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("<{id}@embargo.invalid>")
}

/// An email to the reporter from paragraphs of plain text: the HTML part
/// has the same paragraphs, escaped, and `quoted` (their own words or the
/// team's message) set apart.
pub(super) fn reporter_email(
    to: &str,
    subject: String,
    paragraphs: &[String],
    quoted: Option<(usize, &str)>,
) -> Delivery {
    reporter_email_with_link(to, subject, paragraphs, quoted, None)
}

/// [`reporter_email`] where paragraph `link.0` is shown in HTML as a link
/// labelled `link.1` to `link.2`.
pub(super) fn reporter_email_with_link(
    to: &str,
    subject: String,
    paragraphs: &[String],
    quoted: Option<(usize, &str)>,
    link: Option<(usize, &str, &str)>,
) -> Delivery {
    let mut text = String::new();
    let mut html = String::new();
    for (i, p) in paragraphs.iter().enumerate() {
        text.push_str(p);
        text.push_str("\n\n");
        match link {
            Some((at, label, url)) if at == i => html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                escape_html(url),
                escape_html(label)
            )),
            _ => html.push_str(&format!("<p>{}</p>", escape_html(p))),
        }
        if let Some((after, q)) = quoted
            && after == i
        {
            text.push_str(q);
            text.push_str("\n\n");
            html.push_str(&format!(
                "<blockquote><pre>{}</pre></blockquote>",
                escape_html(q)
            ));
        }
    }
    Delivery::Email {
        to: to.to_owned(),
        subject,
        text: text.trim_end().to_owned() + "\n",
        html,
        encrypted: false,
        attachments: Vec::new(),
    }
}

/// The reporter's receipt: their case reference, and how to write back.
pub(super) fn reporter_receipt_email(notice: &Notice, to: &str) -> Delivery {
    let t = messages::texts(&notice.language);
    let case = [("case", notice.case_ref.as_str())];
    let mut paragraphs = vec![t.hello.to_owned(), fill(t.receipt_body, &case)];
    let mut link = None;
    if let Some(url) = &notice.private_link {
        link = Some((paragraphs.len(), t.private_link_html, url.as_str()));
        paragraphs.push(fill(t.private_link, &[("link", url)]));
    }
    paragraphs.push(fill(t.keep_informed, &case));
    reporter_email_with_link(to, fill(t.receipt_subject, &case), &paragraphs, None, link)
}

/// A message from the team to the reporter.
pub(super) fn reporter_message_email(notice: &Notice, to: &str) -> Delivery {
    let t = messages::texts(&notice.language);
    let case = [("case", notice.case_ref.as_str())];
    let message = notice.message_for_reporter.as_deref().unwrap_or_default();
    reporter_email(
        to,
        fill(t.message_subject, &case),
        &[
            t.hello.to_owned(),
            fill(t.message_intro, &case),
            fill(t.message_reply, &case),
        ],
        Some((1, message)),
    )
}

/// The reporter's email when their case changes state. The subject carries
/// the case reference so that replies thread back into the case.
pub(super) fn reporter_status_email(notice: &Notice, to: &str) -> Delivery {
    let t = messages::texts(&notice.language);
    let case = [("case", notice.case_ref.as_str())];
    let mut paragraphs = vec![
        t.hello.to_owned(),
        fill(t.status_changed, &case),
        fill(t.status_now, &[("state", t.state(notice.state))]),
    ];
    if let Some(why) = &notice.reason_for_reporter {
        paragraphs.push(fill(t.status_reason, &[("reason", why)]));
    }
    paragraphs.push(fill(t.status_reply, &case));
    reporter_email(to, fill(t.status_subject, &case), &paragraphs, None)
}

/// The reporter's email when the advisory of their report is published.
pub(super) fn reporter_advisory_email(notice: &Notice, to: &str) -> Delivery {
    let t = messages::texts(&notice.language);
    let case = [("case", notice.case_ref.as_str())];
    let advisory = notice.advisory.as_deref().unwrap_or_default();
    let url = notice.advisory_url.as_deref().unwrap_or_default();
    let mut paragraphs = vec![
        t.hello.to_owned(),
        fill(
            t.advisory_body,
            &[
                ("case", &notice.case_ref),
                ("advisory", advisory),
                ("url", url),
            ],
        ),
    ];
    if let Some(name) = &notice.credited_as {
        paragraphs.push(fill(t.advisory_credit, &[("name", name)]));
    }
    reporter_email(to, fill(t.advisory_subject, &case), &paragraphs, None)
}

/// A customer who runs an affected release, and what to tell them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerNotice {
    /// The customer's email address.
    pub to: String,
    pub language: String,
    pub organization: String,
    pub title: String,
    pub product: String,
    /// The releases of `product` the customer runs that are affected.
    pub releases: Vec<String>,
    /// The fixed version, when there is one.
    pub fixed: Option<String>,
    /// Customers run the product themselves: the fix is an "exceptional
    /// security delivery" they must install (policy 003).
    pub customer_deployed: bool,
    pub advisory: String,
    pub url: String,
    /// The vulnerability is actively exploited: said first.
    pub exploited: bool,
    /// The advisory as CSAF 2.0 and as OpenVEX, public URLs for the
    /// customer's tools (Article 14(8): machine-readable).
    pub documents: Option<(String, String)>,
    /// Documents sent with the notice: for an actively exploited
    /// vulnerability, the advisory as CSAF 2.0 and the VEX of each release
    /// the customer runs.
    pub attachments: Vec<super::EmailAttachment>,
}

/// The email telling a customer that an advisory concerns a release they run.
#[must_use]
pub fn customer_notice_email(n: &CustomerNotice) -> Delivery {
    let t = messages::texts(&n.language);
    let releases = n.releases.join(", ");
    let title = [("title", n.title.as_str())];
    let product = [("product", n.product.as_str())];
    let mut paragraphs = vec![
        t.hello.to_owned(),
        fill(
            t.notice_body,
            &[
                ("organization", &n.organization),
                ("product", &n.product),
                ("release", &releases),
            ],
        ),
        match &n.fixed {
            Some(f) => fill(t.notice_fixed, &[("fixed", f)]),
            None => t.notice_no_fix.to_owned(),
        },
    ];
    paragraphs.push(if n.customer_deployed {
        fill(t.notice_exceptional, &product)
    } else {
        fill(t.notice_saas, &product)
    });
    paragraphs.push(fill(
        t.notice_more,
        &[("advisory", &n.advisory), ("url", &n.url)],
    ));
    if let Some((csaf, vex)) = &n.documents {
        paragraphs.push(fill(t.notice_documents, &[("csaf", csaf), ("vex", vex)]));
    }
    if n.exploited {
        paragraphs.insert(1, t.notice_exploited.to_owned());
    }
    let subject = if n.customer_deployed {
        fill(t.notice_exceptional_subject, &title)
    } else {
        fill(t.notice_subject, &title)
    };
    let mut delivery = reporter_email(&n.to, subject, &paragraphs, None);
    if let Delivery::Email { attachments, .. } = &mut delivery {
        attachments.clone_from(&n.attachments);
    }
    delivery
}

pub(super) fn team_email(notice: &Notice, to: &str) -> Delivery {
    let headline = notice.headline();
    if let Some(f) = &notice.finding {
        let text = format!(
            "{headline}\n\nProduct: {}\nRelease: {}\nComponent: {}\nAdvisory: {}\nSeverity: {}\n",
            notice.product,
            f.release,
            f.component,
            f.advisory,
            notice.severity.map_or("unknown", Severity::as_str)
        );
        let html = format!(
            "<p><strong>{}</strong></p><p>Product: {}<br>Release: {}<br>Component: {}<br>Advisory: {}</p>",
            escape_html(&headline),
            escape_html(&notice.product),
            escape_html(&f.release),
            escape_html(&f.component),
            escape_html(&f.advisory)
        );
        return Delivery::Email {
            to: to.to_owned(),
            subject: format!("[finding {}] {headline}", f.id),
            text,
            html,
            encrypted: false,
            attachments: Vec::new(),
        };
    }
    let subject = format!("[{}] {}", notice.case_ref, headline);
    let mut text = format!(
        "{headline}\n\nCase: {}\nProduct: {}\nState: {}\n",
        notice.case_ref, notice.product, notice.state
    );
    if let Some(s) = notice.severity {
        text.push_str(&format!("Severity: {s}\n"));
    }
    let html = format!(
        "<p><strong>{}</strong></p><p>Case: {}<br>Product: {}<br>State: {}</p>",
        escape_html(&headline),
        escape_html(&notice.case_ref),
        escape_html(&notice.product),
        escape_html(notice.state.as_str())
    );
    Delivery::Email {
        to: to.to_owned(),
        subject,
        text,
        html,
        encrypted: false,
        attachments: Vec::new(),
    }
}

/// The daily digest email of one team member: one line per notice.
#[must_use]
pub fn digest_email(to: &str, day: &str, lines: &[String]) -> Delivery {
    let subject = format!(
        "embargo digest for {day}: {} update{}",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    );
    let mut text = format!("{subject}\n\n");
    let mut html = format!("<p><strong>{}</strong></p><ul>", escape_html(&subject));
    for l in lines {
        text.push_str(&format!("- {l}\n"));
        html.push_str(&format!("<li>{}</li>", escape_html(l)));
    }
    html.push_str("</ul>");
    Delivery::Email {
        to: to.to_owned(),
        subject,
        text,
        html,
        encrypted: false,
        attachments: Vec::new(),
    }
}
