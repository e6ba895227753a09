//! Leases on jobs that one server at a time should run (escalation,
//! re-match, mailbox polling, digests) when several share one database.
//!
//! A lease names its holder and carries a token written when it was taken;
//! renewing or releasing it names that token in the same statement, so a
//! server whose lease ran out and was taken by another learns so at its next
//! renewal and stops. The jobs' writes are idempotent in the store as well
//! (an escalation is appended once per clock, a mailbox message is taken once
//! by its key), so the lease saves double work and double side effects; it is
//! not the only guard.

use embargo_core::Instant;

use crate::{Result, Store};

impl Store {
    /// Takes the job `name` for `owner` until `lease_until` if nobody holds
    /// it (or the holder's lease ran out by `now`). Returns the lease's
    /// token, or `None` when another holder has it.
    pub async fn acquire_job(
        &self,
        name: &str,
        owner: &str,
        now: Instant,
        lease_until: Instant,
    ) -> Result<Option<String>> {
        let token = embargo_core::auth::generate_token("job_");
        let taken = sqlx::query(
            "INSERT INTO job_leases (name, owner, token, lease_until, acquired_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = excluded.token, \
             lease_until = excluded.lease_until, acquired_at = excluded.acquired_at \
             WHERE job_leases.lease_until <= $5",
        )
        .bind(name)
        .bind(owner)
        .bind(&token)
        .bind(lease_until.timestamp_millis())
        .bind(now.timestamp_millis())
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok((taken > 0).then_some(token))
    }

    /// Extends the lease `token` on job `name` until `lease_until`; `false`
    /// when it is no longer held under that token.
    pub async fn renew_job(&self, name: &str, token: &str, lease_until: Instant) -> Result<bool> {
        Ok(
            sqlx::query("UPDATE job_leases SET lease_until = $1 WHERE name = $2 AND token = $3")
                .bind(lease_until.timestamp_millis())
                .bind(name)
                .bind(token)
                .execute(&self.writer)
                .await?
                .rows_affected()
                > 0,
        )
    }

    /// Gives the job `name` up, if still held under `token`, so that another
    /// server may take it at once.
    pub async fn release_job(&self, name: &str, token: &str) -> Result<()> {
        sqlx::query("UPDATE job_leases SET lease_until = 0 WHERE name = $1 AND token = $2")
            .bind(name)
            .bind(token)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
