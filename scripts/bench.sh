#!/usr/bin/env bash
# The metrics benchmark: a full recompute on real Celery workers against a one-statement SQL baseline,
# on a throwaway PostgreSQL and Redis. BENCH_CUSTOMERS sets the size (default 100000). The JSON result
# is the last line of the output.
set -euo pipefail
cd "$(dirname "$0")/.."
# Development settings (the development SECRET_KEY, no HTTPS redirect): production is the default.
export DEBUG=${DEBUG:-true}

bash scripts/services.sh install
env_lines=$(bash scripts/services.sh start)
trap 'bash scripts/services.sh stop' EXIT
eval "$env_lines"
export DJANGO_ALLOW_ASYNC_UNSAFE=true

.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py bench_metrics --customers "${BENCH_CUSTOMERS:-100000}" --json
