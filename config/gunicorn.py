"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi`. Each value can be set from the environment.

Sync workers: the app does no long work inside a request (imports, sends and recomputes are Celery jobs),
and every outside call it makes in a request has a short timeout (Redis, broker), so a worker is never held
for long. WEB_CONCURRENCY defaults to 2 per core + 1, the usual figure for sync workers.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A request taking longer than this is killed and logged: far above any page's time, below proxies' 60 s.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Behind a load balancer that keeps connections open between requests.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak can never grow without bound (jitter: not all at once).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# Request line and headers: the same bounds a proxy would use.
limit_request_line = 8190
limit_request_fields = 100
# Addresses of proxies allowed to set X-Forwarded-* (comma-separated); "*" only behind a private network.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Load the app once in the master, then fork: faster start and shared memory (connections open after fork).
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in ("1", "true", "yes")
