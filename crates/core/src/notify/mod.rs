//! Notifications: what is said to whom when something happens to a case.
//!
//! A [`Notice`] describes an event without confidential text (no titles, no
//! report contents). [`plan`] turns a notice into deliveries, one per
//! destination: the reporter's email, team members' email by their
//! preferences, and webhook subscriptions by their filters. Deliveries are
//! rendered here, sealed by the store in the event's transaction, and sent
//! later by the server's worker.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

mod email;
mod preferences;
mod webhook;

pub use email::{
    CustomerNotice, customer_notice_email, digest_email, email_key, encrypt_if_keyed, message_id,
};
use email::{
    reporter_advisory_email, reporter_message_email, reporter_receipt_email, reporter_status_email,
    team_email,
};
pub use preferences::Preferences;
pub use webhook::{
    DELIVERY_HEADER, SIGNATURE_HEADER, SignatureError, Webhook, WebhookFormat, sign, verify,
    webhook_body,
};

use crate::case::{Case, CaseState, EventKind, Severity};
pub use crate::openpgp::{check_public_key, encrypt_to};

/// A document attached to an email: machine-readable text (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAttachment {
    pub filename: String,
    pub media_type: String,
    pub content: String,
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum NoticeKind {
    #[serde(rename = "case.created")]
    CaseCreated,
    #[serde(rename = "case.state_changed")]
    StateChanged,
    #[serde(rename = "clock.warning")]
    ClockWarning,
    #[serde(rename = "clock.breached")]
    ClockBreached,
    /// The team wrote to the reporter.
    #[serde(rename = "case.message_sent")]
    MessageSent,
    /// The reporter wrote to the team.
    #[serde(rename = "case.reporter_replied")]
    ReporterReplied,
    /// The case's advisory was published (or republished).
    #[serde(rename = "advisory.published")]
    AdvisoryPublished,
    /// A finding's remediation deadline is near (policy 003's last quarter).
    #[serde(rename = "finding.deadline_warning")]
    FindingDeadlineWarning,
    /// A finding is past its remediation deadline.
    #[serde(rename = "finding.deadline_breached")]
    FindingDeadlineBreached,
    /// A finding's advisory was newly listed in CISA's KEV catalog.
    #[serde(rename = "finding.known_exploited")]
    FindingKnownExploited,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 10] = [
        NoticeKind::CaseCreated,
        NoticeKind::StateChanged,
        NoticeKind::ClockWarning,
        NoticeKind::ClockBreached,
        NoticeKind::MessageSent,
        NoticeKind::ReporterReplied,
        NoticeKind::AdvisoryPublished,
        NoticeKind::FindingDeadlineWarning,
        NoticeKind::FindingDeadlineBreached,
        NoticeKind::FindingKnownExploited,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::CaseCreated => "case.created",
            NoticeKind::StateChanged => "case.state_changed",
            NoticeKind::ClockWarning => "clock.warning",
            NoticeKind::ClockBreached => "clock.breached",
            NoticeKind::MessageSent => "case.message_sent",
            NoticeKind::ReporterReplied => "case.reporter_replied",
            NoticeKind::AdvisoryPublished => "advisory.published",
            NoticeKind::FindingDeadlineWarning => "finding.deadline_warning",
            NoticeKind::FindingDeadlineBreached => "finding.deadline_breached",
            NoticeKind::FindingKnownExploited => "finding.known_exploited",
        }
    }

    /// Whether team members hear about it unless they choose otherwise.
    #[must_use]
    pub fn team_default(self) -> bool {
        // Findings' deadlines are opt-in (or a digest): a large portfolio
        // can have thousands, which the dashboard lists anyway.
        !matches!(
            self,
            NoticeKind::StateChanged
                | NoticeKind::MessageSent
                | NoticeKind::FindingDeadlineWarning
                | NoticeKind::FindingDeadlineBreached
        )
    }
}

impl FromStr for NoticeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        NoticeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown event kind `{s}`; expected one of: {}",
                    NoticeKind::ALL.map(NoticeKind::as_str).join(", ")
                )
            })
    }
}

