//! Background jobs: how they stop, and how servers sharing one database
//! take turns at the jobs only one of them should run at a time.
//!
//! Every job loop watches a [`Shutdown`]: when the server is asked to stop
//! (SIGTERM, Ctrl-C) the loops finish the step they are in and return, so
//! nothing is cut off halfway (a message being sent is sent and recorded;
//! messages claimed but not yet sent are handed back at once).
//!
//! A [`SharedJob`] is a job with a lease in the database: a pass runs only
//! on the server that took the lease, renews it at each step with
//! [`HeldJob::hold`] and stops as soon as the lease turns out to be lost.

use std::time::Duration;

use embargo_store::{Store, StoreError};
use tokio::sync::watch;

use crate::clock::Clock;

/// Tells job loops that the server is stopping. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// Sets off a [`Shutdown`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger(std::sync::Arc<watch::Sender<bool>>);

impl Shutdown {
    /// A trigger and the signal it sets off.
    #[must_use]
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger(std::sync::Arc::new(tx)), Shutdown(rx))
    }

    /// A signal that never fires, for a single pass run by hand or in tests.
    #[must_use]
    pub fn never() -> Shutdown {
        // The receiver keeps the last value once the sender is gone: `false`.
        Shutdown(watch::channel(false).1)
    }

    /// Whether the server is stopping.
    #[must_use]
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Waits until the server is stopping (for ever, for [`Shutdown::never`]).
    pub async fn wait(&mut self) {
        if self.0.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Sleeps for `period`; `false` if the server began stopping meanwhile.
    pub async fn sleep(&mut self, period: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(period) => !self.is_set(),
            () = self.wait() => false,
        }
    }
}

impl ShutdownTrigger {
    /// Tells every loop to stop.
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

/// The server's background jobs, registered in one place, stopped together.
pub struct Supervisor {
    trigger: ShutdownTrigger,
    stop: Shutdown,
    jobs: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
    health: std::sync::Arc<JobsHealth>,
    clock: Clock,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("jobs", &self.names())
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A supervisor whose jobs report to `health` (the server state's, so
    /// that `/readyz` and `/metrics` show them).
    #[must_use]
    pub fn new(health: std::sync::Arc<JobsHealth>, clock: Clock) -> Self {
        let (trigger, stop) = Shutdown::new();
        Supervisor {
            trigger,
            stop,
            jobs: Vec::new(),
            health,
            clock,
        }
    }

    /// The signal the jobs watch.
    #[must_use]
    pub fn shutdown(&self) -> Shutdown {
        self.stop.clone()
    }

    /// What sets the signal off (the server's SIGTERM handler holds one).
    #[must_use]
    pub fn trigger(&self) -> ShutdownTrigger {
        self.trigger.clone()
    }

    /// Starts the job `name`: `start` gets the stop signal to watch and the
    /// reporter for its passes (which knows the job's name), and returns
    /// the running task.
    pub fn add(
        &mut self,
        name: &'static str,
        start: impl FnOnce(Shutdown, JobReporter) -> tokio::task::JoinHandle<()>,
    ) {
        let report = JobReporter::new(name, self.health.clone(), self.clock.clone());
        self.jobs.push((name, start(self.stop.clone(), report)));
    }

    /// The names of the jobs registered, in order.
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        self.jobs.iter().map(|(name, _)| *name).collect()
    }

