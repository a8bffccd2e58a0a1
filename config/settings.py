"""Undersigned settings: one module, read from the environment.

Development: ``DJANGO_DEBUG=1`` gives a throwaway secret key and a SQLite file beside
``manage.py``; ``make run`` writes it to a git-ignored ``.env`` so that every
``manage.py`` command in a checkout runs the same way. Variables set in the environment
win over ``.env``; ``DJANGO_ENV_FILE`` names another file. Production: no ``.env``,
``DJANGO_DEBUG`` unset, and the settings refuse to load without ``DJANGO_SECRET_KEY``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

load_dotenv(os.environ.get("DJANGO_ENV_FILE") or BASE_DIR / ".env", override=False)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off. "
            "For local development set DJANGO_DEBUG=1 (make run does)."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.apps.UndersignedAdminConfig",  # django.contrib.admin, with our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_filters",
    "django_countries",
    "simple_history",
    "django_tasks_db",
    "django_ratelimit",
    "corsheaders",
    "config",  # deployment checks (config/checks.py)
    "letters",
    "signatories",
    # JSON API at /api/v1/ (config/api/): DRF, its OpenAPI schema and the docs' static files.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CORS headers on public reads only (CORS_URLS_REGEX); before anything that can answer.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Security headers, set in production (SECURE_CSP, PERMISSIONS_POLICY below); above
    # the health check, so that it carries them too.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # /healthz answered whatever the Host: before CommonMiddleware validates it.
    "config.middleware.HealthCheckMiddleware",
    # ETags for every page, and 304 answers to conditional requests (config/http.py).
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language comes from the URL only (/fr/…; unprefixed is English): config/languages.py.
    "config.languages.LanguageFromPathMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

# Cross-origin reads (django-cors-headers): any site's script may read the public data —
# the JSON API, count.json, the CSV, the feeds, oEmbed, the delivered list — with
# `Access-Control-Allow-Origin: *` and never with cookies. Nothing else gets a CORS header:
# not the admin, the sign form, emailed-link pages or the HTML pages, so a script on another
# site cannot read them (tests/test_cors.py walks every URL pattern).
CORS_PUBLIC_READS = (
    r"api/v1/",
    r"letters/[^/]+/count\.json$",
    r"letters/[^/]+/signatures\.csv$",
    r"letters/[^/]+/feed/$",
    r"letters/[^/]+/delivered\.txt$",
    r"feeds/letters/$",
    r"recipients/[^/]+/feed/$",
    r"oembed/$",
)
CORS_URLS_REGEX = r"^/(?:" + "|".join(CORS_PUBLIC_READS) + ")"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")
# A script may revalidate (If-None-Match) and read the headers it needs to page and back off.
CORS_ALLOW_HEADERS = ("accept", "accept-language", "if-none-match", "if-modified-since")
CORS_EXPOSE_HEADERS = ("ETag", "Retry-After", "Content-Disposition", "Link")
CORS_PREFLIGHT_MAX_AGE = 86400

ROOT_URLCONF = "config.urls"
# /bench/hello, the floor bench/load.py compares pages against; never on in production.
BENCH_HELLO = env_bool("DJANGO_BENCH_HELLO", False)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["django.contrib.humanize.templatetags.humanize"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.canonical_url",
                "config.languages.language_links",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# A PostgreSQL read replica (docs/deploy.md): public reads go there; writes, reads inside a
# transaction, the task queue and logins stay on the primary (config/db_router.py). Tests
# use the primary for both (MIRROR).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **dj_database_url.parse(
            os.environ["DATABASE_REPLICA_URL"],
            conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        ),
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["config.db_router.PrimaryReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# The interface's languages (README "Languages"): British English is the source; each other
# language has a reviewed catalogue in locale/ and its pages under /<code>/ (config/urls.py).
# Unprefixed URLs are always English, so they never vary with the browser's language.
LANGUAGES = [
    ("en-gb", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English keeps "3 December 2026" (Django's en_GB says "3 Dec 2026"); the other languages
# use Django's own formats ("3 décembre 2026", "3. Dezember 2026", "3 de diciembre de 2026").
FORMAT_MODULE_PATH = ["config.formats"]
# A visitor's choice of language, from the switcher (config/languages.py): a year, and
# read only on the home page, where it beats the browser's Accept-Language.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email (Django 6.1 MAILERS). Development prints mail to the console; production sends
# through SMTP configured by DJANGO_EMAIL_* variables.
if DEBUG and not os.environ.get("DJANGO_EMAIL_HOST"):
    MAILERS = {"default": {"BACKEND": "config.mail.ReadableConsoleBackend"}}
else:
    # STARTTLS (usually port 587 or 25) or TLS from the first byte (SMTPS, port 465).
    _email_use_tls = env_bool("DJANGO_EMAIL_USE_TLS", False)
    _email_use_ssl = env_bool("DJANGO_EMAIL_USE_SSL", False)
    if _email_use_tls and _email_use_ssl:
        raise ImproperlyConfigured(
            "DJANGO_EMAIL_USE_TLS (STARTTLS) and DJANGO_EMAIL_USE_SSL (SSL on port 465) "
            "exclude each other: set one of them."
        )
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("DJANGO_EMAIL_HOST", "localhost"),
                "port": int(os.environ.get("DJANGO_EMAIL_PORT", "465" if _email_use_ssl else "25")),
                "username": os.environ.get("DJANGO_EMAIL_HOST_USER", ""),
                "password": os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", ""),
                "use_tls": _email_use_tls,
                "use_ssl": _email_use_ssl,
                # Seconds to wait on the SMTP server for each step: a server that falls
                # silent must not hold a task worker forever (the send is then retried).
                "timeout": float(os.environ.get("DJANGO_EMAIL_TIMEOUT", "10")),
            },
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "undersigned@localhost")

# The public site's address, for the links in emails: never taken from a request's Host.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("DJANGO_SITE_URL must start with http:// or https://.")

# Caches. "default", shared by every app server in production (Redis): per-IP sign
# limits. "pages": public pages rendered at most once a minute per address and process
# (config/http.py). It is each process's own memory on purpose: a hit then costs no
# network round trip, and a few renders a minute per process cost nothing; shared caches
# (a CDN, nginx) in front do the sharing, from the Cache-Control headers. "fragments":
# the parts of a page that cost most to draw (a letter's map and charts), each process's
# own too, under keys made of what they draw: a hit is never stale, nothing is cleared.
PUBLIC_CACHE_SECONDS = int(os.environ.get("DJANGO_PUBLIC_CACHE_SECONDS", "60"))
PAGE_CACHE = {
    "BACKEND": "django.core.cache.backends.dummy.DummyCache"
    if DEBUG
    else "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "pages",
    "OPTIONS": {"MAX_ENTRIES": 1000},
}
FRAGMENT_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "TIMEOUT": 24 * 60 * 60,
    "OPTIONS": {"MAX_ENTRIES": 500},
}
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            # Django's, with one client per connection pool (config/cache.py).
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            # A Redis that stops answering must not hold a request: every cache call
            # degrades on an error (signatories/resilience.py), and a timeout is one.
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("DJANGO_REDIS_TIMEOUT", "1")),
                "socket_timeout": float(os.environ.get("DJANGO_REDIS_TIMEOUT", "1")),
            },
        },
        "pages": PAGE_CACHE,
        "fragments": FRAGMENT_CACHE,
    }
    # django-ratelimit 4.1 predates Django's own Redis backend (ours is a subclass), whose
    # INCR is atomic.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    # One process's memory: right for runserver and the tests, wrong for several app
    # servers (README, "Production"). django-ratelimit says so as an error; it is expected.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": PAGE_CACHE,  # none in development: each change shows at once
        "fragments": FRAGMENT_CACHE,
    }

# Background work (emails): django.tasks. Production stores tasks in the database and
# `manage.py db_worker` runs them; development runs them at once, so that `make run`
# prints each email to the console.
TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
_task_backend = os.environ.get("DJANGO_TASKS_BACKEND", "immediate" if DEBUG else "database")
if _task_backend not in TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"DJANGO_TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}, not {_task_backend!r}."
    )
TASKS = {"default": {"BACKEND": TASK_BACKENDS[_task_backend], "QUEUES": ["default"]}}

# Public signing (README, "Signing").
SIGN_CONFIRMATION_MAX_AGE = 7 * 24 * 60 * 60  # seconds a confirmation link stays valid
SIGN_FORM_MIN_SECONDS = int(os.environ.get("DJANGO_SIGN_FORM_MIN_SECONDS", "3"))
SIGN_FORM_MAX_AGE = 24 * 60 * 60  # a form older than this is sent again, freshly stamped
# Per client IP; signatures over either limit wait for a moderator (the sender isn't told).
SIGN_RATE_LIMITS = env_list("DJANGO_SIGN_RATE_LIMITS", ["5/h", "20/d"])
# Emails to one address about one letter (confirmation links, "already signed").
SIGN_EMAIL_RATE_LIMIT = os.environ.get("DJANGO_SIGN_EMAIL_RATE_LIMIT", "3/h")
RETENTION_DAYS = int(os.environ.get("DJANGO_RETENTION_DAYS", "180"))
# Who is responsible for signers' details under data protection law (UK and EU GDPR,
# article 13), and how signers reach them: named on the privacy page. Unset, the page says
# so plainly rather than name someone, and ``check --deploy`` warns (undersigned.W004).
DATA_CONTROLLER = os.environ.get("DJANGO_DATA_CONTROLLER", "").strip()
DATA_CONTROLLER_CONTACT = os.environ.get("DJANGO_DATA_CONTROLLER_CONTACT", "").strip()
# Imports (README, "Importing signatories"): what a file may cost to read, checked before
# and while it is parsed. An XLSX is a ZIP archive: 10 MB of it can unpack to gigabytes.
IMPORT_XLSX_MAX_UNPACKED_BYTES = int(
    os.environ.get("DJANGO_IMPORT_XLSX_MAX_UNPACKED_BYTES", str(50 * 1024 * 1024))
)
IMPORT_MAX_CELLS = int(os.environ.get("DJANGO_IMPORT_MAX_CELLS", "2000000"))
IMPORT_MAX_COLUMNS = int(os.environ.get("DJANGO_IMPORT_MAX_COLUMNS", "100"))
# Files of more rows than this (estimated before reading: signatories.importers.background)
# are checked and imported by the task worker, not in the web request.
IMPORT_BACKGROUND_ROWS = int(os.environ.get("DJANGO_IMPORT_BACKGROUND_ROWS", "5000"))
# Behind a reverse proxy REMOTE_ADDR is the proxy: name the header it sets to the client's
# address (e.g. HTTP_X_REAL_IP). Used for rate limits and the private IP record.
CLIENT_IP_HEADER = os.environ.get("DJANGO_CLIENT_IP_HEADER", "")

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    LANGUAGE_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    # Our own origin only, for public pages and the admin alike: no inline script or
    # style, no third-party origin, no plugins, no <base>, forms posting only here, and
    # no framing (docs/deploy.md, "Security headers").
    SECURE_CSP = {
        "default-src": [CSP.SELF],
        # One style attribute is allowed, by its hash: style="border-top: 0" on the admin's
        # history pages (django-simple-history's template). No other style attribute.
        "style-src-attr": [
            CSP.UNSAFE_HASHES,
            "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",
        ],
        "object-src": [CSP.NONE],
        "base-uri": [CSP.NONE],
        "form-action": [CSP.SELF],
        "frame-ancestors": [CSP.NONE],
    }
    # Powerful browser features the site never uses, refused to it and to anything it
    # might embed; browsing-topics and interest-cohort (its predecessor, FLoC) opt its
    # visitors out of Chrome's interest-based advertising.
    PERMISSIONS_POLICY = {
        feature: []
        for feature in (
            "accelerometer",
            "browsing-topics",
            "camera",
            "display-capture",
            "geolocation",
            "gyroscope",
            "interest-cohort",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "usb",
        )
    }
    # HTTPS only (docs/deploy.md). Off only where there is no TLS at all: the test suite
    # and a local load test (DJANGO_SSL_REDIRECT=0).
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
    # Load balancers probe app servers over plain HTTP and take a redirect for a failure.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    if env_bool("DJANGO_BEHIND_PROXY", False):
        # TLS ends at the proxy; trust its X-Forwarded-Proto. Only behind a proxy that
        # sets this header itself: a client could otherwise claim HTTPS.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Once a browser has seen this header it refuses plain HTTP for that long, even if the
    # site later cannot serve HTTPS: roll out with 300, then a day, then the year default.
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    # These two reach beyond this site (every subdomain of its host; browsers' built-in
    # lists, which take months to leave): the domain's owner decides. Off by default, so
    # Django's reminders are silenced (W005 stays with preload on: preloading needs it).
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
    if not SECURE_HSTS_INCLUDE_SUBDOMAINS and not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W005"]
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
    },
}

SIGNATURES_PER_PAGE = 50

# JSON API (config/api/, README "JSON API"): read-only, JSON only, no sessions or logins.
# Requests per client IP (signatories.abuse.client_ip), counted in the default cache:
# "120/min", "2000/hour", "5/s".
API_RATE = os.environ.get("DJANGO_API_RATE", "120/min")
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api.errors.JSONOnly",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Undersigned API",
    "DESCRIPTION": "Public letters, their recipients' answers and their signatories, read-only. "
    "Names appear only as each signatory chose to be shown.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGERUI_DIST": "SIDECAR",
    "SWAGGERUI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Named after the model's choices where several share a field name ("kind", "status").
    "ENUM_NAME_OVERRIDES": {
        "LetterStatusEnum": "config.api.serializers.PUBLIC_LETTER_STATUSES",
        "ResponseStatusEnum": "letters.models.ResponseStatus",
        "RecipientKindEnum": "letters.models.RecipientKind",
        "SourceKindEnum": "letters.models.SourceKind",
        "EventKindEnum": "letters.models.EventKind",
        "SignatoryKindEnum": "signatories.models.SignatoryKind",
    },
}

# Letters' counts are recounted by the task worker this many seconds after signatures
# change (signatories/tallies.py): shown counts lag by about that, well under a minute.
COUNTS_REFRESH_SECONDS = int(os.environ.get("DJANGO_COUNTS_REFRESH_SECONDS", "20"))
