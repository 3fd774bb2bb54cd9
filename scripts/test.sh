#!/usr/bin/env bash
# The whole check: lint, then every test against real PostgreSQL and Redis started for this run.
set -euo pipefail
cd "$(dirname "$0")/.."
# Development settings (the development SECRET_KEY, no HTTPS redirect): production is the default.
export DEBUG=${DEBUG:-true}

bash scripts/services.sh install
env_lines=$(bash scripts/services.sh start)
trap 'bash scripts/services.sh stop' EXIT
eval "$env_lines"
export DJANGO_ALLOW_ASYNC_UNSAFE=true

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null \
  || { echo "Models changed without a migration: run manage.py makemigrations" >&2; exit 1; }
.venv/bin/python -m pytest --create-db "$@"
