"""The one settings module. Every value comes from the environment; bad values stop start-up."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from config.env import (
    ConfigError,
    celery_broker_url,
    check_redis_url,
    env_bool,
    env_choice,
    env_decimal,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_origins,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var")) or "")

DEBUG = env_bool("DEBUG", False)

_secret = env_str("SECRET_KEY")
if _secret is None:
    if not DEBUG:
        raise ConfigError("SECRET_KEY is not set: it is required when DEBUG is false")
    _secret = "django-insecure-dev-only-key-change-me-0123456789abcdefghijklmnop"
SECRET_KEY: str = _secret

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def _served_at(host: str, port: int) -> str:
    """Where ./gw up serves (HOST, PORT): what snippets and emails point at unless SITE_URL says otherwise."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"  # every interface: this machine reaches it on loopback
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


SITE_URL = env_str("SITE_URL") or _served_at(env_str("HOST", "127.0.0.1") or "", env_int("PORT", 8000, minimum=1))
# ./gw up without GATEWAY_CONFIG: simulated providers with scheduled outages; pages say so.
DEMO_MODE = env_bool("GW_DEMO_MODE", False)

_database_url = env_str("DATABASE_URL")
if _database_url is None:
    raise ConfigError("DATABASE_URL is not set: run through ./gw, which provides a local Postgres")
_db = parse_database_url("DATABASE_URL", _database_url)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.name,
        "USER": _db.user,
        "PASSWORD": _db.password,
        "HOST": _db.host,
        "PORT": _db.port,
        "OPTIONS": _db.options,
        "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        "CONN_HEALTH_CHECKS": True,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

_redis_url = env_str("REDIS_URL")
if _redis_url is None:
    raise ConfigError("REDIS_URL is not set: run through ./gw, which provides a local Redis")
REDIS_URL = check_redis_url("REDIS_URL", _redis_url)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_PREFIX", "gw") or "gw",
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "gateway",
    "monitoring",
    "providers",
    "reports",
    "statuspage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.signup",
                "accounts.context_processors.demo",
            ]
        },
    }
]
ASGI_APPLICATION = "config.asgi.application"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "gateway@localhost")
# Where django.core.mail.backends.filebased.EmailBackend writes each message (a directory).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))

# Production hardening: on unless DEBUG, each overridable for a TLS-terminating proxy setup.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Every periodic job of the product is scheduled here and nowhere else.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "ingest-spooled-events": {
        "task": "monitoring.tasks.ingest_spooled_events",
        "schedule": 10.0,
    },
    "maintain-partitions": {
        "task": "monitoring.tasks.maintain_partitions",
        "schedule": 3600.0,
    },
    "send-budget-alerts": {
        "task": "monitoring.tasks.send_budget_alerts",
        "schedule": 300.0,
    },
    # Rollups and uptime windows (monitoring.rollups).
    "roll-up-traffic": {
        "task": "monitoring.tasks.roll_up_traffic",
        "schedule": 60.0,
    },
    "prune-rollups": {
        "task": "monitoring.tasks.prune_rollups",
        "schedule": 3600.0,
    },
    # Claims only the deployments whose probe is due (30 s by default, jittered, per provider).
    "probe-deployments": {
        "task": "monitoring.tasks.probe_deployments",
        "schedule": 5.0,
    },
    "prune-probes": {
        "task": "monitoring.tasks.prune_probes",
        "schedule": 3600.0,
    },
    # Incidents, burn-rate alerts and their deliveries (the burn rate's shortest window is 5 minutes).
    "evaluate-incidents": {
        "task": "monitoring.tasks.evaluate_incidents",
        "schedule": 60.0,
    },
    # Last month's SLA report to owners: hourly, so that each organisation gets it soon after its own
    # local month ends; each (organisation, month) is claimed once (reports.services).
    "send-monthly-sla-reports": {
        "task": "reports.tasks.send_monthly_reports",
        "schedule": 3600.0,
    },
}

# The proxy.
GATEWAY_CONFIG = env_str("GATEWAY_CONFIG")
GATEWAY_MAX_BODY_BYTES = env_int("GATEWAY_MAX_BODY_BYTES", 16 * 1024 * 1024, minimum=1024)
GATEWAY_BODY_TIMEOUT = env_float("GATEWAY_BODY_TIMEOUT", 30.0, minimum=0.1)
GATEWAY_REQUEST_BUDGET = env_float("GATEWAY_REQUEST_BUDGET", 600.0, minimum=1.0)
GATEWAY_MAX_RETRY_AFTER_WAIT = env_float("GATEWAY_MAX_RETRY_AFTER_WAIT", 5.0, minimum=0.0)
# How long POST /v1/responses keeps a stored response (for previous_response_id, item_reference, GET), in Redis.
RESPONSES_STORE_TTL_SECONDS = env_int("RESPONSES_STORE_TTL_SECONDS", 3600, minimum=1)
# Browser origins allowed to call /v1/ with any organisation's key (organisations add their own on their
# settings page). Empty, with no organisation listing any: no CORS headers at all.
CORS_ALLOWED_ORIGINS = env_origins("CORS_ALLOWED_ORIGINS")
GATEWAY_KEY_REFRESH_SECONDS = env_float("GATEWAY_KEY_REFRESH_SECONDS", 0.5, minimum=0.05)
# Small, frequent batches: formatting a batch for COPY blocks the event loop ~4 µs per event.
GATEWAY_LOG_FLUSH_SECONDS = env_float("GATEWAY_LOG_FLUSH_SECONDS", 0.1, minimum=0.01)
GATEWAY_SPOOL_DIR = DATA_DIR / "spool"
# Bearer token of /metrics (docs/metrics.md); unset, /metrics is a 404 and no metrics are collected.
METRICS_TOKEN = env_str("METRICS_TOKEN", "") or ""
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ConfigError("METRICS_TOKEN is shorter than 16 characters: use a long random token")

