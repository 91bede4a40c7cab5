#!/usr/bin/env bash
# One node, walked through: init, parties and desks, a line, send, ack, log and verify.
# Everything happens in a temporary folder that is removed at the end.
set -euo pipefail

export HOTLINE_HOME
HOTLINE_HOME="$(mktemp -d -t hotline-walkthrough.XXXXXX)/node"
trap 'rm -rf "$(dirname "$HOTLINE_HOME")"' EXIT
export COLUMNS="${COLUMNS:-120}"

step() { printf '\n\033[1;36m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
refused() {
  printf '\033[2m$ %s\033[0m\n' "$*"
  local code=0
  "$@" || code=$?
  if [ "$code" -eq 0 ] || [ "$code" -gt 9 ]; then echo "expected a refusal, got exit $code" >&2; exit 1; fi
}

step "A node for the United States, in $HOTLINE_HOME"
run hotline init --party US --name "United States"

step "Russia's node is simulated on this same node (--hosted): it holds RU's keys, for a single-machine trial"
run hotline party add RU --name "Russian Federation" --hosted
run hotline principal add US/EUCOM-JOC --role watch_officer --name "EUCOM Joint Operations Centre"
run hotline principal add US/DATT-MOSCOW --role relay --name "US Defence Attache, Moscow"
run hotline principal add RU/NDMC --role watch_officer --name "National Defence Management Centre"
run hotline principal add RU/MINDEF --role leader --name "Ministry of Defence"
run hotline principal list

step "Lines exist once both parties have signed their terms"
run hotline line create us-ru-deconfliction --kind deconfliction --title "EUCOM - NDMC deconfliction line" \
    --member US/EUCOM-JOC --member RU/NDMC
run hotline line accept us-ru-deconfliction --party RU
run hotline line create us-ru-attache --kind relay --title "Via the US defence attache in Moscow" \
    --member US/DATT-MOSCOW --member US/EUCOM-JOC --member RU/MINDEF
run hotline line accept us-ru-attache --party RU
run hotline line list

step "A FLASH notification on the deconfliction line"
run hotline send --line us-ru-deconfliction --as US/EUCOM-JOC --kind notification --precedence FLASH \
    --subject "Surveillance flight over the Baltic Sea" \
    --body "An RC-135 will fly in international airspace over the Baltic Sea. Not directed at Russia." \
    --area '{"center": [20.0, 56.5], "radius": 150, "unit": "km"}' \
    --start 2026-03-01T14:00:00Z --end 2026-03-01T18:00:00Z --activity surveillance_flight

step "A deconfliction line is not a complaint line: the protest is refused, and the error says where it belongs"
refused hotline send --line us-ru-deconfliction --as US/EUCOM-JOC --kind protest --precedence ROUTINE \
    --subject "Unsafe intercept" --body "Protest of an unsafe intercept."
run hotline send --line us-ru-attache --as US/DATT-MOSCOW --kind protest --precedence PRIORITY \
    --subject "Unsafe intercept" --body "Protest of an unsafe intercept over the Black Sea."

step "Bad input is refused and nothing is stored"
refused hotline send --line us-ru-deconfliction --as US/EUCOM-JOC --precedence URGENT --subject x --body y
refused hotline send --line us-ru-deconfliction --as US/EUCOM-JOC --subject x --body y \
    --area '{"type": "Polygon", "coordinates": [[[20, 56], [21, 56], [21, 57]]]}'

step "Russia's inbox, most urgent first, with the time left to acknowledge"
run hotline inbox --party RU

step "NDMC acknowledges the FLASH with a reply"
flash=$(hotline inbox --party RU --json | python3 -c 'import json,sys; print([m["id"] for m in json.load(sys.stdin) if m["precedence"]=="FLASH"][0])')
run hotline ack "${flash:0:12}" --as RU/NDMC --reply "Received. Understood." --lang en
refused hotline ack "${flash:0:12}" --as RU/NDMC
run hotline inbox --party RU --all

step "The line's record: both parties' chains, messages, receipts and the acknowledgement"
run hotline log us-ru-deconfliction

step "Deadlines escalate: the policy of the deconfliction line (resend, relay via the attache, alert leadership)"
run hotline escalation show us-ru-deconfliction

step "The Secretary of Defense asks for a call; the minister declines; another request goes unanswered"
run hotline principal add US/SECDEF --role leader --name "Secretary of Defense"
run hotline line create us-ru-leaders --kind leaders --title "Defence leaders" \
    --member US/SECDEF --member RU/MINDEF
run hotline line accept us-ru-leaders --party RU
run hotline contact request --from US/SECDEF --to RU/MINDEF --topic "Strikes near the Polish border"
asked=$(hotline contact list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
run hotline contact decline "${asked:0:12}" --as RU/MINDEF --reason "The minister is unavailable."
run hotline contact request --from US/SECDEF --to RU/MINDEF --topic "Incident over the Black Sea" --window 1s
sleep 1.2
run hotline escalation run
run hotline contact stats --days 30

step "A launch notified only 12 hours ahead: refused until the sender confirms the short notice, which is recorded"
start=$(python3 -c 'from datetime import datetime,timedelta,UTC; print((datetime.now(UTC)+timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
end=$(python3 -c 'from datetime import datetime,timedelta,UTC; print((datetime.now(UTC)+timedelta(hours=13)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
refused hotline notice send --line us-ru-deconfliction --as US/EUCOM-JOC --activity missile_launch \
    --start "$start" --end "$end" --area '{"center":[-120.6,34.7],"radius":10,"unit":"km"}' \
    --unit "Test squadron" --remark "Scheduled test launch."
run hotline notice send --line us-ru-deconfliction --as US/EUCOM-JOC --activity missile_launch \
    --start "$start" --end "$end" --area '{"center":[-120.6,34.7],"radius":10,"unit":"km"}' \
    --unit "Test squadron" --remark "Scheduled test launch." --confirm-short-notice
notice=$(hotline notice list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
run hotline read "${notice:0:12}" --lang ru

step "A pre-agreed message: a code word and a number on the wire, read by each side in its own language"
run hotline catalogue import starter
run hotline catalogue adopt us-ru-deconfliction starter
run hotline catalogue adopt us-ru-deconfliction starter --party RU
run hotline catalogue send --line us-ru-deconfliction --as US/EUCOM-JOC OLIVE 1 --slot activity="air patrol"
coded=$(hotline log us-ru-deconfliction --json | python3 -c 'import json,sys; print([e["id"] for e in json.load(sys.stdin) if e["body"]["kind"]=="message"][-1])')
run hotline read "${coded:0:12}" --lang ru

step "Verify: every id re-derived, every signature and link checked"
run hotline verify

step "Someone quietly rewrites the FLASH message in the database..."
python3 - "$HOTLINE_HOME/hotline.db" "$flash" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TRIGGER events_no_update")
db.execute("UPDATE events SET raw = replace(raw, 'Not directed', 'Directed') WHERE id = ?", (sys.argv[2],))
db.commit()
print("  (trigger dropped, message text edited in place)")
PY
refused hotline verify
printf '\n\033[1;32mwalkthrough complete\033[0m: the edit was found and the event named.\n'