/// An event worth telling someone about, without confidential text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub kind: NoticeKind,
    /// The stored event's sequence number: deliveries' idempotency keys derive from it.
    pub event_seq: i64,
    pub at: DateTime<Utc>,
    pub case_ref: String,
    pub product: String,
    pub state: CaseState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_state: Option<CaseState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// Why the case was closed without a fix: told to the reporter only,
    /// never to webhooks or in team email.
    #[serde(skip)]
    pub reason_for_reporter: Option<String>,
    /// The team's message, for the reporter's email only.
    #[serde(skip)]
    pub message_for_reporter: Option<String>,
    /// The reporter's private page, for their receipt only (it is a secret).
    #[serde(skip)]
    pub private_link: Option<String>,
    /// The published advisory's id and revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// Where the published advisory is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisory_url: Option<String>,
    /// The name the advisory credits the reporter under, if it does.
    #[serde(skip)]
    pub credited_as: Option<String>,
    /// The language (BCP 47) of what the reporter reads: the policy's.
    #[serde(skip)]
    pub language: String,
    /// The reporter's OpenPGP key: their email is encrypted to it.
    #[serde(skip)]
    pub reporter_key: Option<String>,
    /// For a finding's notice: the finding (then there is no case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<FindingRef>,
}

/// A finding a notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRef {
    pub id: i64,
    pub release: String,
    pub component: String,
    pub advisory: String,
}

impl Notice {
    /// The team's notice that finding `finding` of `product` is near
    /// (`breached: false`) or past its remediation deadline `due`.
    #[must_use]
    pub fn finding_deadline(
        finding: FindingRef,
        product: &str,
        severity: Option<Severity>,
        due: DateTime<Utc>,
        breached: bool,
        at: DateTime<Utc>,
    ) -> Notice {
        Notice {
            kind: if breached {
                NoticeKind::FindingDeadlineBreached
            } else {
                NoticeKind::FindingDeadlineWarning
            },
            event_seq: 0,
            at,
            case_ref: String::new(),
            product: product.to_owned(),
            // A finding has no case state; `accepted` stands for "to fix".
            state: CaseState::Accepted,
            severity,
            from_state: None,
            clock: Some("remediation".to_owned()),
            due_at: Some(due),
            reason_for_reporter: None,
            message_for_reporter: None,
            private_link: None,
            advisory: None,
            revision: None,
            advisory_url: None,
            credited_as: None,
            language: "en".to_owned(),
            reporter_key: None,
            finding: Some(finding),
        }
    }

    /// The team's notice that finding `finding` of `product` was newly
    /// listed in CISA's KEV catalog: once per finding.
    #[must_use]
    pub fn finding_known_exploited(
        finding: FindingRef,
        product: &str,
        severity: Option<Severity>,
        at: DateTime<Utc>,
    ) -> Notice {
        Notice {
            kind: NoticeKind::FindingKnownExploited,
            clock: None,
            due_at: None,
            ..Notice::finding_deadline(finding, product, severity, at, false, at)
        }
    }

    /// The part of every delivery's idempotency key that names the notice.
    #[must_use]
    pub fn key(&self) -> String {
        match &self.finding {
            Some(f) => format!(
                "finding{}:{}:{}",
                f.id,
                self.kind.as_str(),
                self.due_at.map_or(0, |d| d.timestamp_millis())
            ),
            None => format!("evt{}", self.event_seq),
        }
    }
}

