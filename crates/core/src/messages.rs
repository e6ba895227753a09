//! What embargo writes to people outside the team (reporters and customers),
//! in the policy's language. English, French, German and Spanish are
//! written here; any other language falls back to English.
//!
//! Templates name their values in braces (`{case}`); [`fill`] replaces them
//! in one pass, so a value that itself contains braces is left as it is.

use crate::CaseState;

/// The texts of one language.
#[derive(Debug)]
pub struct Texts {
    /// The BCP 47 primary language subtag.
    pub language: &'static str,
    pub hello: &'static str,
    pub receipt_subject: &'static str,
    pub receipt_body: &'static str,
    pub private_link: &'static str,
    pub private_link_html: &'static str,
    pub keep_informed: &'static str,
    pub message_subject: &'static str,
    pub message_intro: &'static str,
    pub message_reply: &'static str,
    pub status_subject: &'static str,
    pub status_changed: &'static str,
    pub status_now: &'static str,
    pub status_reason: &'static str,
    pub status_reply: &'static str,
    pub advisory_subject: &'static str,
    pub advisory_body: &'static str,
    pub advisory_credit: &'static str,
    pub notice_subject: &'static str,
    pub notice_exceptional_subject: &'static str,
    pub notice_body: &'static str,
    pub notice_fixed: &'static str,
    pub notice_no_fix: &'static str,
    pub notice_exceptional: &'static str,
    pub notice_saas: &'static str,
    pub notice_more: &'static str,
    /// For an actively exploited vulnerability (Cyber Resilience Act, Article 14(8)).
    pub notice_exploited: &'static str,
    /// Where the machine-readable documents are.
    pub notice_documents: &'static str,
    /// To a reporter whose mailed report lacks fields the policy requires.
    pub missing_fields: &'static str,
    /// The case states as a reporter reads them, in [`CaseState::ALL`] order.
    pub states: [&'static str; 14],
}

impl Texts {
    /// A case state in this language.
    #[must_use]
    pub fn state(&self, state: CaseState) -> &'static str {
        CaseState::ALL
            .iter()
            .position(|s| *s == state)
            .map_or_else(|| state.describe(), |i| self.states[i])
    }
}

const EN: Texts = Texts {
    language: "en",
    hello: "Hello,",
    receipt_subject: "[{case}] We received your vulnerability report",
    receipt_body: "thank you for your report. We have received it and recorded it as {case}.",
    private_link: "Your report's private page (keep the link secret): {link}",
    private_link_html: "Your report's private page",
    keep_informed: "We will keep you informed here as it progresses. Please do not disclose it publicly while we work on it. Reply to this email to add information; keep {case} in the subject.",
    message_subject: "[{case}] A message about your vulnerability report",
    message_intro: "the security team wrote about your report {case}:",
    message_reply: "Reply to this email to answer; keep the reference {case} in the subject.",
    status_subject: "[{case}] Update on your vulnerability report",
    status_changed: "the status of your vulnerability report {case} has changed.",
    status_now: "It is now: {state}.",
    status_reason: "The reason: {reason}",
    status_reply: "Reply to this email to add information; keep the reference {case} in the subject.",
    advisory_subject: "[{case}] The advisory for your report is published",
    advisory_body: "the vulnerability you reported ({case}) is fixed and its advisory {advisory} is public: {url}",
    advisory_credit: "It credits you as {name}. Thank you for helping us protect our users.",
    notice_subject: "Security notice: {title}",
    notice_exceptional_subject: "Exceptional security delivery: {title}",
    notice_body: "{organization} has published a security advisory that concerns a release you run: {product} {release}.",
    notice_fixed: "The vulnerability is fixed in version {fixed}. Please update.",
    notice_no_fix: "A fix is not yet available; we will tell you when it is.",
    notice_exceptional: "This is an exceptional security delivery: you run {product} yourselves, so the update must be installed on your side.",
    notice_saas: "We operate {product} for you; no action is needed on your side unless the advisory says otherwise.",
    notice_more: "The advisory {advisory}: {url}",
    notice_exploited: "This vulnerability is actively exploited: apply the fix or the mitigation without delay.",
    notice_documents: "Machine-readable: the advisory as CSAF 2.0 ({csaf}) and as VEX ({vex}).",
    missing_fields: "Our security policy asks every report for the following, which we did not find in your message:\n{fields}\n\nPlease reply to this email with them; your reply joins your report.",
    states: [
        "Received; not yet acknowledged",
        "Acknowledged; waiting for triage",
        "Being assessed",
        "Waiting for more information from the reporter",
        "Confirmed as a vulnerability",
        "A fix is being developed",
        "A fix is available",
        "The fix has been released",
        "Publicly disclosed",
        "Closed",
        "Closed: not a vulnerability",
        "Closed: out of scope",
        "Closed: duplicate of another report",
        "Closed: spam",
    ],
};

