#!/usr/bin/env bash
# `embargo scan` against `cargo audit`, whole processes, compared honestly:
#
# - the same advisories: cargo-audit reads RustSec's own repository (the
#   snapshot in ../shared/data/rustsec-advisory-db, git-initialised in a
#   temporary copy), embargo the OSV export of the same snapshot
#   (../shared/data/osv/crates.io/all.zip);
# - cargo-audit at its fastest honest settings for the same work:
#   `--no-fetch --stale` (no network) and `--no-yanked` (embargo does not
#   check yanked crates; without the flag cargo-audit reads the local
#   crates.io index, work embargo does not do);
# - real lockfiles of public projects (crates whose published sources hold
#   their Cargo.lock, from the local cargo registry, and this repository's);
# - paired runs, A B A B…: each pair's ratio, and the median of those
#   ratios; wall time and peak memory (max RSS) of each process.
#
#   cargo build --release -p embargo && scripts/bench-scan.sh [PAIRS]
#
# Also prints the start-up floor (`embargo --version`, `/bin/true`). Needs
# GNU time (/usr/bin/time, Debian's package `time`) for peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-21}"
shared="../shared/data"
embargo="${EMBARGO_BIN:-target/release/embargo}"
audit="$(command -v cargo-audit || echo "${CARGO_HOME:-$HOME/.cargo}/bin/cargo-audit")"
registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
[ -x "$embargo" ] || { echo "build it first: cargo build --release -p embargo" >&2; exit 2; }
[ -x "$audit" ] || { echo "cargo-audit is missing: cargo install cargo-audit --locked" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time is missing: apt-get install time" >&2; exit 2; }
[ -d "$shared/rustsec-advisory-db/crates" ] || { echo "$shared/rustsec-advisory-db is absent" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp -r "$shared/rustsec-advisory-db" "$work/advisory-db"
git -C "$work/advisory-db" init -q
git -C "$work/advisory-db" add -A
git -C "$work/advisory-db" -c user.name=bench -c user.email=bench@example.org commit -q -m snapshot
"$embargo" db import "$shared/osv/crates.io/all.zip" --db "$work/rust.db" >/dev/null

# Lockfiles of 6 to 600 packages: the first registry copy of each crate named.
lockfiles=("$PWD/Cargo.lock")
for crate in jiff-static serde_json tokio lettre cargo-audit gix; do
  found="$(ls -d "$registry"/*/"$crate"-[0-9]*/Cargo.lock 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$found" ]; then lockfiles+=("$found"); else echo "note: no published Cargo.lock of $crate in $registry" >&2; fi
done

echo "advisory-db: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rustsec-advisory-db/"]["revision"])' "$shared/SOURCES.json")"
echo "cargo-audit: $("$audit" audit --version 2>/dev/null || "$audit" --version)"
echo "embargo: $("$embargo" --version), binary $(( $(stat -c %s "$embargo") / 1024 / 1024 )) MiB"
echo

python3 - "$pairs" "$embargo" "$audit" "$work" "${lockfiles[@]}" <<'PY'
import os, statistics, subprocess, sys, time

pairs, embargo, audit, work, *lockfiles = sys.argv[1:]
pairs = int(pairs)

def run(argv):
    """Wall time (ms) of one process, started directly."""
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000, None, None

def peak(argv):
    """Peak memory (MiB) of one process, by GNU time: a child forked from
    Python would count Python's own memory as its peak."""
    out = f"{work}/peak"
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out, "--", *argv],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return int(open(out).read().split()[-1]) / 1024

def paired(a, b):
    """Runs a and b alternately; returns their walls, peaks, and pair ratios b/a."""
    for argv in (a, b):  # warm the page cache, uncounted
        run(argv)
    wa, wb, ratios = [], [], []
    for i in range(pairs):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        r1, r2 = run(first), run(second)
        ra, rb = (r1, r2) if i % 2 == 0 else (r2, r1)
        wa.append(ra[0]); wb.append(rb[0])
        ratios.append(rb[0] / ra[0])
    ma = [peak(a) for _ in range(3)]
    mb = [peak(b) for _ in range(3)]
    return wa, wb, ma, mb, ratios

print("## Start-up floor, median of", pairs, "runs (ms)")
for name, argv in (("/bin/true", ["/bin/true"]), ("embargo --version", [embargo, "--version"])):
    run(argv)
    print(f"- {name}: {statistics.median(run(argv)[0] for _ in range(pairs)):.2f}")
print()
print(f"## embargo scan vs cargo audit --no-fetch --no-yanked --stale, {pairs} pairs")
print("| lockfile | packages | embargo (median ms) | cargo audit (median ms) | median pair ratio | min pair ratio | embargo peak MiB | cargo audit peak MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for lock in lockfiles:
    packages = sum(1 for line in open(lock) if line.startswith("[[package]]"))
    ours = [embargo, "scan", lock, "--db", f"{work}/rust.db"]
    theirs = [audit, "audit", "--no-fetch", "--no-yanked", "--stale", "--db", f"{work}/advisory-db", "--file", lock]
    wa, wb, ma, mb, ratios = paired(ours, theirs)
    name = lock.split("/")[-2] + "/Cargo.lock" if "registry" in lock else "this repository's Cargo.lock"
    print(f"| {name} | {packages} | {statistics.median(wa):.2f} | {statistics.median(wb):.2f} | "
          f"{statistics.median(ratios):.1f}x | {min(ratios):.1f}x | {max(ma):.1f} | {max(mb):.1f} |")
PY