impl Notice {
    /// The notice for an event just applied to `case`, if it is one worth telling.
    #[must_use]
    pub fn of(case: &Case, event: &EventKind, seq: i64, at: DateTime<Utc>) -> Option<Notice> {
        let base = |kind| Notice {
            kind,
            event_seq: seq,
            at,
            case_ref: case.reference.to_string(),
            product: case.product.clone(),
            state: case.state,
            severity: case.severity,
            from_state: None,
            clock: None,
            due_at: None,
            reason_for_reporter: None,
            message_for_reporter: None,
            private_link: None,
            advisory: None,
            revision: None,
            advisory_url: None,
            credited_as: None,
            language: "en".to_owned(),
            reporter_key: case.reporter.pgp_key.clone(),
            finding: None,
        };
        match event {
            EventKind::CaseCreated { .. } => Some(base(NoticeKind::CaseCreated)),
            EventKind::StateChanged {
                from, to, reason, ..
            } => Some(Notice {
                from_state: Some(*from),
                reason_for_reporter: reason.clone().filter(|_| to.is_rejection()),
                ..base(NoticeKind::StateChanged)
            }),
            EventKind::ClockWarning { clock, due } => Some(Notice {
                clock: Some(clock.clone()),
                due_at: Some(*due),
                ..base(NoticeKind::ClockWarning)
            }),
            EventKind::MessageToReporter { text } => Some(Notice {
                message_for_reporter: Some(text.clone()),
                ..base(NoticeKind::MessageSent)
            }),
            EventKind::MessageFromReporter { .. } => Some(base(NoticeKind::ReporterReplied)),
            EventKind::ClockBreached { clock, due } => Some(Notice {
                clock: Some(clock.clone()),
                due_at: Some(*due),
                ..base(NoticeKind::ClockBreached)
            }),
            EventKind::AdvisoryPublished { advisory, revision } => Some(Notice {
                advisory: Some(advisory.clone()),
                revision: Some(*revision),
                ..base(NoticeKind::AdvisoryPublished)
            }),
            _ => None,
        }
    }

    /// The versioned JSON payload webhooks receive.
    #[must_use]
    pub fn webhook_payload(&self, delivery_id: &str) -> serde_json::Value {
        if let Some(f) = &self.finding {
            return json!({
                "version": "1",
                "id": delivery_id,
                "kind": self.kind,
                "occurred_at": self.at,
                "finding": {
                    "id": f.id,
                    "product": self.product,
                    "release": f.release,
                    "component": f.component,
                    "advisory": f.advisory,
                    "severity": self.severity,
                },
                "due_at": self.due_at,
            });
        }
        json!({
            "version": "1",
            "id": delivery_id,
            "kind": self.kind,
            "occurred_at": self.at,
            "case": {
                "reference": self.case_ref,
                "product": self.product,
                "state": self.state,
                "severity": self.severity,
            },
            "from_state": self.from_state,
            "clock": self.clock,
            "due_at": self.due_at,
            "advisory": self.advisory.as_ref().map(|id| json!({
                "id": id,
                "revision": self.revision,
                "url": self.advisory_url,
            })),
        })
    }

    /// One line for a person: chat messages and email subjects.
    #[must_use]
    pub fn headline(&self) -> String {
        if let Some(f) = &self.finding {
            let due = self
                .due_at
                .map_or_else(String::new, |d| d.format("%Y-%m-%d %H:%M UTC").to_string());
            let what = format!(
                "{} {}: {} in {}",
                self.product, f.release, f.advisory, f.component
            );
            return if self.kind == NoticeKind::FindingKnownExploited {
                format!("{what} is actively exploited: newly listed in CISA's KEV catalog")
            } else if self.kind == NoticeKind::FindingDeadlineBreached {
                format!("{what} is past its remediation deadline ({due})")
            } else {
                format!("{what} must be fixed by {due}")
            };
        }
        let case = format!("{} ({})", self.case_ref, self.product);
        match self.kind {
            NoticeKind::CaseCreated => format!("New report {case}"),
            NoticeKind::StateChanged => {
                format!("{case} is now {}", self.state.describe().to_lowercase())
            }
            NoticeKind::ClockWarning => format!(
                "{case}: the {} clock is due {}",
                self.clock.as_deref().unwrap_or("?"),
                self.due_at
                    .map_or_else(String::new, |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            ),
            NoticeKind::MessageSent => format!("Message to the reporter of {case}"),
            NoticeKind::ReporterReplied => format!("The reporter of {case} replied"),
            NoticeKind::ClockBreached => format!(
                "{case}: the {} clock is past its deadline ({})",
                self.clock.as_deref().unwrap_or("?"),
                self.due_at
                    .map_or_else(String::new, |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            ),
            NoticeKind::AdvisoryPublished => format!(
                "Advisory {} of {case} published (revision {})",
                self.advisory.as_deref().unwrap_or("?"),
                self.revision.unwrap_or(1)
            ),
            NoticeKind::FindingDeadlineWarning | NoticeKind::FindingDeadlineBreached => {
                format!("{case}: remediation deadline")
            }
            NoticeKind::FindingKnownExploited => format!("{case}: actively exploited"),
        }
    }
}

/// A rendered message for one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Delivery {
    Email {
        to: String,
        subject: String,
        text: String,
        html: String,
        /// When set, `text` is an armored OpenPGP message (sent as PGP/MIME)
        /// and `html` is empty.
        #[serde(default)]
        encrypted: bool,
        /// Documents sent with the message (never with an encrypted one).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<EmailAttachment>,
    },
    Webhook {
        webhook_id: i64,
        url: String,
        /// The exact body sent (and signed).
        body: String,
    },
    /// A line for a team member's daily digest (sent later, with the day's others).
    DigestItem { to: String, line: String },
}

impl Delivery {
    #[must_use]
    pub fn channel(&self) -> &'static str {
        match self {
            Delivery::Email { .. } => "email",
            Delivery::Webhook { .. } => "webhook",
            Delivery::DigestItem { .. } => "digest",
        }
    }
}

