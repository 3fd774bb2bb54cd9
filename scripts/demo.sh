#!/usr/bin/env bash
# Runs Rapport with demo data on the embedded defaults: SQLite and a filesystem Celery broker.
set -euo pipefail
cd "$(dirname "$0")/.."
# Development settings (the development SECRET_KEY, no HTTPS redirect): production is the default.
export DEBUG=${DEBUG:-true}
PY=.venv/bin/python
PORT=${PORT:-8000}

$PY manage.py migrate --noinput
# Users first: the demo customers are given owners among the agents and managers.
$PY manage.py create_demo_users
# An existing database is kept (seed_demo says so when its size differs); DEMO_RESET=1 reloads it.
if [ "${DEMO_RESET:-0}" = "1" ]; then
  $PY manage.py seed_demo --customers "${DEMO_CUSTOMERS:-3000}" --reset
else
  $PY manage.py seed_demo --customers "${DEMO_CUSTOMERS:-3000}" --if-empty
fi
$PY manage.py recompute_metrics --sync

.venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 >var/worker.log 2>&1 &
worker=$!
.venv/bin/celery -A config beat --loglevel=INFO >var/beat.log 2>&1 &
beat=$!
trap 'kill $worker $beat 2>/dev/null || true' EXIT
echo "Celery worker and beat are running (logs in var/worker.log and var/beat.log)."
echo "Another size: DEMO_RESET=1 DEMO_CUSTOMERS=50000 make demo (deletes the demo customers and loads new ones)."
echo "Open http://127.0.0.1:$PORT/ and log in with one of the accounts above. Ctrl-C stops everything."
$PY manage.py runserver "127.0.0.1:$PORT"