    /// Tells every job to stop and waits until `deadline` for them to
    /// finish the step they are in; a job still running then is cut off (its
    /// leases run out and another server, or this one restarted, takes over).
    pub async fn stop(self, deadline: tokio::time::Instant) {
        self.trigger.fire();
        for (name, mut job) in self.jobs {
            match tokio::time::timeout_at(deadline, &mut job).await {
                Ok(Ok(())) => tracing::debug!(job = name, "stopped"),
                Ok(Err(e)) => tracing::error!(job = name, error = %e, "job ended abnormally"),
                Err(_) => {
                    tracing::warn!(
                        job = name,
                        "job still busy at the end of the grace period; cut off"
                    );
                    job.abort();
                }
            }
        }
    }
}

/// A job that one server at a time runs, by a lease in the database.
#[derive(Clone)]
pub struct SharedJob {
    store: Store,
    name: &'static str,
    owner: String,
    lease: Duration,
    clock: Clock,
}

impl std::fmt::Debug for SharedJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedJob")
            .field("name", &self.name)
            .field("owner", &self.owner)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// A [`SharedJob`] this server holds now.
#[derive(Debug)]
pub struct HeldJob<'a> {
    job: &'a SharedJob,
    token: String,
}

impl SharedJob {
    /// The job `name` run by `owner` (this server), leased for `lease` at a
    /// time and renewed at every step.
    #[must_use]
    pub fn new(
        store: Store,
        name: &'static str,
        owner: String,
        lease: Duration,
        clock: Clock,
    ) -> Self {
        SharedJob {
            store,
            name,
            owner,
            lease,
            clock,
        }
    }

    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The store the job's lease lives in.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn now(&self) -> embargo_core::Instant {
        embargo_core::to_millis((self.clock)())
    }

    /// When a lease taken or renewed at `now` runs out.
    fn until(&self, now: embargo_core::Instant) -> embargo_core::Instant {
        now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(60))
    }

    /// Takes the lease if no other server holds it.
    pub async fn acquire(&self) -> Result<Option<HeldJob<'_>>, StoreError> {
        let now = self.now();
        let token = self
            .store
            .acquire_job(self.name, &self.owner, now, self.until(now))
            .await?;
        Ok(token.map(|token| HeldJob { job: self, token }))
    }

    /// Runs `pass` if this server can take the lease, then gives it back.
    /// Returns `None` when another server holds the job.
    pub async fn run<T, F>(&self, pass: F) -> Result<Option<T>, StoreError>
    where
        F: AsyncFnOnce(&HeldJob<'_>) -> T,
    {
        let Some(held) = self.acquire().await? else {
            return Ok(None);
        };
        let out = pass(&held).await;
        held.release().await?;
        Ok(Some(out))
    }
}

impl HeldJob<'_> {
    /// Renews the lease; `false` when another server has taken it (this one
    /// must stop at once).
    pub async fn hold(&self) -> Result<bool, StoreError> {
        let held = self
            .job
            .store
            .renew_job(self.job.name, &self.token, self.job.until(self.job.now()))
            .await?;
        if !held {
            tracing::warn!(
                job = self.job.name,
                "the job's lease was taken over by another server; stopping this pass"
            );
        }
        Ok(held)
    }

    /// Gives the lease back so that any server may take the next pass.
    pub async fn release(self) -> Result<(), StoreError> {
        self.job.store.release_job(self.job.name, &self.token).await
    }
}

/// How each background job is doing, for `/readyz` and `/metrics`.
#[derive(Debug, Default)]
pub struct JobsHealth {
    jobs: std::sync::Mutex<std::collections::BTreeMap<&'static str, JobStatus>>,
}

/// One job's record since the server started.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JobStatus {
    /// Whether its task is alive (false once it ended, by a stop or a panic).
    pub running: bool,
    /// Passes that did their work.
    pub passes: u64,
    /// Passes that failed (the error is logged; the job retries).
    pub failures: u64,
    /// Passes skipped because another server held the job's lease.
    pub elsewhere: u64,
    /// When the last pass did its work (Unix seconds).
    pub last_success: Option<i64>,
    /// The last failure's message.
    pub last_error: Option<String>,
}

impl JobsHealth {
    fn update(&self, name: &'static str, change: impl FnOnce(&mut JobStatus)) {
        let mut jobs = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        change(jobs.entry(name).or_default());
    }

