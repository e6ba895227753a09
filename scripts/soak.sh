#!/usr/bin/env bash
# The soak run (not part of CI): two `embargo serve` processes (a release
# build) on one private PostgreSQL cluster under mixed load for
# EMBARGO_TEST_SOAK_MINUTES (default 30) — public reports, workflow moves,
# messages to reporters, SBOM uploads, webhooks and email to receivers whose
# latency varies from 1 ms to 3 s — with the second server killed (kill -9)
# and restarted every 1–3 minutes and PostgreSQL crashed and restarted once.
# It fails if an acknowledged write is lost, a message is not delivered, a
# message is repeated more often than there were failures between a send and
# its record, the audit does not verify, or the first server's memory grows
# by half after warm-up. The summary goes to stderr and to
# ${EMBARGO_TEST_SOAK_REPORT:-target/soak-report.txt}; RELIABILITY.md keeps
# the figures of a run.
#
# Needs PostgreSQL's server binaries (initdb, pg_ctl under /usr/lib/postgresql)
# and, as root, a `postgres` user to run the private cluster as.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p embargo
binary="$(mktemp -d)/embargo"
# A copy, so that rebuilding during the run changes nothing it starts.
cp "${CARGO_TARGET_DIR:-target}/release/embargo" "$binary"
export EMBARGO_TEST_BINARY="$binary"
export EMBARGO_TEST_SOAK_MINUTES="${EMBARGO_TEST_SOAK_MINUTES:-30}"
export EMBARGO_TEST_SOAK_REPORT="${EMBARGO_TEST_SOAK_REPORT:-$PWD/target/soak-report.txt}"
cargo test --locked -p embargo --test it soak -- --ignored --nocapture
echo "summary: $EMBARGO_TEST_SOAK_REPORT"
