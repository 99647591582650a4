"""One settings module, driven by environment variables (see README's table).

Defaults give a working demo on an embedded SQLite database; production sets
DEBUG=False, SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import django_stubs_ext
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from renkei.lib.crypto import DEMO_FIELD_KEYS, DEMO_INDEX_KEY, DEMO_SECRET_KEY

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("RENKEI_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default)
    if value not in ("", "True", "False", "true", "false", "1", "0"):
        raise ImproperlyConfigured(f"Unexpected value {name}={value}, use 'True' or 'False'")
    return value in ("True", "true", "1")


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default)
    try:
        return int(value)
    except ValueError as e:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from e


def envsecret(name: str, default: str = "") -> str:
    """Read NAME, or the file named by NAME_FILE (systemd credentials, Docker secrets)."""
    path = os.getenv(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.getenv(name, default)


# Radius searches and the statements of fixed text every member page runs (the session, the
# membership, the menu's badges; ADR 0080) run as prepared statements on PostgreSQL (ADR 0011).
# Turn off behind a transaction-mode connection pooler that cannot keep prepared statements
# (PgBouncer < 1.21).
DB_PREPARED_SEARCH = envbool("DB_PREPARED_SEARCH", "True")
# A directory search without a radius counts its matches up to this many (beyond: 「1,000件以上」,
# the whole directory 「約25万件」), and a name search sorts at most this many candidates, so that
# no page costs in proportion to the whole table (ADR 0040).
SEARCH_COUNT_LIMIT = int(os.getenv("SEARCH_COUNT_LIMIT", "1000"))
# A reused PostgreSQL connection is checked with `SELECT 1` before a request's first statement
# only when it has been idle this long (ADR 0062); 0 checks every request, as Django does.
DB_HEALTH_CHECK_IDLE_SECONDS = float(os.getenv("DB_HEALTH_CHECK_IDLE_SECONDS", "1"))


def database_from_url(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        name = unquote(parts.path[1:]) if parts.path.startswith("//") else unquote(parts.path)
        name = name or str(VAR_DIR / "renkei.sqlite3")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # Writers queue instead of failing with "database is locked".
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Reusing connections matters on SQLite too: opening one per request (and running
            # the PRAGMAs) halves throughput under gunicorn (docs/benchmarks.md).
            "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", "60"),
            "TEST": {"NAME": ":memory:"},
        }
    if parts.scheme in ("postgres", "postgresql"):
        options: dict[str, object] = {}
        if DB_PREPARED_SEARCH:
            # Django keeps psycopg from preparing statements (prepare_threshold None); its
            # client-side-binding cursors never prepare anyway, so this reaches only the
            # preparing cursors: the radius search's (ADR 0011) and renkei.lib.prepared's
            # statements of fixed text on every member page (ADR 0080).
            options["prepare_threshold"] = 5
        return {
            # Django's backend with a cheaper health check (ADR 0062) and a hook run just
            # before COMMIT (renkei.lib.precommit, ADR 0066).
            "ENGINE": "renkei.lib.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "renkei",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", "60"),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
            "TEST": {"NAME": os.getenv("DB_TEST_NAME", "test_renkei")},
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported")


# Production is the default (security R01): a deployment that forgets a variable must not show
# tracebacks or sign links with the published demo key. `run.py demo` and the tests turn debug on
# explicitly (tests/debug_env.py).
DEBUG = envbool("DEBUG", "False")
# Outside debug, a missing key stays empty instead of falling back to a published one. Settings
# still load then (mypy's plugin and makemigrations need nothing else), but the server refuses to
# start: renkei.lib.startup's system check (every manage.py command that runs checks) and
# wsgi.py/asgi.py name what is missing.
SECRET_KEY = envsecret("SECRET_KEY", DEMO_SECRET_KEY if DEBUG else "")

# Field encryption for identifying patient data (renkei.lib.crypto, ADR 0027): keys apart from
# SECRET_KEY. FIELD_ENCRYPTION_KEYS = "kid:base64,kid:base64" (first seals new values, the rest
# still open old ones during a rotation); BLIND_INDEX_KEY = base64 of 32 bytes. Generate with
# `python -c "from renkei.lib.crypto import new_key; print(new_key())"`. The demo keys are
# published with the code: DEBUG only.
_field_keys = envsecret("FIELD_ENCRYPTION_KEYS", ",".join(DEMO_FIELD_KEYS) if DEBUG else "")
FIELD_ENCRYPTION_KEYS = [k for k in _field_keys.split(",") if k.strip()]
BLIND_INDEX_KEY = envsecret("BLIND_INDEX_KEY", DEMO_INDEX_KEY if DEBUG else "")

ALLOWED_HOSTS = os.getenv("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000")
SITE_NAME = os.getenv("SITE_NAME", "Renkei 在宅医療・介護連携")
# JIS code (two digits) of the prefecture the platform serves: its municipalities and areas
# fill the search filters and the forms' lists when the user's organisation names none.
HOME_PREFECTURE = os.getenv("HOME_PREFECTURE", "14")
if not (len(HOME_PREFECTURE) == 2 and HOME_PREFECTURE.isdigit()):
    raise ImproperlyConfigured("HOME_PREFECTURE must be a two-digit prefecture code, e.g. 14")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",
    "renkei.accounts",
    "renkei.regions",
    "renkei.directory",
    "renkei.referrals",
    "renkei.desk",
    "renkei.events",
    "renkei.mentoring",
    "renkei.oncall",
    "renkei.courses",
    "renkei.care",
    "renkei.programmes",
    "renkei.pdca",
    "renkei.ops",
    "renkei.demo",
]

MIDDLEWARE = [
    "renkei.lib.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before everything that reads the request: NUL and broken UTF-8 never reach a view.
    "renkei.lib.badinput.RefuseUnsafeInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware and django-otp's OTPMiddleware in one, over the rows
    # the session was read with (ADR 0071).
    "renkei.accounts.middleware.SignedInMiddleware",
    # Before the session's lifetime: a bearer token wins and the session it came with is
    # neither read nor refreshed (ADR 0044).
    "renkei.accounts.middleware.ApiTokenMiddleware",
    "renkei.accounts.middleware.SessionLifetimeMiddleware",
    "renkei.accounts.middleware.MembershipMiddleware",
    "renkei.accounts.middleware.TwoFactorRequiredMiddleware",
    "renkei.lib.replica.ReplicaMiddleware",
    # Django's MessageMiddleware, with the storage built on first use (renkei.lib.messages).
    "renkei.lib.messages.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's middleware with the settings' policies built once (renkei.lib.csp).
    "renkei.lib.csp.CSPHeadersMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "renkei.urls"
WSGI_APPLICATION = "renkei.wsgi.application"

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
                "csp.context_processors.nonce",
                "renkei.accounts.context_processors.renkei",
                # csrf_token from one random read instead of ~66 (ADR 0077). Django's built-in
                # csrf processor runs first; this one's value is the one templates see.
                "renkei.lib.csrf.csrf",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASES = {
    "default": database_from_url(
        os.getenv("DATABASE_URL", "sqlite:///" + str(VAR_DIR / "renkei.sqlite3"))
    )
}
ON_POSTGRESQL = DATABASES["default"]["ENGINE"] == "renkei.lib.postgresql"
# Least privilege (docs/operations.md, ADR 0015): the server connects as an app role that owns
# nothing, so it cannot alter the audit table or drop its triggers; `manage.py migrate` connects
# with these credentials of the owner role instead. Same database, other user.
MIGRATION_DATABASE: dict[str, object] | None = None
if os.getenv("DATABASE_MIGRATE_URL"):
    MIGRATION_DATABASE = database_from_url(os.environ["DATABASE_MIGRATE_URL"])
    if not ON_POSTGRESQL or MIGRATION_DATABASE["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_MIGRATE_URL needs PostgreSQL, as DATABASE_URL")
    if MIGRATION_DATABASE["NAME"] != DATABASES["default"]["NAME"]:
        raise ImproperlyConfigured("DATABASE_MIGRATE_URL must name the database of DATABASE_URL")

# A read replica (PostgreSQL streaming replication, docs/operations.md, ADR 0039): anonymous
# directory search, map points, exports, HSDS and FHIR reads go there (renkei.lib.replica);
# a client that has just written reads from the primary for REPLICA_STICKY_SECONDS.
DATABASE_REPLICA_URL = os.getenv("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **database_from_url(DATABASE_REPLICA_URL),
        # Tests use the primary's test database: the replica has no schema of its own.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["renkei.lib.replica.ReplicaRouter"]
# On with a replica; the tests turn it on for the router's own tests only.
REPLICA_READS = "replica" in DATABASES
REPLICA_STICKY_SECONDS = envint("REPLICA_STICKY_SECONDS", "15")

# Background jobs (renkei.lib.jobs, ADR 0019): Procrastinate's queue on PostgreSQL, run by
# `manage.py run_worker`; on SQLite (the demo) each job runs in the web process after commit.
JOBS_BACKEND = os.getenv("JOBS_BACKEND", "procrastinate" if ON_POSTGRESQL else "immediate")
if JOBS_BACKEND not in ("procrastinate", "immediate"):
    raise ImproperlyConfigured("JOBS_BACKEND must be 'procrastinate' or 'immediate'")
if JOBS_BACKEND == "procrastinate" and not ON_POSTGRESQL:
    raise ImproperlyConfigured("JOBS_BACKEND=procrastinate needs a PostgreSQL DATABASE_URL")
if ON_POSTGRESQL:
    # Its migrations are PL/pgSQL: installed on PostgreSQL only, so the SQLite demo needs
    # nothing (the tables exist on PostgreSQL even while JOBS_BACKEND=immediate).
    INSTALLED_APPS.insert(INSTALLED_APPS.index("renkei.accounts"), "procrastinate.contrib.django")
# Each app's jobs.py is imported by renkei.lib.jobs, which registers the jobs with Procrastinate.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = None
PROCRASTINATE_ON_APP_READY = "renkei.lib.jobs.on_procrastinate_ready"
# Succeeded jobs are deleted as they finish; queued, running and failed ones stay visible in the
# admin (/admin/procrastinate/procrastinatejob/).
PROCRASTINATE_WORKER_DEFAULTS = {"delete_jobs": "successful"}
# A failed job is retried after this many seconds, doubling up to the maximum.
JOBS_RETRY_FIRST_SECONDS = envint("JOBS_RETRY_FIRST_SECONDS", "15")
JOBS_RETRY_MAX_SECONDS = envint("JOBS_RETRY_MAX_SECONDS", "3600")
# A running job whose worker sent no heartbeat for this long (the worker was killed) is retried
# (or given up once out of retries) by the periodic retry_stalled_jobs. Workers beat every 10 s,
# so it must be well above that.
JOBS_STALLED_SECONDS = envint("JOBS_STALLED_SECONDS", "30")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Lock-out (security R05): 5 failures per username+IP, then a 30-minute cool-off.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "renkei.lib.clientip.client_ip"
# Reverse proxies whose X-Forwarded-For is believed (renkei.lib.clientip.client_ip); without them
# behind a proxy, lock-outs, rate limits and the audit log would all see the proxy's address.
TRUSTED_PROXIES = frozenset(
    a.strip() for a in os.getenv("TRUSTED_PROXIES", "").split(",") if a.strip()
)

# Rate limits (R05), "count/unit" per client address; signed-in users count per user in the
# scopes where colleagues share one address (search behind a hospital's or city hall's NAT,
# export). RATE_LIMITS in the environment overrides some, e.g. "search=1200/m,export=100/h".
RATE_LIMITS = {
    "search": "600/m",  # directory search: list, map, API, exports of a search
    "export": "60/h",  # files with personal data or whole lists
    "public_form": "20/h",  # event and 同行研修 applications by the public
    "password_reset": "5/h",  # reset mails requested from one address
    "password_reset_email": "3/h",  # reset mails to one e-mail address
    "token_failure": "30/h",  # refused API tokens from one address (then 429 for all its tokens)
    "token_failure_prefix": "10/h",  # refused attempts at one token prefix (ADR 0044)
}
for _item in os.getenv("RATE_LIMITS", "").split(","):
    if "=" in _item:
        _scope, _rate = _item.split("=", 1)
        RATE_LIMITS[_scope.strip()] = _rate.strip()

# The cache: rate-limit counters and read-your-writes markers. The default is per server
# process; redis://… shares them across processes and servers (required with more than one).
CACHE_URL = os.getenv("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL.startswith(("redis://", "rediss://", "unix://"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Changing the second factor and bulk exports of personal data ask for the password again
# when it was last entered longer ago than this (security R07).
REAUTH_SECONDS = envint("REAUTH_SECONDS", "300")
# Sessions (R06): idle timeout through the cookie age, absolute lifetime in middleware.
SESSION_COOKIE_AGE = envint("SESSION_IDLE_SECONDS", "1800")
# Sessions live in the database, so any app server can serve any request; with a shared cache
# (CACHE_URL) they are read through it.
# Django's engines on a session row that also names the user and the second-factor device,
# so that the three are read in one statement (renkei.accounts.sessions, ADR 0071).
SESSION_ENGINE = (
    "renkei.accounts.sessions.cached_db"
    if CACHES["default"]["BACKEND"].endswith("RedisCache")
    else "renkei.accounts.sessions.db"
)
# The idle timer restarts with a session write, at most once a minute (ADR 0054): a read
# within a minute of the last write writes nothing, so the session expires between 29 and 30
# minutes after the last request, never later.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = envint("SESSION_REFRESH_SECONDS", "60")
SESSION_ABSOLUTE_SECONDS = envint("SESSION_ABSOLUTE_SECONDS", str(12 * 3600))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Uploaded files (import uploads, event attachments): MEDIA_ROOT, which every server and worker
# must share, or an S3-compatible object store when S3_BUCKET is set (django-storages).
S3_BUCKET = os.getenv("S3_BUCKET", "")
_media_storage: dict[str, object] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if S3_BUCKET:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            # MinIO, Ceph, a Japanese cloud's object storage…; empty means AWS itself.
            "endpoint_url": os.getenv("S3_ENDPOINT_URL") or None,
            "region_name": os.getenv("S3_REGION") or None,
            "access_key": envsecret("S3_ACCESS_KEY_ID") or None,
            "secret_key": envsecret("S3_SECRET_ACCESS_KEY") or None,
            "location": os.getenv("S3_PREFIX", ""),
            # Private objects, served only through signed short-lived URLs; never overwritten.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Map tiles: 地理院タイル by default, any XYZ tile server by configuration.
TILE_URL = os.getenv("TILE_URL", "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png")
TILE_ATTRIBUTION = os.getenv(
    "TILE_ATTRIBUTION",
    '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>',
)
_tile_origin = "{0.scheme}://{0.netloc}".format(urlsplit(TILE_URL)) if "://" in TILE_URL else ""

# E-mail: console in the demo, SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.getenv("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("EMAIL_PORT", "587")
    EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "True")
else:
    EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "Renkei <noreply@renkei.example.jp>")

# Facility information older than this many days is shown as stale.
DIRECTORY_STALE_DAYS = envint("DIRECTORY_STALE_DAYS", "30")
# An import that has reported no progress for this long was interrupted (its process died); the
# scheduled sweep (renkei.directory.jobs) then records it as エラー instead of 取込中.
DIRECTORY_IMPORT_STALL_SECONDS = envint("DIRECTORY_IMPORT_STALL_SECONDS", "600")
# Uploaded open-data files are kept this many days after their import ended, then deleted by a
# scheduled job (audited).
DIRECTORY_IMPORT_KEEP_DAYS = envint("DIRECTORY_IMPORT_KEEP_DAYS", "30")

# 入退院支援: remind a facility of a request still unanswered after this many hours.
REFERRAL_REMINDER_HOURS = envint("REFERRAL_REMINDER_HOURS", "24")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        # Leaflet positions tiles and markers with inline styles.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", *([_tile_origin] if _tile_origin else [])],
        "connect-src": [SELF],
        "font-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "True")
    # Load balancers probe /healthz, and Prometheus scrapes /metrics, over plain HTTP on the
    # private side.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", str(365 * 24 * 3600))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Logs (renkei.lib.observability): one JSON object per line for the log collector (the default
# with DEBUG off), or text; each line carries the request id, also inside the jobs it enqueued.
LOG_FORMAT = os.getenv("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'text'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "renkei.lib.observability.ContextFilter"}},
    "formatters": {
        "json": {"()": "renkei.lib.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
    # The audit chain's daily anchor is evidence kept outside the database: always written.
    "loggers": {"renkei.audit": {"level": "INFO"}},
}

# /metrics (Prometheus) answers a request with "Authorization: Bearer <METRICS_TOKEN>", or a
# signed-in superuser. Under gunicorn set PROMETHEUS_MULTIPROC_DIR (docs/operations.md).
METRICS_TOKEN = envsecret("METRICS_TOKEN")

NINJA_PAGINATION_PER_PAGE = 20
