#!/usr/bin/env bash
# Paired before/after runs of the API benchmark (crates/embargo/benches/api.rs):
# builds the benchmark at BEFORE (a commit) and at the working tree, runs PAIRS
# pairs alternating the order (old-new, new-old, ...) so that drift on the
# machine falls on both alike, and prints each figure's medians and the median
# of the pair ratios (after ÷ before).
#
#   scripts/bench-pairs.sh 55de0a7            # 10 pairs, both stores
#   PAIRS=4 scripts/bench-pairs.sh 55de0a7
#
# The sizes come from EMBARGO_BENCH_CASES / _READS / _ADVISORIES (defaults
# here: 1000 / 2000 / 50); PostgreSQL is used when EMBARGO_TEST_POSTGRES_URL
# is set.
set -euo pipefail
cd "$(dirname "$0")/.."
before="${1:?usage: scripts/bench-pairs.sh BEFORE-COMMIT}"
pairs="${PAIRS:-10}"
export EMBARGO_BENCH_CASES="${EMBARGO_BENCH_CASES:-1000}"
export EMBARGO_BENCH_READS="${EMBARGO_BENCH_READS:-2000}"
export EMBARGO_BENCH_ADVISORIES="${EMBARGO_BENCH_ADVISORIES:-50}"
work="${TMPDIR:-/tmp}/embargo-bench-pairs"
mkdir -p "$work/out"
rm -f "$work"/out/*.txt

binary() { # the newest api bench binary under a target directory
  find "$1/release/deps" -maxdepth 1 -type f -executable -name 'api-*' -printf '%T@ %p\n' |
    sort -n | tail -n1 | cut -d' ' -f2
}

if [ ! -d "$work/before" ]; then
  git worktree add --detach "$work/before" "$before" >/dev/null
else
  git -C "$work/before" checkout --detach --quiet "$before"
fi
(cd "$work/before" && CARGO_TARGET_DIR="$work/before-target" cargo build --quiet --release --locked -p embargo --bench api)
cargo build --quiet --release --locked -p embargo --bench api
old="$(binary "$work/before-target")"
new="$(binary target)"

for i in $(seq 1 "$pairs"); do
  if [ $((i % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
  for which in $order; do
    if [ "$which" = old ]; then bin="$old"; else bin="$new"; fi
    "$bin" --bench >"$work/out/$which-$i.txt" 2>/dev/null
  done
  echo "pair $i of $pairs done" >&2
done

python3 - "$work/out" "$pairs" <<'PY'
import re, statistics, sys, pathlib
out, pairs = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def figures(text):
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 6 and cells[0] in ('sqlite', 'postgres'):
            store = cells[0]
            for name, cell in zip(['case creations/s', 'public reports/s', 'case reads/s', 'case read p99 (ms)'],
                                  [cells[1], cells[2], cells[3], cells[5]]):
                found[(store, name)] = float(cell.split()[0])
        elif len(cells) == 5 and cells[0] in ('sqlite', 'postgres'):
            found[(cells[0], cells[1] + ' reads/s')] = float(cells[2])
            found[(cells[0], cells[1] + ' p99 (ms)')] = float(cells[4].split()[0])
    return found
runs = {w: [figures((out / f'{w}-{i}.txt').read_text()) for i in range(1, pairs + 1)] for w in ('old', 'new')}
print('| store | figure | before (median) | after (median) | after ÷ before (median of the pair ratios) |')
print('|---|---|---|---|---|')
for key in runs['old'][0]:
    olds = [r[key] for r in runs['old']]
    news = [r[key] for r in runs['new']]
    ratios = [n / o for o, n in zip(olds, news) if o]
    print(f'| {key[0]} | {key[1]} | {statistics.median(olds):,.2f} | {statistics.median(news):,.2f} | {statistics.median(ratios):.2f} |')
PY
