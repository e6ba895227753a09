use embargo_core::auth::{Role, hash_password, token_digest};
use embargo_store::StoreError;

use crate::{each_backend, t};

#[tokio::test]
async fn users_sessions_and_tokens() {
    each_backend(|store, db| async move {
        let hash = hash_password("a long enough password").unwrap();
        let alice = store
            .add_user("alice", Role::Responder, &hash, t(1, 9, 0))
            .await
            .unwrap();
        assert!(
            matches!(
                store
                    .add_user("alice", Role::Viewer, &hash, t(1, 9, 0))
                    .await,
                Err(StoreError::Conflict(_))
            ),
            "{}",
            db.backend()
        );
        assert!(
            store
                .add_user("bad name", Role::Viewer, &hash, t(1, 9, 0))
                .await
                .is_err()
        );
        let (user, stored_hash) = store.user_credentials("alice").await.unwrap().unwrap();
        assert_eq!((user.clone(), stored_hash), (alice.clone(), hash));

        store
            .create_session("digest-1", alice.id, t(1, 9, 0), t(1, 21, 0))
            .await
            .unwrap();
        assert_eq!(
            store.session_user("digest-1", t(1, 10, 0)).await.unwrap(),
            Some(alice.clone())
        );
        assert_eq!(
            store.session_user("digest-1", t(1, 21, 0)).await.unwrap(),
            None,
            "expired"
        );
        assert_eq!(store.session_user("nope", t(1, 10, 0)).await.unwrap(), None);

        let token = store
            .create_api_token(
                alice.id,
                "ci pipeline",
                &token_digest("emb_secret"),
                t(1, 9, 0),
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .token_user(&token_digest("emb_secret"), t(1, 9, 5))
                .await
                .unwrap(),
            Some(alice.clone())
        );
        assert_eq!(
            store.api_token(token.id).await.unwrap().last_used_at,
            Some(t(1, 9, 5))
        );
        store.revoke_api_token(token.id, t(1, 9, 6)).await.unwrap();
        assert_eq!(
            store
                .token_user(&token_digest("emb_secret"), t(1, 9, 7))
                .await
                .unwrap(),
            None
        );

        store.set_user_disabled("alice", true).await.unwrap();
        store
            .create_session("digest-2", alice.id, t(1, 9, 0), t(1, 21, 0))
            .await
            .unwrap();
        assert_eq!(
            store.session_user("digest-2", t(1, 10, 0)).await.unwrap(),
            None,
            "disabled"
        );
        assert!(matches!(
            store.set_user_disabled("nobody", true).await,
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(store.list_users().await.unwrap().len(), 1);
    })
    .await;
}
