#!/usr/bin/env bash
# Two app hosts behind nginx on one machine, with the local PostgreSQL and Redis: a drill of the
# several-host setup of docs/deploy.md (issue 13 §2).
#
#   make install && bash deploy/local-cluster.sh
#
# It creates a PostgreSQL database of its own (dropped at the end), migrates it and loads the
# demo data; starts two gunicorn hosts on different ports (2 workers x 4 threads each), one job
# consumer, and nginx in front of both, all sharing one evidence/jobs folder; sends answer batches
# through nginx from a few tablet threads for LOAD_SECONDS; kills one host (kill -9) in the middle
# (nginx passes its requests to the other) and brings it back; then stops both hosts for a moment
# (the tablets get 502 and send the same batches again until a host answers); builds an export on
# the consumer; then counts in the database that every change a client was told about is stored
# exactly once and verifies the audit chain.
# Prints what it saw; exits non-zero on a lost change, a client error or a failed check.
#
# Settings (environment): PG_URL (postgresql://postgres@127.0.0.1:5432), REDIS_URL
# (redis://127.0.0.1:6379/7), NGINX_PORT (8180), HOST_A_PORT (8181), HOST_B_PORT (8182),
# LOAD_SECONDS (30), KILL_AFTER (5), RESTART_AFTER (8), BOTH_DOWN=0 skips the outage of both
# hosts, TABLETS (4), KEEP=1 keeps the work folder.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=$ROOT/.venv/bin/python
FLASK=("$ROOT/.venv/bin/flask" --app inspect_app)
PG_URL=${PG_URL:-postgresql://postgres@127.0.0.1:5432}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/7}
NGINX_PORT=${NGINX_PORT:-8180}
HOST_A_PORT=${HOST_A_PORT:-8181}
HOST_B_PORT=${HOST_B_PORT:-8182}
LOAD_SECONDS=${LOAD_SECONDS:-30}
KILL_AFTER=${KILL_AFTER:-5}
RESTART_AFTER=${RESTART_AFTER:-8}
BOTH_DOWN=${BOTH_DOWN:-1}
TABLETS=${TABLETS:-4}
RUN=cluster$$
DB=inspect_$RUN
BASE=http://127.0.0.1:$NGINX_PORT

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

[ -x "$PY" ] || { echo "No .venv: run 'make install' first." >&2; exit 2; }
if ! command -v nginx >/dev/null; then
    say "installing nginx (Debian)"
    apt-get install -y nginx >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y nginx >/dev/null; }
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d /tmp/inspect-cluster.XXXXXX)
mkdir -p "$WORK/shared" "$WORK/logs"
declare -A PIDS=()
NGINX_UP=0
DB_MADE=0