const FR: Texts = Texts {
    language: "fr",
    hello: "Bonjour,",
    receipt_subject: "[{case}] Nous avons reçu votre signalement de vulnérabilité",
    receipt_body: "merci pour votre signalement. Nous l'avons reçu et enregistré sous la référence {case}.",
    private_link: "La page privée de votre signalement (gardez ce lien secret) : {link}",
    private_link_html: "La page privée de votre signalement",
    keep_informed: "Nous vous tiendrons informé ici de son avancement. Merci de ne pas le divulguer publiquement pendant que nous y travaillons. Répondez à ce message pour ajouter des informations ; gardez {case} dans l'objet.",
    message_subject: "[{case}] Un message au sujet de votre signalement",
    message_intro: "l'équipe de sécurité a écrit au sujet de votre signalement {case} :",
    message_reply: "Répondez à ce message pour répondre ; gardez la référence {case} dans l'objet.",
    status_subject: "[{case}] Du nouveau sur votre signalement",
    status_changed: "le statut de votre signalement {case} a changé.",
    status_now: "Il est maintenant : {state}.",
    status_reason: "La raison : {reason}",
    status_reply: "Répondez à ce message pour ajouter des informations ; gardez la référence {case} dans l'objet.",
    advisory_subject: "[{case}] L'avis de sécurité de votre signalement est publié",
    advisory_body: "la vulnérabilité que vous avez signalée ({case}) est corrigée et son avis {advisory} est public : {url}",
    advisory_credit: "Il vous remercie sous le nom {name}. Merci de nous aider à protéger nos utilisateurs.",
    notice_subject: "Avis de sécurité : {title}",
    notice_exceptional_subject: "Livraison de sécurité exceptionnelle : {title}",
    notice_body: "{organization} a publié un avis de sécurité qui concerne une version que vous utilisez : {product} {release}.",
    notice_fixed: "La vulnérabilité est corrigée dans la version {fixed}. Merci de mettre à jour.",
    notice_no_fix: "Aucun correctif n'est encore disponible ; nous vous préviendrons dès qu'il le sera.",
    notice_exceptional: "Il s'agit d'une livraison de sécurité exceptionnelle : vous exploitez {product} vous-mêmes, la mise à jour doit donc être installée de votre côté.",
    notice_saas: "Nous exploitons {product} pour vous ; aucune action n'est nécessaire de votre côté sauf indication contraire de l'avis.",
    notice_more: "L'avis {advisory} : {url}",
    notice_exploited: "Cette vulnérabilité est activement exploitée : appliquez le correctif ou la mesure d'atténuation sans délai.",
    notice_documents: "Lisibles par machine : l'avis au format CSAF 2.0 ({csaf}) et au format VEX ({vex}).",
    missing_fields: "Notre politique de sécurité demande pour chaque signalement les éléments suivants, que nous n'avons pas trouvés dans votre message :\n{fields}\n\nMerci de répondre à ce courriel en les indiquant ; votre réponse sera jointe à votre signalement.",
    states: [
        "Reçu ; pas encore accusé de réception",
        "Réception confirmée ; en attente d'analyse",
        "En cours d'analyse",
        "En attente d'informations de votre part",
        "Confirmé comme vulnérabilité",
        "Correctif en cours de développement",
        "Un correctif est disponible",
        "Le correctif a été publié",
        "Divulgué publiquement",
        "Clos",
        "Clos : pas une vulnérabilité",
        "Clos : hors du périmètre",
        "Clos : doublon d'un autre signalement",
        "Clos : indésirable",
    ],
};

