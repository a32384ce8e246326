#!/usr/bin/env bash
# A small end-to-end run of the real CLI: generate dirty data, materialize, check the numbers agree.
set -euo pipefail
cli() { node dist/src/cli/bin.js "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BILLING_HOME="$work/home" BILLING_SOURCE="$work/source" BILLING_FX_SOURCE="$work/fx/rates.csv"

cli generate --to "$BILLING_SOURCE" --from 2025-12-28 --to 2026-01-03 --rows-per-day 2000 --seed 7 --dirty-rate 0.01 --gzip --fx-rates "$BILLING_FX_SOURCE"
cli materialize
cli materialize --from 2025-12-30 --to 2025-12-31
cli insights | head -20

events=$(cli query "SELECT count(*) AS n FROM billing_events" --format csv | tail -1)
rejected=$(cli query "SELECT count(*) AS n FROM rejected_rows" --format csv | tail -1)
daily=$(cli query "SELECT sum(event_count) AS n FROM daily_aggregates" --format csv | tail -1)
sums=$(cli query "SELECT (SELECT sum(credit_usage) FROM billing_events) = (SELECT sum(total_credit_usage) FROM daily_aggregates) AS ok" --format csv | tail -1)
normalized=$(cli query "SELECT (SELECT sum(normalized_credit_usage) FROM billing_events) = (SELECT sum(total_normalized_credit_usage) FROM daily_aggregates) AS ok" --format csv | tail -1)
echo "events=$events rejected=$rejected daily=$daily sums_equal=$sums normalized_equal=$normalized"
test "$((events + rejected))" -eq 14000
test "$events" -eq "$daily"
test "$sums" = "true"
test "$normalized" = "true"
cli runs --limit 3
cli lineage daily_aggregates --partition 2026-01-01 --rows 3
cli checks daily_aggregates --partition 2026-01-01
echo "e2e ok"
