#!/usr/bin/env bash
# Whole-process wall time of `embargo scan` against `cargo audit --no-fetch` on
# the same lockfiles and the same advisories (RustSec's layout written from the
# OSV feed), and the import of the three shared feeds.
#
#   cargo build --release -p embargo && scripts/bench-scan.sh [RUNS]
#
# Needs ../shared/data/osv, python3, git and cargo-audit on PATH or in ~/.cargo/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
data="../shared/data/osv"
embargo="target/release/embargo"
audit="$(command -v cargo-audit || echo "${CARGO_HOME:-$HOME/.cargo}/bin/cargo-audit")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 crates/vulndb/tests/support/osv_to_rustsec.py "$data/crates.io/all.zip" "$work/advisory-db"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

echo "## Import of the three shared feeds (crates.io, Go, PyPI)"
for i in 1 2 3; do
  start=$(date +%s%N)
  "$embargo" db import "$data/crates.io/all.zip" "$data/Go/all.zip" "$data/PyPI/all.zip" --db "$work/osv.db" >/dev/null 2>&1
  echo "run $i: $(ms "$start") ms"
done
"$embargo" db import "$data/crates.io/all.zip" --db "$work/rust.db" >/dev/null 2>&1
echo "index size (three feeds): $(stat -c %s "$work/osv.db") bytes"

echo
echo "## embargo scan vs cargo audit --no-fetch, mean of $runs runs (ms)"
echo "| lockfile | packages | embargo scan | cargo audit | ratio |"
echo "|---|---:|---:|---:|---:|"
lockfiles=("$PWD/Cargo.lock")
while IFS= read -r f; do lockfiles+=("$f"); done < <(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/*/Cargo.lock | awk 'NR % 60 == 1' | head -4)
for lock in "${lockfiles[@]}"; do
  packages=$(grep -c '^\[\[package\]\]' "$lock")
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$embargo" scan "$lock" --db "$work/rust.db" >/dev/null || true; done
  ours=$(( $(ms "$start") ))
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$audit" audit --no-fetch --stale --db "$work/advisory-db" --file "$lock" >/dev/null 2>&1 || true; done
  theirs=$(( $(ms "$start") ))
  name="$(basename "$(dirname "$lock")")/Cargo.lock"
  awk -v n="$name" -v p="$packages" -v a="$ours" -v b="$theirs" -v r="$runs" \
    'BEGIN { printf "| %s | %d | %.1f | %.1f | %.1fx |\n", n, p, a / r, b / r, b / a }'
done