const DE: Texts = Texts {
    language: "de",
    hello: "Guten Tag,",
    receipt_subject: "[{case}] Wir haben Ihre Schwachstellenmeldung erhalten",
    receipt_body: "vielen Dank für Ihre Meldung. Wir haben sie erhalten und unter {case} erfasst.",
    private_link: "Die private Seite Ihrer Meldung (halten Sie den Link geheim): {link}",
    private_link_html: "Die private Seite Ihrer Meldung",
    keep_informed: "Wir halten Sie hier über den Fortgang auf dem Laufenden. Bitte veröffentlichen Sie nichts, solange wir daran arbeiten. Antworten Sie auf diese E-Mail, um Informationen zu ergänzen; lassen Sie {case} im Betreff.",
    message_subject: "[{case}] Eine Nachricht zu Ihrer Schwachstellenmeldung",
    message_intro: "das Sicherheitsteam schreibt zu Ihrer Meldung {case}:",
    message_reply: "Antworten Sie auf diese E-Mail; lassen Sie die Referenz {case} im Betreff.",
    status_subject: "[{case}] Neuigkeiten zu Ihrer Schwachstellenmeldung",
    status_changed: "der Status Ihrer Schwachstellenmeldung {case} hat sich geändert.",
    status_now: "Er lautet jetzt: {state}.",
    status_reason: "Der Grund: {reason}",
    status_reply: "Antworten Sie auf diese E-Mail, um Informationen zu ergänzen; lassen Sie die Referenz {case} im Betreff.",
    advisory_subject: "[{case}] Das Advisory zu Ihrer Meldung ist veröffentlicht",
    advisory_body: "die von Ihnen gemeldete Schwachstelle ({case}) ist behoben und ihr Advisory {advisory} ist öffentlich: {url}",
    advisory_credit: "Es nennt Sie als {name}. Danke, dass Sie uns helfen, unsere Nutzer zu schützen.",
    notice_subject: "Sicherheitshinweis: {title}",
    notice_exceptional_subject: "Außerordentliche Sicherheitslieferung: {title}",
    notice_body: "{organization} hat ein Sicherheits-Advisory veröffentlicht, das eine von Ihnen betriebene Version betrifft: {product} {release}.",
    notice_fixed: "Die Schwachstelle ist in Version {fixed} behoben. Bitte aktualisieren Sie.",
    notice_no_fix: "Ein Fix ist noch nicht verfügbar; wir informieren Sie, sobald er es ist.",
    notice_exceptional: "Dies ist eine außerordentliche Sicherheitslieferung: Sie betreiben {product} selbst, daher muss das Update auf Ihrer Seite installiert werden.",
    notice_saas: "Wir betreiben {product} für Sie; auf Ihrer Seite ist nichts zu tun, sofern das Advisory nichts anderes sagt.",
    notice_more: "Das Advisory {advisory}: {url}",
    notice_exploited: "Diese Schwachstelle wird aktiv ausgenutzt: Spielen Sie die Korrektur oder die Abhilfe unverzüglich ein.",
    notice_documents: "Maschinenlesbar: das Advisory als CSAF 2.0 ({csaf}) und als VEX ({vex}).",
    missing_fields: "Unsere Sicherheitsrichtlinie verlangt für jede Meldung folgende Angaben, die wir in Ihrer Nachricht nicht gefunden haben:\n{fields}\n\nBitte antworten Sie auf diese E-Mail mit diesen Angaben; Ihre Antwort wird Ihrer Meldung zugeordnet.",
    states: [
        "Eingegangen; noch nicht bestätigt",
        "Eingang bestätigt; Bewertung ausstehend",
        "Wird bewertet",
        "Wartet auf weitere Informationen von Ihnen",
        "Als Schwachstelle bestätigt",
        "Ein Fix wird entwickelt",
        "Ein Fix ist verfügbar",
        "Der Fix wurde veröffentlicht",
        "Öffentlich bekannt gemacht",
        "Abgeschlossen",
        "Abgeschlossen: keine Schwachstelle",
        "Abgeschlossen: außerhalb des Geltungsbereichs",
        "Abgeschlossen: Duplikat einer anderen Meldung",
        "Abgeschlossen: Spam",
    ],
};