stop_group() {  # the process group a service was started in (gunicorn master + workers)
    local pid=${PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill -"${2:-TERM}" -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    unset "PIDS[$1]"
}

cleanup() {
    local code=$?
    set +e
    [ "$NGINX_UP" = 1 ] && "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -s quit 2>/dev/null
    for name in "${!PIDS[@]}"; do stop_group "$name"; done
    if [ "$DB_MADE" = 1 ]; then
        psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    fi
    redis-cli -u "$REDIS_URL" --scan --pattern "*$RUN*" 2>/dev/null |
        xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1
    if [ "${KEEP:-0}" = 1 ] || [ "$code" != 0 ]; then
        say "logs kept in $WORK/logs"
    else
        rm -rf "$WORK"
    fi
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One configuration for every process: the same database, Redis, secrets and shared folders.
export INSPECT_DATABASE_URL="postgresql+psycopg://${PG_URL#postgresql://}/$DB"
export INSPECT_REDIS_URL=$REDIS_URL
export INSPECT_JOBS_QUEUE_NAME=inspect-$RUN
export INSPECT_RATELIMIT_KEY_PREFIX=inspect-$RUN
export INSPECT_SECRET_KEY=cluster-$(openssl rand -hex 24)
export INSPECT_AUDIT_HMAC_KEY=cluster-audit-$(openssl rand -hex 24)
export INSPECT_UPLOAD_DIR=$WORK/shared/evidence
export INSPECT_JOBS_DIR=$WORK/shared/jobs
export INSPECT_EXPORT_DIR=$WORK/shared/exports
export INSPECT_AUDIT_ANCHOR_FILE=$WORK/shared/audit-anchors.log
export INSPECT_PROXY_HOPS=1
export INSPECT_GUNICORN_WORKERS=${WORKERS:-2}
export INSPECT_GUNICORN_THREADS=${THREADS:-4}
cd "$ROOT"

say "database $DB on $PG_URL, Redis $REDIS_URL, work folder $WORK"
psql -q "$PG_URL/postgres" -c "CREATE DATABASE \"$DB\"" >/dev/null
DB_MADE=1
"$PY" scripts/i18n.py compile >/dev/null
"${FLASK[@]}" db upgrade >"$WORK/logs/setup.log" 2>&1
"${FLASK[@]}" checklists load >>"$WORK/logs/setup.log" 2>&1
"${FLASK[@]}" demo seed >>"$WORK/logs/setup.log" 2>&1
say "migrated and seeded: $(tail -1 "$WORK/logs/setup.log")"

start() {  # name, then the command; each in its own process group, output to logs/NAME.log
    local name=$1
    shift
    setsid "$@" >"$WORK/logs/$name.log" 2>&1 &
    PIDS[$name]=$!
    disown  # its end (kill -9 below) is reported here, not by the shell
}

wait_healthy() {  # url, seconds
    for _ in $(seq $(($2 * 5))); do
        curl -fsS -o /dev/null "$1/healthz" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "$1 did not become healthy; see $WORK/logs" >&2
    return 1
}

start_host() {  # a or b
    local port=$HOST_A_PORT
    [ "$1" = b ] && port=$HOST_B_PORT
    start "host-$1" "$ROOT/.venv/bin/gunicorn" --bind "127.0.0.1:$port"
}

start consumer "${FLASK[@]}" jobs worker
start_host a
start_host b
wait_healthy "http://127.0.0.1:$HOST_A_PORT" 90
wait_healthy "http://127.0.0.1:$HOST_B_PORT" 90
say "host A on :$HOST_A_PORT (group ${PIDS[host-a]}), host B on :$HOST_B_PORT, consumer up"

USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user root;"
sed -e "s|@WORK@|$WORK|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@USER_LINE@|$USER_LINE|" \
    -e "s|@HOST_A@|127.0.0.1:$HOST_A_PORT|" -e "s|@HOST_B@|127.0.0.1:$HOST_B_PORT|" \
    deploy/nginx-cluster.conf.template >"$WORK/nginx.conf"
"$NGINX" -t -q -p "$WORK" -c "$WORK/nginx.conf"
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf"
NGINX_UP=1
wait_healthy "$BASE" 10
say "nginx on :$NGINX_PORT in front of both"

read -r -a SPECS <<<"$("$PY" deploy/cluster_load.py tablets --count "$TABLETS")"
say "load: ${#SPECS[@]} tablets (${SPECS[*]}) for ${LOAD_SECONDS}s through nginx"
"$PY" deploy/cluster_load.py load --base "$BASE" --seconds "$LOAD_SECONDS" \
    --out "$WORK/result.json" "${SPECS[@]}" >"$WORK/logs/load.out" 2>&1 &
LOAD_PID=$!
sleep "$KILL_AFTER"
say "kill -9 host A (master and workers) in the middle of the load"
stop_group host-a KILL
sleep $((RESTART_AFTER - KILL_AFTER))
start_host a
wait_healthy "http://127.0.0.1:$HOST_A_PORT" 90
say "host A restarted and healthy"
if [ "$BOTH_DOWN" = 1 ] && kill -0 "$LOAD_PID" 2>/dev/null; then
    sleep 2
    say "kill -9 both hosts: no host answers, nginx returns 502, the tablets keep their batches"
    stop_group host-a KILL
    stop_group host-b KILL
    sleep 2
    start_host a
    start_host b
    wait_healthy "http://127.0.0.1:$HOST_A_PORT" 90
    wait_healthy "http://127.0.0.1:$HOST_B_PORT" 90
    say "both hosts back"
fi
FAILED=0
wait "$LOAD_PID" || FAILED=1
say "load done: $(cat "$WORK/logs/load.out")"

say "export job through nginx, built by the consumer, fetched from either host:"
"$PY" deploy/cluster_load.py job --base "$BASE" --year "$(date +%Y)" || FAILED=1

LOG=$WORK/nginx-access.log
answers() { grep -c "/answers" "$LOG" || true; }
say "nginx: $(answers) answer batches; by host:" \
    "A $(grep "/answers" "$LOG" | grep -c "upstream=127.0.0.1:$HOST_A_PORT " || true)," \
    "B $(grep "/answers" "$LOG" | grep -c "upstream=127.0.0.1:$HOST_B_PORT " || true);" \
    "passed on to the other host after a failure: $(grep "/answers" "$LOG" | grep -c 'upstream=[^ ]*, ' || true);" \
    "5xx returned to clients: $(awk '$0 ~ /\/answers/ && $7 ~ /^5/' "$LOG" | wc -l)"

"$PY" deploy/cluster_load.py verify "$WORK/result.json" || FAILED=1
"${FLASK[@]}" audit anchor >/dev/null 2>&1 || FAILED=1  # what cron does nightly
if AUDIT=$("${FLASK[@]}" audit verify 2>&1); then :; else FAILED=1; fi
say "flask audit verify: $(tail -1 <<<"$AUDIT")"
if [ "$FAILED" = 0 ]; then
    say "RESULT: OK: no lost change, no client error, audit chain intact"
else
    say "RESULT: FAILED (see above and $WORK/logs)"
fi
exit "$FAILED"
