#!/usr/bin/env bash
# Run a monitoring scan for cron; when it finds alerts at or above $RISKCLI_FAIL_ON (exit 10),
# mail the JSON to $RISKCLI_ALERT_MAIL and/or post it to $RISKCLI_ALERT_WEBHOOK.
#
#   RISKCLI_DB, RISKCLI_USER, RISKCLI_PASSPHRASE_FILE   the store and how to unlock it
#   RISKCLI_FAIL_ON        severity that triggers a notification (default: high)
#   RISKCLI_ALERT_MAIL     address(es) for `mail` (or `sendmail` when there is no `mail`)
#   RISKCLI_ALERT_WEBHOOK  URL that receives the JSON by HTTP POST (curl)
#   RISKCLI_BIN            the riskcli executable (default: riskcli on PATH)
#
# Exit code: 0 nothing to report or notified; 10 alerts found but no notification channel
# worked; any other code is riskcli's own (1 lock held/failure, 3 access...), for cron to mail.
set -uo pipefail

riskcli="${RISKCLI_BIN:-riskcli}"
fail_on="${RISKCLI_FAIL_ON:-high}"
out="$(mktemp -t riskcli-alerts-XXXXXX.json)"
trap 'rm -f "$out"' EXIT

"$riskcli" monitor run --format json --fail-on "$fail_on" >"$out"
code=$?
if [ "$code" -ne 10 ]; then
    exit "$code"    # 0: nothing at or above $fail_on; anything else: cron mails stderr
fi

count="$(grep -c '"severity"' "$out" || true)"
subject="riskcli: ${count} new or escalated alert(s), some ${fail_on} or worse ($(hostname -s))"
sent=1

if [ -n "${RISKCLI_ALERT_MAIL:-}" ]; then
    if command -v mail >/dev/null 2>&1; then
        mail -s "$subject" $RISKCLI_ALERT_MAIL <"$out" && sent=0
    elif command -v sendmail >/dev/null 2>&1; then
        { printf 'Subject: %s\nTo: %s\nContent-Type: application/json; charset=utf-8\n\n' \
            "$subject" "$RISKCLI_ALERT_MAIL"; cat "$out"; } | sendmail -t && sent=0
    else
        echo "riskcli-monitor: neither mail nor sendmail is installed" >&2
    fi
fi

if [ -n "${RISKCLI_ALERT_WEBHOOK:-}" ]; then
    curl --silent --show-error --fail --max-time 30 \
        -H 'Content-Type: application/json' --data-binary "@$out" \
        "$RISKCLI_ALERT_WEBHOOK" >/dev/null && sent=0
fi

if [ "$sent" -ne 0 ]; then
    echo "riskcli-monitor: $subject, but no notification was delivered" >&2
    cat "$out"     # cron mails stdout as a last resort
    exit 10
fi
exit 0
