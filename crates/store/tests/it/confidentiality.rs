//! Nothing a reporter wrote reaches the database in the clear, and keys rotate.

use crate::Writes;
use embargo_core::Command;
use embargo_core::attachment::{AttachmentLimits, NewAttachment};
use embargo_core::crypto::Keyring;
use embargo_store::testing::TestDatabase;
use embargo_store::{Backend, Store};

use crate::{open, report, t};

const MARKER: &str = "MARKER-7f3a9c-do-not-leak";

async fn write_marker_everywhere(store: &Store) {
    // A webhook (its secret is sealed), so each event also queues a sealed delivery.
    store
        .add_webhook(
            "hook",
            "https://hooks.example.org/embargo",
            embargo_core::notify::WebhookFormat::Embargo,
            &[],
            &[],
            None,
            &format!("secret-{MARKER}"),
            t(2, 8, 0),
        )
        .await
        .unwrap();
    let mut r = report(&format!("title {MARKER}"));
    r.report.description = format!("description {MARKER}");
    r.report.steps_to_reproduce = Some(format!("steps {MARKER}"));
    r.reporter.contact = Some(format!("{}@example.org", MARKER.to_lowercase()));
    r.reporter.name = Some(format!("name {MARKER}"));
    let case = store.create_case(r, "cli", t(2, 9, 0)).await.unwrap();
    let reference = case.reference;
    for command in [
        Command::AddNote {
            text: format!("note {MARKER}"),
        },
        Command::StartTriage {},
        Command::NotAVulnerability {
            reason: format!("reason {MARKER}"),
            rule: None,
        },
    ] {
        store
            .execute(reference, &command, "cli", t(2, 9, 1))
            .await
            .unwrap();
    }
    // A file whose name and content carry the marker.
    let file = NewAttachment {
        filename: format!("poc-{MARKER}.txt"),
        content: format!("exploit {MARKER}").into_bytes(),
    };
    let attachment = file
        .describe("att_marker".into(), true, AttachmentLimits::default())
        .unwrap();
    store
        .attach(
            reference,
            vec![(attachment, file.content.clone())],
            "cli",
            t(2, 9, 2),
        )
        .await
        .unwrap();
    let read = store.case(reference).await.unwrap();
    assert!(
        read.title.contains(MARKER) && read.reason.as_deref().is_some_and(|r| r.contains(MARKER))
    );
    let (listed, content) = store
        .attachment(reference, "att_marker")
        .await
        .unwrap()
        .unwrap();
    assert!(listed.filename.contains(MARKER));
    assert_eq!(content, file.content);
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let lower = needle.to_lowercase();
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes() || w == lower.as_bytes())
}

#[tokio::test]
async fn marker_appears_nowhere_in_the_sqlite_files() {
    let db = TestDatabase::sqlite().unwrap();
    let store = open(&db, Keyring::generate()).await;
    write_marker_everywhere(&store).await;
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    // Look at the files while the WAL still holds the writes, then again after
    // the store closes and checkpoints them into the main file.
    for phase in ["open", "closed"] {
        let mut seen = 0;
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                seen += bytes.len();
                assert!(
                    !contains(&bytes, MARKER),
                    "marker found in {path}{suffix} ({phase})"
                );
            }
        }
        assert!(seen > 0);
        if phase == "open" {
            store.close().await;
        }
    }
}

#[tokio::test]
async fn marker_appears_nowhere_in_pg_dump() {
    let Some(db) = TestDatabase::postgres().await.unwrap() else {
        eprintln!("skipped: EMBARGO_TEST_POSTGRES_URL is not set");
        return;
    };
    let store = open(&db, Keyring::generate()).await;
    write_marker_everywhere(&store).await;
    let out = std::process::Command::new("pg_dump")
        .arg("--dbname")
        .arg(&db.url)
        .output()
        .expect("pg_dump runs (Debian package postgresql-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.len() > 1000, "the dump has content");
    assert!(
        contains(&out.stdout, "EMB-2026-0001"),
        "the dump holds the case"
    );
    assert!(
        !contains(&out.stdout, MARKER),
        "marker found in pg_dump output"
    );
    store.close().await;
}

#[tokio::test]
async fn rotation_re_encrypts_everything_so_the_old_key_can_go() {
    for db in TestDatabase::all().await {
        let old = Keyring::generate();
        let store = open(&db, old.clone()).await;
        write_marker_everywhere(&store).await;
        let before = store
            .case(embargo_core::CaseRef::new(2026, 1))
            .await
            .unwrap();
        store.close().await;

        let mut rotated = old.clone();
        let new_id = rotated.add_key();
        let store = Store::connect(&db.url, rotated.clone()).await.unwrap();
        assert_eq!(store.keys_in_use().await.unwrap(), ["k1"]);
        // case + 4 events with confidential fields (created, note, two state changes with reasons: one)
        let rewritten = store.reencrypt().await.unwrap();
        assert!(
            rewritten >= 4,
            "{rewritten} values re-encrypted on {}",
            db.backend()
        );
        assert_eq!(store.keys_in_use().await.unwrap(), vec![new_id]);
        assert_eq!(
            store.reencrypt().await.unwrap(),
            0,
            "nothing left under the old key"
        );
        store.close().await;

        assert!(rotated.remove_key("k1"));
        let store = Store::connect(&db.url, rotated).await.unwrap();
        assert_eq!(store.case(before.reference).await.unwrap(), before);
        let (_, content) = store
            .attachment(before.reference, "att_marker")
            .await
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&content).contains(MARKER));
        // Queued deliveries and webhook secrets moved to the new key too.
        let (_, secret) = store.webhook(1).await.unwrap();
        assert_eq!(secret, format!("secret-{MARKER}"));
        let queued = store
            .claim_deliveries("test", t(2, 10, 0), t(2, 11, 0), 100)
            .await
            .unwrap();
        assert!(!queued.is_empty(), "the events queued webhook deliveries");
        store.verify().await.unwrap();
        store.close().await;

        // Without the new key nothing opens.
        let store = Store::connect(&db.url, old).await.unwrap();
        assert!(store.case(before.reference).await.is_err());
        store.close().await;
    }
}

#[tokio::test]
async fn sqlite_backup_is_a_complete_verifiable_copy() {
    let db = TestDatabase::sqlite().unwrap();
    let keyring = Keyring::generate();
    let store = open(&db, keyring.clone()).await;
    assert_eq!(store.backend(), Backend::Sqlite);
    write_marker_everywhere(&store).await;
    let dir = std::env::temp_dir().join(format!("embargo-backup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("copy.db");
    let _ = std::fs::remove_file(&target);
    store.backup(&target, t(6, 9, 0)).await.unwrap();
    assert!(
        store
            .fact(embargo_store::LAST_BACKUP)
            .await
            .unwrap()
            .is_some(),
        "recorded for the setup checklist"
    );
    assert!(
        store.backup(&target, t(6, 9, 0)).await.is_err(),
        "never overwrites"
    );
    let copy = Store::connect(&format!("sqlite://{}", target.display()), keyring)
        .await
        .unwrap();
    let r = embargo_core::CaseRef::new(2026, 1);
    assert_eq!(copy.case(r).await.unwrap(), store.case(r).await.unwrap());
    assert_eq!(
        copy.history(r).await.unwrap(),
        store.history(r).await.unwrap()
    );
    assert_eq!(copy.verify().await.unwrap().events, 5);
    assert_eq!(
        copy.attachment(r, "att_marker").await.unwrap(),
        store.attachment(r, "att_marker").await.unwrap(),
        "the copy holds the files"
    );
    copy.close().await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
