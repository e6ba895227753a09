//! `audit verify` on an untouched database, and after direct SQL tampering.

use crate::Writes;
use embargo_core::Command;
use embargo_core::chain::ChainError;
use embargo_store::{Store, StoreError};

use crate::{each_backend, raw, report, t};

/// Three cases with a few events each: seq 1..=7.
async fn history(store: &Store) {
    let a = store
        .create_case(report("a"), "cli", t(2, 9, 0))
        .await
        .unwrap()
        .reference;
    let b = store
        .create_case(report("b"), "cli", t(2, 9, 1))
        .await
        .unwrap()
        .reference;
    store
        .execute(a, &Command::Acknowledge {}, "user:bob", t(2, 9, 2))
        .await
        .unwrap();
    store
        .execute(b, &Command::StartTriage {}, "user:bob", t(2, 9, 3))
        .await
        .unwrap();
    store
        .execute(
            a,
            &Command::AddNote {
                text: "note".into(),
            },
            "user:bob",
            t(2, 9, 4),
        )
        .await
        .unwrap();
    let c = store
        .create_case(report("c"), "cli", t(2, 9, 5))
        .await
        .unwrap()
        .reference;
    store
        .execute(c, &Command::Spam {}, "user:bob", t(2, 9, 6))
        .await
        .unwrap();
}

async fn tamper(db: &crate::Db, statements: &[&str]) {
    let mut conn = raw(db).await;
    for s in statements {
        sqlx::query(s).execute(&mut conn).await.unwrap();
    }
}

#[tokio::test]
async fn untouched_history_verifies() {
    each_backend(|store, db| async move {
        history(&store).await;
        let report = store.verify().await.unwrap();
        assert_eq!((report.events, report.cases), (7, 3), "{}", db.backend());
    })
    .await;
}

#[tokio::test]
async fn edited_event_is_named() {
    each_backend(|store, db| async move {
        history(&store).await;
        tamper(
            &db,
            &["UPDATE events SET actor = 'user:mallory' WHERE seq = 4"],
        )
        .await;
        let err = store.verify().await.unwrap_err();
        assert!(
            matches!(err, StoreError::Chain(ChainError::Edited { seq: 4, .. })),
            "{}: {err}",
            db.backend()
        );
        assert!(err.to_string().contains("event 4 (EMB-2026-0002)"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn deleted_event_is_named() {
    each_backend(|store, db| async move {
        history(&store).await;
        tamper(&db, &["DELETE FROM events WHERE seq = 3"]).await;
        let err = store.verify().await.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Chain(ChainError::Broken {
                    seq: 4,
                    expected_prev: 2,
                    ..
                })
            ),
            "{}: {err}",
            db.backend()
        );
    })
    .await;
}

#[tokio::test]
async fn reordered_events_are_named() {
    each_backend(|store, db| async move {
        history(&store).await;
        tamper(
            &db,
            &[
                "UPDATE events SET seq = -5 WHERE seq = 5",
                "UPDATE events SET seq = 5 WHERE seq = 6",
                "UPDATE events SET seq = 6 WHERE seq = -5",
            ],
        )
        .await;
        let err = store.verify().await.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Chain(ChainError::Broken {
                    seq: 5,
                    expected_prev: 4,
                    ..
                })
            ),
            "{}: {err}",
            db.backend()
        );
    })
    .await;
}

#[tokio::test]
async fn truncated_chain_and_tampered_ciphertext_and_projection_are_caught() {
    each_backend(|store, db| async move {
        history(&store).await;
        tamper(&db, &["DELETE FROM events WHERE seq = 7"]).await;
        assert!(
            matches!(
                store.verify().await.unwrap_err(),
                StoreError::Chain(ChainError::Head { last: 6, head: 7 })
            ),
            "{}",
            db.backend()
        );
    })
    .await;
    each_backend(|store, db| async move {
        history(&store).await;
        // Move event 5's ciphertext onto event 1: the AEAD binds it to event 5.
        tamper(
            &db,
            &["UPDATE events SET sealed = (SELECT sealed FROM events WHERE seq = 5) WHERE seq = 1"],
        )
        .await;
        let err = store.verify().await.unwrap_err();
        assert!(
            matches!(err, StoreError::Chain(ChainError::Sealed { seq: 1, .. })),
            "{}: {err}",
            db.backend()
        );
    })
    .await;
    each_backend(|store, db| async move {
        history(&store).await;
        tamper(&db, &["UPDATE cases SET public = replace(public, '\"triage\"', '\"closed\"') WHERE reference = 'EMB-2026-0002'"]).await;
        let err = store.verify().await.unwrap_err();
        assert!(err.to_string().contains("EMB-2026-0002"), "{}: {err}", db.backend());
    })
    .await;
}

#[tokio::test]
async fn an_index_column_edited_behind_the_projection_is_caught() {
    each_backend(|store, db| async move {
        history(&store).await;
        tamper(
            &db,
            &["UPDATE cases SET state = 'closed' WHERE reference = 'EMB-2026-0001'"],
        )
        .await;
        let err = store.verify().await.unwrap_err();
        assert!(
            err.to_string().contains("EMB-2026-0001"),
            "{}: {err}",
            db.backend()
        );
    })
    .await;
}