    /// Every job's status, by name.
    #[must_use]
    pub fn snapshot(&self) -> Vec<(&'static str, JobStatus)> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(name, status)| (*name, status.clone()))
            .collect()
    }

    /// The jobs as Prometheus metrics.
    #[must_use]
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let jobs = self.snapshot();
        let mut out = String::new();
        out.push_str("# HELP embargo_job_running Whether a background job's task is alive.\n");
        out.push_str("# TYPE embargo_job_running gauge\n");
        for (name, s) in &jobs {
            let _ = writeln!(
                out,
                "embargo_job_running{{job=\"{name}\"}} {}",
                u8::from(s.running)
            );
        }
        out.push_str(
            "# HELP embargo_job_passes_total Background job passes by outcome (elsewhere: another server held the job).\n",
        );
        out.push_str("# TYPE embargo_job_passes_total counter\n");
        for (name, s) in &jobs {
            for (outcome, n) in [
                ("ok", s.passes),
                ("failed", s.failures),
                ("elsewhere", s.elsewhere),
            ] {
                let _ = writeln!(
                    out,
                    "embargo_job_passes_total{{job=\"{name}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP embargo_job_last_success_timestamp_seconds When a job's last pass did its work.\n",
        );
        out.push_str("# TYPE embargo_job_last_success_timestamp_seconds gauge\n");
        for (name, s) in &jobs {
            if let Some(at) = s.last_success {
                let _ = writeln!(
                    out,
                    "embargo_job_last_success_timestamp_seconds{{job=\"{name}\"}} {at}"
                );
            }
        }
        out
    }
}

/// What a job tells [`JobsHealth`] of its passes.
#[derive(Clone)]
pub struct JobReporter {
    name: &'static str,
    health: std::sync::Arc<JobsHealth>,
    clock: Clock,
}

impl std::fmt::Debug for JobReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobReporter")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Marks its job stopped when dropped: when the task ends, however it ends.
#[derive(Debug)]
pub struct Running(JobReporter);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.health.update(self.0.name, |s| s.running = false);
    }
}

impl JobReporter {
    /// A reporter for job `name`.
    #[must_use]
    pub fn new(name: &'static str, health: std::sync::Arc<JobsHealth>, clock: Clock) -> Self {
        JobReporter {
            name,
            health,
            clock,
        }
    }

    /// The job's name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Marks the job running until the guard is dropped.
    #[must_use]
    pub fn running(&self) -> Running {
        self.health.update(self.name, |s| s.running = true);
        Running(self.clone())
    }

    /// A pass that did its work.
    pub fn ok(&self) {
        let at = (self.clock)().timestamp();
        self.health.update(self.name, |s| {
            s.passes += 1;
            s.last_success = Some(at);
        });
    }

    /// A pass that failed (already logged by the job).
    pub fn failed(&self, error: &dyn std::fmt::Display) {
        let error = error.to_string();
        self.health.update(self.name, |s| {
            s.failures += 1;
            s.last_error = Some(error);
        });
    }

    /// A pass skipped: another server holds the job.
    pub fn elsewhere(&self) {
        self.health.update(self.name, |s| s.elsewhere += 1);
    }

    /// Records how a pass under a shared job's lease went ([`SharedJob::run`]'s
    /// answer: done, failed, or run by another server), logging a failure;
    /// returns what the pass gave when it ran and worked.
    pub fn settle<T, E: std::fmt::Display>(
        &self,
        pass: Result<Option<Result<T, E>>, StoreError>,
    ) -> Option<T> {
        let error = match pass {
            Ok(Some(Ok(out))) => {
                self.ok();
                return Some(out);
            }
            Ok(None) => {
                self.elsewhere();
                return None;
            }
            Ok(Some(Err(e))) => e.to_string(),
            Err(e) => e.to_string(),
        };
        self.failed(&error);
        tracing::warn!(job = self.name, %error, "job pass failed; retried at the next tick");
        None
    }
}