/// A delivery and the key that makes it happen at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub idempotency_key: String,
    pub delivery: Delivery,
}

/// A team member who can be emailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub preferences: Preferences,
    /// An armored OpenPGP public key: their email is encrypted to it.
    pub pgp_key: Option<String>,
}

/// Everyone `notice` goes to, rendered.
#[must_use]
pub fn plan(
    notice: &Notice,
    reporter_email: Option<&str>,
    team: &[Recipient],
    webhooks: &[Webhook],
) -> Vec<Planned> {
    let mut out = Vec::new();
    let key = |dest: &str| format!("{}:{dest}", notice.key());
    if let Some(to) = reporter_email {
        let delivery = match notice.kind {
            NoticeKind::CaseCreated => Some(reporter_receipt_email(notice, to)),
            NoticeKind::StateChanged => Some(reporter_status_email(notice, to)),
            NoticeKind::MessageSent => Some(reporter_message_email(notice, to)),
            // The reporter hears of the first publication only.
            NoticeKind::AdvisoryPublished if notice.revision == Some(1) => {
                Some(reporter_advisory_email(notice, to))
            }
            _ => None,
        };
        let delivery = delivery.map(|d| encrypt_if_keyed(d, notice.reporter_key.as_deref()));
        if let Some(delivery) = delivery {
            out.push(Planned {
                idempotency_key: key(&email_key(to)),
                delivery,
            });
        }
    }
    for r in team.iter().filter(|r| r.preferences.wants(notice)) {
        let delivery = if r.preferences.digest.contains(&notice.kind) {
            Delivery::DigestItem {
                to: r.email.clone(),
                line: format!(
                    "{} {}",
                    notice.at.format("%Y-%m-%d %H:%M UTC"),
                    notice.headline()
                ),
            }
        } else {
            encrypt_if_keyed(team_email(notice, &r.email), r.pgp_key.as_deref())
        };
        out.push(Planned {
            idempotency_key: key(&email_key(&r.email)),
            delivery,
        });
    }
    for w in webhooks.iter().filter(|w| w.wants(notice)) {
        let id = key(&format!("webhook:{}", w.id));
        out.push(Planned {
            delivery: Delivery::Webhook {
                webhook_id: w.id,
                url: w.url.clone(),
                body: webhook_body(notice, w.format, &id),
            },
            idempotency_key: id,
        });
    }
    out
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::hex;

    #[test]
    fn an_exploited_vulnerabilitys_customer_notice_says_so_first_with_its_documents() {
        let n = CustomerNotice {
            to: "ops@customer.example".into(),
            language: "en".into(),
            organization: "Example Corp".into(),
            title: "Path traversal".into(),
            product: "Widget".into(),
            releases: vec!["2.3.1".into()],
            fixed: Some("2.3.2".into()),
            customer_deployed: true,
            advisory: "EMB-2026-0001".into(),
            url: "https://security.example.org/advisories/EMB-2026-0001".into(),
            exploited: true,
            documents: Some((
                "https://security.example.org/advisories/EMB-2026-0001/csaf.json".into(),
                "https://security.example.org/advisories/EMB-2026-0001/openvex.json".into(),
            )),
            attachments: vec![EmailAttachment {
                filename: "EMB-2026-0001.csaf.json".into(),
                media_type: "application/json".into(),
                content: "{}".into(),
            }],
        };
        let Delivery::Email {
            text, attachments, ..
        } = customer_notice_email(&n)
        else {
            panic!("an email");
        };
        assert_eq!(attachments.len(), 1);
        let exploited = text.find("actively exploited").expect("said");
        assert!(
            exploited < text.find("2.3.2").unwrap(),
            "said first: {text}"
        );
        assert!(text.contains("EMB-2026-0001/csaf.json"), "{text}");
        assert!(text.contains("EMB-2026-0001/openvex.json"), "{text}");
        let quiet = customer_notice_email(&CustomerNotice {
            exploited: false,
            documents: None,
            attachments: Vec::new(),
            ..n
        });
        let Delivery::Email { text, .. } = quiet else {
            panic!("an email");
        };
        assert!(!text.contains("actively exploited"), "{text}");
    }
    use chrono::TimeZone;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    fn notice(kind: NoticeKind, severity: Option<Severity>) -> Notice {
        Notice {
            kind,
            event_seq: 42,
            at: Utc.with_ymd_and_hms(2026, 3, 6, 17, 0, 0).unwrap(),
            case_ref: "EMB-2026-0001".into(),
            product: "Dock Certs".into(),
            state: CaseState::Triage,
            severity,
            from_state: Some(CaseState::Acknowledged),
            clock: None,
            due_at: None,
            reason_for_reporter: None,
            message_for_reporter: None,
            private_link: None,
            advisory: None,
            revision: None,
            advisory_url: None,
            credited_as: None,
            language: "en".into(),
            reporter_key: None,
            finding: None,
        }
    }

    fn hook(id: i64, kinds: Vec<NoticeKind>, min: Option<Severity>) -> Webhook {
        Webhook {
            id,
            name: "h".into(),
            url: "https://hooks.example/x".into(),
            format: WebhookFormat::Embargo,
            kinds,
            products: vec![],
            min_severity: min,
            disabled: false,
        }
    }

    #[test]
    fn plans_follow_filters_and_preferences() {
        let n = notice(NoticeKind::StateChanged, Some(Severity::Medium));
        let team = [
            Recipient {
                email: "a@x.org".into(),
                preferences: Preferences::default(),
                pgp_key: None,
            },
            Recipient {
                email: "b@x.org".into(),
                preferences: Preferences {
                    kinds: vec![NoticeKind::StateChanged],
                    products: vec![],
                    digest: vec![],
                },
                pgp_key: None,
            },
        ];
        let hooks = [
            hook(1, vec![], None),
            hook(2, vec![NoticeKind::ClockBreached], None),
            hook(3, vec![], Some(Severity::High)),
        ];
        let planned = plan(&n, Some("r@y.org"), &team, &hooks);
        let keys: Vec<&str> = planned.iter().map(|p| p.idempotency_key.as_str()).collect();
        assert_eq!(
            keys,
            [
                format!("evt42:{}", email_key("r@y.org")).as_str(),
                format!("evt42:{}", email_key("b@x.org")).as_str(),
                "evt42:webhook:1"
            ]
        );
        let Delivery::Email { subject, .. } = &planned[0].delivery else {
            panic!()
        };
        assert!(subject.starts_with("[EMB-2026-0001]"));
        // No reporter email for other kinds; severity filter lets High through.
        let high = notice(NoticeKind::ClockBreached, Some(Severity::High));
        let planned = plan(&high, Some("r@y.org"), &team, &hooks);
        let keys: Vec<&str> = planned.iter().map(|p| p.idempotency_key.as_str()).collect();
        assert_eq!(
            keys,
            [
                format!("evt42:{}", email_key("a@x.org")).as_str(),
                "evt42:webhook:1",
                "evt42:webhook:2",
                "evt42:webhook:3"
            ]
        );
    }

    #[test]
    fn a_key_that_cannot_encrypt_never_lets_plaintext_through() {
        let email = team_email(&notice(NoticeKind::CaseCreated, None), "a@x.org");
        let Delivery::Email {
            text, encrypted, ..
        } = encrypt_if_keyed(email.clone(), Some("garbage"))
        else {
            panic!("an email stays an email")
        };
        assert!(!encrypted);
        assert!(
            text.contains("could not encrypt") && !text.contains("Dock Certs"),
            "{text}"
        );
        assert_eq!(encrypt_if_keyed(email.clone(), None), email);
        assert!(check_public_key("-----BEGIN PGP PUBLIC KEY BLOCK-----\nnope\n").is_err());
    }

    #[test]
    fn the_reporter_reads_why_a_case_was_closed_and_webhooks_do_not() {
        let mut n = notice(NoticeKind::StateChanged, None);
        n.state = CaseState::NotAVulnerability;
        n.reason_for_reporter = Some("Self-signed <certificates> are out of scope".into());
        let planned = plan(&n, Some("r@y.org"), &[], &[hook(1, vec![], None)]);
        let Delivery::Email { text, html, .. } = &planned[0].delivery else {
            panic!()
        };
        assert!(text.contains("The reason: Self-signed <certificates> are out of scope"));
        assert!(html.contains("Self-signed &lt;certificates&gt;"));
        let Delivery::Webhook { body, .. } = &planned[1].delivery else {
            panic!()
        };
        assert!(!body.contains("Self-signed"));
    }

    #[test]
    fn closing_as_a_duplicate_tells_the_reporter() {
        let mut n = notice(NoticeKind::StateChanged, None);
        n.state = CaseState::Duplicate;
        let planned = plan(&n, Some("r@y.org"), &[], &[]);
        let Delivery::Email {
            to, subject, text, ..
        } = &planned[0].delivery
        else {
            panic!("{planned:?}")
        };
        assert_eq!(to, "r@y.org");
        assert!(subject.contains("EMB-2026-0001"), "{subject}");
        assert!(
            text.contains("Closed: duplicate of another report"),
            "{text}"
        );
    }

    #[test]
    fn the_receipt_carries_the_private_link() {
        let mut n = notice(NoticeKind::CaseCreated, None);
        n.private_link = Some("https://s.example/portal/rep_abc".into());
        let planned = plan(&n, Some("r@y.org"), &[], &[hook(1, vec![], None)]);
        let Delivery::Email { text, html, .. } = &planned[0].delivery else {
            panic!()
        };
        assert!(
            text.contains("https://s.example/portal/rep_abc")
                && html.contains("href=\"https://s.example/portal/rep_abc\"")
        );
        let Delivery::Webhook { body, .. } = &planned[1].delivery else {
            panic!()
        };
        assert!(
            !body.contains("rep_abc"),
            "the link is for the reporter only"
        );
    }

    #[test]
    fn chat_formats_carry_the_headline() {
        let n = notice(NoticeKind::CaseCreated, None);
        for (format, field) in [
            (WebhookFormat::Slack, "text"),
            (WebhookFormat::Mattermost, "text"),
            (WebhookFormat::Teams, "summary"),
        ] {
            let v: serde_json::Value =
                serde_json::from_str(&webhook_body(&n, format, "id")).unwrap();
            assert_eq!(v[field], "New report EMB-2026-0001 (Dock Certs)");
        }
        let v: serde_json::Value =
            serde_json::from_str(&webhook_body(&n, WebhookFormat::Embargo, "evt42:webhook:1"))
                .unwrap();
        assert_eq!(
            (v["version"].as_str(), v["kind"].as_str(), v["id"].as_str()),
            (Some("1"), Some("case.created"), Some("evt42:webhook:1"))
        );
    }

    #[test]
    fn signatures_verify_and_refuse_tampering_and_replays() {
        let header = sign("s3cret", 1_700_000_000, "{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(
            verify("s3cret", &header, "{\"a\":1}", 1_700_000_100, 300),
            Ok(())
        );
        assert_eq!(
            verify("s3cret", &header, "{\"a\":2}", 1_700_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("other", &header, "{\"a\":1}", 1_700_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("s3cret", &header, "{\"a\":1}", 1_700_001_000, 300),
            Err(SignatureError::Stale(1000))
        );
        assert_eq!(
            verify("s3cret", "garbage", "", 0, 300),
            Err(SignatureError::Malformed)
        );
        // RFC 4231 test case 2 (key "Jefe") through the same construction.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
