//! The unit of work: one transaction that the application layer opens,
//! writes through the repositories of each aggregate, and commits (or drops,
//! which rolls everything back). What a use case writes — a case's events,
//! the notices they cause, the findings a release resolves — is therefore
//! kept whole or not at all, and the store itself decides nothing.

use crate::{Result, Store};

/// One transaction, shared by the repositories a use case writes through
/// (each aggregate's module adds its own accessor: `work.cases()`,
/// `work.outbox()`, ...).
pub struct Work<'s> {
    pub(crate) store: &'s Store,
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The chain's head, once the cases' repository took the chain lock;
    /// written back at commit.
    pub(crate) chain: Option<(i64, String)>,
}

impl std::fmt::Debug for Work<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Work")
            .field("chain_locked", &self.chain.is_some())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Begins a unit of work on the writer.
    pub async fn begin(&self) -> Result<Work<'_>> {
        Ok(Work {
            store: self,
            tx: self.writer.begin().await?,
            chain: None,
        })
    }
}

impl Work<'_> {
    /// Makes everything written in this unit durable, at once.
    pub async fn commit(mut self) -> Result<()> {
        if let Some(head) = self.chain.take() {
            finish_chain(&mut self.tx, &head).await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

/// Writes the chain's new head (the last write of a unit that appended events).
async fn finish_chain(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    head: &(i64, String),
) -> Result<()> {
    sqlx::query("UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(head.0)
        .bind(&head.1)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
