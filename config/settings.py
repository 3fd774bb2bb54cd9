"""Rapport settings. Everything that differs between machines comes from the environment."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RAPPORT_VAR_DIR", str(BASE_DIR / "var")))

# Secure by default: without DEBUG=true these are production settings. The development key is
# used only when DEBUG is on (scripts/demo.sh and scripts/test.sh turn it on explicitly).
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment to a long random value "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'), or set DEBUG=true "
            "on a development machine."
        )
    SECRET_KEY = "insecure-dev-key-used-only-with-debug-on-0123456789abcdef"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS. On unless the environment turns them off (a trial on plain HTTP behind nothing).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Behind a TLS-terminating proxy: "HTTP_X_FORWARDED_PROTO,https" (only if the proxy always sets it).
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https")
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header[0], _proxy_ssl_header[1])
# The health check is asked over plain HTTP by load balancers.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Staff sessions end after a working day, or when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 10 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "core",
    "customers",
    "surveys",
    "metrics",
    "support",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the request: NUL, surrogates, undecodable bodies and oversized bodies get a 4xx.
    "core.middleware.RejectBadInputMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.otp.OTPRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "customers.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Persistent connections, checked before each request's first query: after a database restart the
        # next request reconnects instead of failing, and no process needs restarting.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 60),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share the demo database.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
# Seconds to wait for Redis (cache and broker): a frozen or unreachable Redis costs a request at most this
# long, then the cache is bypassed for a few seconds (core.cache) and publishing gives up (the sweep heals).
REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 0.3)
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.5)
if REDIS_URL:
    CACHES = {
        "default": {
            # Fails open: an unreachable Redis reads as a miss and drops writes, with a warning.
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses locked-out accounts and addresses before checking the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one account (from anywhere)
# or from one address (for any account), logins are refused for AXES_COOLOFF_MINUTES. An admin unlocks
# at once by deleting the "Access attempts" rows in the Django admin (or `manage.py axes_reset`).
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a proxy, the header with the client's address (same variable as the survey rate limit).
if env_str("RATELIMIT_IP_META_KEY", ""):
    AXES_IPWARE_META_PRECEDENCE_ORDER = [env_str("RATELIMIT_IP_META_KEY", ""), "REMOTE_ADDR"]

# Two-factor (TOTP, django-otp): optional for every staff member (/accounts/two-factor/), required before
# any page for the roles listed here (e.g. "manager,admin"; empty = nobody is forced).
OTP_REQUIRED_ROLES = env_list("OTP_REQUIRED_ROLES", [])
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Rapport")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "support:work"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("th", "ไทย"),
    ("zh-hant", "繁體中文"),
    ("ms", "Bahasa Melayu"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Reports group by day, week and month in this one zone.
TIME_ZONE = env_str("TIME_ZONE", "Asia/Bangkok")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Served by whitenoise from STATIC_ROOT (run `manage.py collectstatic` at deploy); hashed, compressed
# names in production, plain files while developing.
# While developing, whitenoise serves straight from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Chart.js, installed by `npm install` during set-up and served from here (no CDN).
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Rapport <no-reply@rapport.example>")
# Replies to customers come from here (their answers should reach the support mailbox); empty: DEFAULT_FROM_EMAIL.
SUPPORT_FROM_EMAIL = env_str("SUPPORT_FROM_EMAIL", "")
SUPPORT_SLA_WARNING_MINUTES = env_int("SUPPORT_SLA_WARNING_MINUTES", 30)
# Absolute links in emails (survey invitations) start with this.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# ISO 4217 code that revenue, AOV, CLV and RFM are computed in; orders in other currencies are converted
# at the ExchangeRate in effect on their day (customers.money).
BASE_CURRENCY = env_str("BASE_CURRENCY", "USD").upper()

# Celery. The embedded default needs no server: kombu's filesystem transport in var/broker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # A task's message goes back to the queue this long after a worker took it without acknowledging it
    # (acks_late tasks of a crashed worker): a few minutes above the longest task's time limit, so a
    # crash delays a full recompute by minutes, never by Redis's default hour. Short socket timeouts keep
    # a frozen Redis from holding a web request; workers reconnect on their own (see config/celery.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 15 * 60),
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "retry_on_timeout": False,
        "health_check_interval": 25,
        # A publisher tries to connect once (kombu would otherwise retry for 2 s); the worker's consumer
        # has its own, endless retry (CELERY_BROKER_CONNECTION_MAX_RETRIES below).
        "max_retries": 0,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
# Workers keep trying through an outage of any length, at start-up too.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Publishing from a web request gives up at once when the broker is away: every enqueue after commit is
# backed by a stale mark or a job row that the periodic sweeps pick up, so nothing is lost.
CELERY_TASK_PUBLISH_RETRY = env_bool("CELERY_TASK_PUBLISH_RETRY", False)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# Explicit limits on every task (no task takes more than a minute at a million customers); the
# visibility timeout above must stay a few minutes longer than the hard limit.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 10 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Queues by kind, so a bulk send never delays an answer's recompute. A worker started without -Q
# consumes them all (the demo and the tests); in production run one worker per kind (README, Production).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "metrics.tasks.recompute_customers": {"queue": "recompute-incremental"},
    "metrics.tasks.sweep_stale": {"queue": "recompute-incremental"},
    "metrics.tasks.*": {"queue": "recompute-full"},
    "surveys.tasks.send_invitation_email": {"queue": "messages"},
    "surveys.tasks.run_send_job": {"queue": "messages"},
    "surveys.tasks.send_due_reminders": {"queue": "messages"},
    "*.tasks.*email*": {"queue": "messages"},
    "*.tasks.*webhook*": {"queue": "messages"},
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Seeds django-celery-beat's tables; edit the schedules in the admin afterwards.
CELERY_BEAT_SCHEDULE = {
    "metrics-sweep-stale": {"task": "metrics.tasks.sweep_stale", "schedule": 60.0},
    "metrics-watch-runs": {"task": "metrics.tasks.watch_runs", "schedule": 60.0},
    "metrics-full-recompute": {
        "task": "metrics.tasks.start_full_recompute",
        "schedule": crontab(hour=2, minute=15),
    },
    "surveys-send-reminders": {"task": "surveys.tasks.send_due_reminders", "schedule": 15 * 60.0},
    "support-warn-sla-breaches": {"task": "support.tasks.warn_sla_breaches", "schedule": 5 * 60.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["customers.roles.IsAgent"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only, with a nesting limit and no NUL or unpaired surrogates (core.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Every API error is JSON, a server error included (core.errors).
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_THROTTLE_USER", "5000/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rapport API",
    "DESCRIPTION": "Customers, interactions, orders, engagement, surveys and metrics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind" or "channel" with different choices: name their enums apart.
    "ENUM_NAME_OVERRIDES": {
        "InteractionKindEnum": "customers.models.Interaction.Kind",
        "InteractionChannelEnum": "customers.models.Interaction.Channel",
        "EventKindEnum": "customers.models.EngagementEvent.Kind",
        "SegmentKindEnum": "customers.models.Segment.Kind",
        "SurveyKindEnum": "surveys.models.Survey.Kind",
        "InvitationChannelEnum": "surveys.models.Invitation.Channel",
    },
}

# Public survey endpoints, per client address.
SURVEY_RATE_LIMIT = env_str("SURVEY_RATE_LIMIT", "60/m")
# Survey fatigue: days between invitations of the same or a higher rank (surveys.rules).
SURVEY_COOLDOWN_DAYS = env_int("SURVEY_COOLDOWN_DAYS", 7)
# Predictive value (metrics.predictive_engine): annual rate discounting the predicted 12-month
# value month by month, and days without an order after which a customer counts as likely lapsed
# (0: the 90th percentile of repeat customers' mean days between purchase days, from the data).
CLV_DISCOUNT_RATE = float(env_str("CLV_DISCOUNT_RATE", "0.10"))
CLV_LAPSE_DAYS = env_int("CLV_LAPSE_DAYS", 0)
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
# An unreachable cache lets requests through (core.cache logs it) instead of refusing every customer.
RATELIMIT_FAIL_OPEN = True
# Behind a reverse proxy every request comes from the proxy: name the header with the client's
# address (e.g. HTTP_X_FORWARDED_FOR) so each customer has their own budget.
if env_str("RATELIMIT_IP_META_KEY", ""):
    RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY", "")
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Support cost per logged interaction, for the profile's support cost figure (0 = not set).
SUPPORT_COST_PER_INTERACTION = env_str("SUPPORT_COST_PER_INTERACTION", "0")

# Request bodies (forms, JSON) above this many bytes get a 413; file uploads are limited by each form.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
# /healthz?strict=1 fails when the last finished full recompute is older than this (seconds).
HEALTHZ_MAX_RECOMPUTE_AGE = env_int("HEALTHZ_MAX_RECOMPUTE_AGE", 36 * 3600)
# JSON bodies nested deeper than this get a 400 (core.parsers).
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 32)

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no inline
# script anywhere. Inline style *attributes* stay allowed (bar widths, heat-map cells): they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# One handler, on the root logger; Django's own loggers (which have their own console handler under
# DEBUG) only propagate to it, so each line is written once. LOG_FORMAT=json writes JSON lines.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_forbidden_traceback": {"()": "core.logs.NoForbiddenTraceback"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if env_str("LOG_FORMAT", "text") == "json" else "text",
            "filters": ["no_forbidden_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
    },
}