# Alert webhooks may reach http:// URLs and private, loopback or link-local addresses (monitoring.webhook_guard).
# Off by default (SSRF); on for tests and for private installs whose alert receivers are on their own network.
ALERT_WEBHOOK_ALLOW_PRIVATE = env_bool("ALERT_WEBHOOK_ALLOW_PRIVATE", False)

# Rollups and the two uptimes (monitoring.rollups, monitoring.uptime; definitions in docs/uptime.md).
# Each rollup run re-rolls this much trailing time, folding in events that arrived late.
MONITORING_ROLLUP_LATENESS_SECONDS = env_int("MONITORING_ROLLUP_LATENESS_SECONDS", 900, minimum=60)
# Minute rollups are kept about as long as raw traffic; hours, days and uptime windows at least 400 days.
MONITORING_MINUTE_ROLLUP_DAYS = env_int("MONITORING_MINUTE_ROLLUP_DAYS", 30, minimum=1)
MONITORING_ROLLUP_DAYS = env_int("MONITORING_ROLLUP_DAYS", 400, minimum=400)
# Provider uptime: the share of a state's time counted as downtime (Statuspage counts a partial outage 0.3).
MONITORING_DOWN_WEIGHT = env_float("MONITORING_DOWN_WEIGHT", 1.0, minimum=0.0, maximum=1.0)
MONITORING_DEGRADED_WEIGHT = env_float("MONITORING_DEGRADED_WEIGHT", 0.0, minimum=0.0, maximum=1.0)
# Events a worker holds in memory while Postgres is unreachable; past it, its segment files go to the Celery loader.
GATEWAY_LOG_MAX_BUFFER = env_int("GATEWAY_LOG_MAX_BUFFER", 50_000, minimum=1)
# Raw attempt and request rows are kept this many days, then their day partitions are dropped.
RAW_RETENTION_DAYS = env_int("RAW_RETENTION_DAYS", 30, minimum=1)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO") or "INFO"
if LOG_LEVEL.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ConfigError(f"LOG_LEVEL={LOG_LEVEL!r} is not a log level: use DEBUG, INFO, WARNING or ERROR")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL.upper()},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

REST_FRAMEWORK = {
    # A gateway key with the management scope (Authorization: Bearer sk-gw-...), or the browser session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.ManagementKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# Accounts UI
STATICFILES_DIRS = [BASE_DIR / "static"]
LOGIN_URL = "login"
# Who may create an account: "open" (anyone), "invite" (only through an invitation link), "closed"
# (no sign-up page; the operator creates accounts). Production should choose invite or closed.
SIGNUP = env_choice("SIGNUP", "open", ("open", "invite", "closed"))
# Each new organisation starts with these limits, which are also its ceiling (raised only in
# Django admin). 0: none.
NEW_ORG_RPM = env_int("NEW_ORG_RPM", 0, minimum=0)
NEW_ORG_TPM = env_int("NEW_ORG_TPM", 0, minimum=0)
NEW_ORG_MONTHLY_BUDGET_USD = env_decimal("NEW_ORG_MONTHLY_BUDGET_USD", Decimal(0), minimum=Decimal(0))
# Reverse proxies whose X-Forwarded-For is believed (IPs or CIDR blocks); empty: REMOTE_ADDR only.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Provider credentials
# CREDENTIALS_KEYS: comma-separated Fernet keys that encrypt organisations' own provider keys at rest.
# The first one encrypts, every one decrypts. To rotate: put a new key first, restart, run
# `./gw manage rotate_credentials_key`, then drop the old key. Make a key with
#   python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
# Unset (in every mode, production included): one key derived from SECRET_KEY with HKDF, so a new
# install needs nothing more; but then changing SECRET_KEY makes the stored credentials unreadable, so
# production should set its own. The SECRET_KEY-derived key always stays as the last, decrypt-only
# key: moving from the default to your own key is "set CREDENTIALS_KEYS, restart, rotate".


def _credentials_keys() -> list[str]:
    from cryptography.fernet import Fernet

    keys = env_list("CREDENTIALS_KEYS", [])
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            # Never the value itself: it is a secret.
            raise ConfigError(
                f"CREDENTIALS_KEYS: key {position} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return keys


CREDENTIALS_KEYS = _credentials_keys()

# Management API: OpenAPI schema at /api/schema/, Swagger UI at /api/docs/ (assets served locally).
SPECTACULAR_SETTINGS = {
    "TITLE": "LLM Gateway management API",
    "DESCRIPTION": (
        "Keys, usage, provider credentials and provider health of an organisation. Authenticate with "
        "the browser session, or with a gateway key that has the management scope: "
        "`Authorization: Bearer sk-gw-...`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No call to swagger.io's online validator: the docs page talks to this server only.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}