const ES: Texts = Texts {
    language: "es",
    hello: "Hola:",
    receipt_subject: "[{case}] Hemos recibido su informe de vulnerabilidad",
    receipt_body: "gracias por su informe. Lo hemos recibido y registrado como {case}.",
    private_link: "La página privada de su informe (mantenga el enlace en secreto): {link}",
    private_link_html: "La página privada de su informe",
    keep_informed: "Le mantendremos informado aquí de su avance. Por favor, no lo divulgue públicamente mientras trabajamos en ello. Responda a este correo para añadir información; mantenga {case} en el asunto.",
    message_subject: "[{case}] Un mensaje sobre su informe de vulnerabilidad",
    message_intro: "el equipo de seguridad escribió sobre su informe {case}:",
    message_reply: "Responda a este correo para contestar; mantenga la referencia {case} en el asunto.",
    status_subject: "[{case}] Novedades sobre su informe de vulnerabilidad",
    status_changed: "el estado de su informe de vulnerabilidad {case} ha cambiado.",
    status_now: "Ahora es: {state}.",
    status_reason: "El motivo: {reason}",
    status_reply: "Responda a este correo para añadir información; mantenga la referencia {case} en el asunto.",
    advisory_subject: "[{case}] Se ha publicado el aviso de su informe",
    advisory_body: "la vulnerabilidad que informó ({case}) está corregida y su aviso {advisory} es público: {url}",
    advisory_credit: "Le reconoce como {name}. Gracias por ayudarnos a proteger a nuestros usuarios.",
    notice_subject: "Aviso de seguridad: {title}",
    notice_exceptional_subject: "Entrega de seguridad excepcional: {title}",
    notice_body: "{organization} ha publicado un aviso de seguridad que afecta a una versión que usted utiliza: {product} {release}.",
    notice_fixed: "La vulnerabilidad está corregida en la versión {fixed}. Por favor, actualice.",
    notice_no_fix: "Todavía no hay una corrección disponible; le avisaremos cuando la haya.",
    notice_exceptional: "Es una entrega de seguridad excepcional: usted opera {product} por su cuenta, así que la actualización debe instalarse de su lado.",
    notice_saas: "Operamos {product} por usted; no necesita hacer nada salvo que el aviso indique lo contrario.",
    notice_more: "El aviso {advisory}: {url}",
    notice_exploited: "Esta vulnerabilidad se está explotando activamente: aplique la corrección o la mitigación sin demora.",
    notice_documents: "Legibles por máquina: el aviso en CSAF 2.0 ({csaf}) y en VEX ({vex}).",
    missing_fields: "Nuestra política de seguridad pide para cada informe lo siguiente, que no encontramos en su mensaje:\n{fields}\n\nResponda a este correo con esa información; su respuesta se añadirá a su informe.",
    states: [
        "Recibido; aún sin acuse de recibo",
        "Recibo confirmado; pendiente de análisis",
        "En análisis",
        "A la espera de más información de su parte",
        "Confirmado como vulnerabilidad",
        "Se está desarrollando una corrección",
        "Hay una corrección disponible",
        "La corrección se ha publicado",
        "Divulgado públicamente",
        "Cerrado",
        "Cerrado: no es una vulnerabilidad",
        "Cerrado: fuera del alcance",
        "Cerrado: duplicado de otro informe",
        "Cerrado: spam",
    ],
};

/// Every language written here.
pub const LANGUAGES: [&Texts; 4] = [&EN, &FR, &DE, &ES];

/// The texts for a BCP 47 tag (`fr`, `fr-CA`, `de-DE`), or English.
#[must_use]
pub fn texts(tag: &str) -> &'static Texts {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    LANGUAGES
        .into_iter()
        .find(|t| t.language == primary)
        .unwrap_or(&EN)
}

/// Replaces each `{name}` in `template` with its value, in one pass.
#[must_use]
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match values.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_placeholder_of_english() {
        let fields = |t: &Texts| {
            vec![
                t.receipt_subject,
                t.receipt_body,
                t.private_link,
                t.keep_informed,
                t.message_subject,
                t.message_intro,
                t.message_reply,
                t.status_subject,
                t.status_changed,
                t.status_now,
                t.status_reason,
                t.status_reply,
                t.advisory_subject,
                t.advisory_body,
                t.advisory_credit,
                t.notice_subject,
                t.notice_exceptional_subject,
                t.notice_body,
                t.notice_fixed,
                t.notice_exceptional,
                t.notice_saas,
                t.notice_more,
            ]
        };
        let names = |s: &str| -> Vec<String> {
            let mut v: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                .collect();
            v.sort();
            v
        };
        for t in LANGUAGES {
            for (en, other) in fields(&EN).into_iter().zip(fields(t)) {
                assert_eq!(names(en), names(other), "{}: {other}", t.language);
                assert!(!other.trim().is_empty());
            }
            assert!(t.states.iter().all(|s| !s.is_empty()));
        }
        // The English state names are the workflow's own.
        for s in CaseState::ALL {
            assert_eq!(EN.state(s), s.describe());
        }
    }

    #[test]
    fn languages_by_tag_and_fallback() {
        assert_eq!(texts("fr-CA").language, "fr");
        assert_eq!(texts("DE").language, "de");
        assert_eq!(texts("es_ES").language, "es");
        assert_eq!(texts("ja").language, "en");
        assert_eq!(texts("").language, "en");
    }

    #[test]
    fn fill_replaces_once_and_leaves_unknown_names() {
        assert_eq!(
            fill(
                "[{case}] {state} {other} {",
                &[("case", "EMB-1 {state}"), ("state", "done")]
            ),
            "[EMB-1 {state}] done {other} {"
        );
    }
}
