#!/usr/bin/env bash
# The whole pipeline on the embedded example data, in a temporary folder (`make demo`).
# Each capability adds its step in its own section below.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:-$(mktemp -d -t riskcli-demo-XXXXXX)}"
mkdir -p "$work"
export RISKCLI_DB="$work/demo.db"
export RISKCLI_USER=demo
export RISKCLI_PASSPHRASE_FILE="$work/passphrase.txt"
export COLUMNS="${COLUMNS:-120}"
printf 'demo passphrase, not for real data\n' > "$RISKCLI_PASSPHRASE_FILE"
chmod 600 "$RISKCLI_PASSPHRASE_FILE"
step() { printf '\n== %s\n' "$*" >&2; }

step "riskcli init (store in $work)"
riskcli init

# --- section: import
step "riskcli import: the sample book (UTF-8), a GBK file from Excel with Chinese headers, a bad file"
for kind in customers transactions receivables credit-reports contracts interactions financials; do
  riskcli import "$kind" "$here/${kind//-/_}.csv" --format table
done
riskcli import customers "$here/customers_gbk.csv" --format table
if ! riskcli import customers "$here/customers_bad.csv" --rejects "$work/rejects.csv" --format table; then
  echo "(customers_bad.csv was refused as a whole: nothing written; the reasons are in $work/rejects.csv)" >&2
fi
step "riskcli import: the same file again changes nothing"
riskcli import customers "$here/customers.csv" --format table
riskcli import history --format table
riskcli customers list --region 华东 --format table
# --- /section: import

# --- section: tier
step "riskcli tier: RFM segments, value tiers A-D, lifecycle stages"
riskcli tier run --as-of 2026-09-30 --format table
riskcli tier summary --format table
# --- /section: tier

# --- section: score
step "riskcli score: the expert scorecard, a trained one where the history allows, a run"
riskcli score expert --format table
if riskcli score train --from-store --format table; then
  riskcli score models promote 2 --format table
else
  echo "(too little default history to train: the expert scorecard stays champion)" >&2
fi
if riskcli score run --as-of 2026-09-30 --format table; then
  riskcli score distribution --format table
  riskcli score list --limit 5 --format table            # the five worst scores
fi
# --- /section: score

# --- section: monitor
step "riskcli monitor: scan as of the sample book's date (exit 10 = alerts at or above high), then the open alerts"
riskcli monitor run --as-of 2026-09-30 --fail-on high --format csv > "$work/alerts.csv" || [ $? -eq 10 ]
riskcli monitor alerts --severity critical --format table
riskcli contracts list --expiring 90d --as-of 2026-09-30 --format table
# --- /section: monitor

# --- section: backup
step "riskcli backup create / verify / list / drill"
riskcli backup create --label demo --format table
riskcli backup verify --all --format table
riskcli backup list --format table
riskcli backup drill --format table
# --- /section: backup

# --- section: access
# --- /section: access

step "riskcli status"
riskcli status --format table

# --- section: report
step "riskcli report portfolio --format html"
riskcli report portfolio --as-of 2026-09-30 --format html --output "$work/portfolio.html" --force
# --- /section: report

step "done: the demo store is $RISKCLI_DB"
