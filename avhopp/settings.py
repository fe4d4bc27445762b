"""Avhopp settings: the one place configuration is read, from the environment.

Every variable is documented in README.md. Helpers fail loudly on malformed values
rather than guessing, because a silently wrong security setting is worse than a crash.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"The environment variable {name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false).")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


ENVIRONMENT = env_str("DJANGO_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV={ENVIRONMENT!r} must be development or production.")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DJANGO_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG cannot be on when DJANGO_ENV=production.")

DATA_DIR = Path(env_str("AVHOPP_DATA_DIR", str(BASE_DIR / "data")))
# Generated documents live outside any static or media root so no URL can reach them.
DOCUMENT_ROOT = Path(env_str("AVHOPP_DOCUMENT_ROOT", str(DATA_DIR / "documents")))


def _development_secret_key() -> str:
    """A per-checkout key kept in the data folder, so no secret is ever committed."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # Write aside and link into place: processes starting together agree on one key.
        candidate = DATA_DIR / f".secret_key.{os.getpid()}"
        candidate.write_text(secrets.token_urlsafe(50))
        candidate.chmod(0o600)
        try:
            os.link(candidate, key_file)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return key_file.read_text().strip()


SECRET_KEY = (
    env_str("DJANGO_SECRET_KEY")
    if PRODUCTION
    else os.environ.get("DJANGO_SECRET_KEY") or _development_secret_key()
)
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters in production.")

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production.")

INSTALLED_APPS = [
    "avhopp",
    "cases",
    "referrals",
    "relocations",
    "retention",
    "register",
    "followup",
    "research",
    "method",
    "avhopp.admin_apps.AvhoppAdminConfig",  # the admin asks for the second factor too
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "csp",
]
# Development data (load_demo, seed_scale, seed_loadtest, totp_code) lives in its own app,
# never installed in production and left out of the production image.
if not PRODUCTION:
    if not (BASE_DIR / "devdata" / "apps.py").is_file():
        raise ImproperlyConfigured(
            f"DJANGO_ENV={ENVIRONMENT} needs the devdata app, which this copy lacks (the "
            "production image leaves it out): set DJANGO_ENV=production."
        )
    INSTALLED_APPS.append("devdata")

MIDDLEWARE = [
    "avhopp.middleware.HeaderHygieneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "avhopp.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "avhopp.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "avhopp.middleware.SessionLimitsMiddleware",
    "avhopp.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so it sees the failed logins that the views below report.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "avhopp.urls"
WSGI_APPLICATION = "avhopp.wsgi.application"

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
                "avhopp.context_processors.navigation",
                "cases.context_processors.navigation",
                "retention.context_processors.navigation",
                "followup.context_processors.navigation",
                "research.context_processors.navigation",
            ],
        },
    },
]

# Widgets render through Django's Jinja2 form templates: the same markup as its own template
# engine, in about half the time (a select box's options are the bulk of a list page's form).
FORM_RENDERER = "django.forms.renderers.Jinja2"

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL.")
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": 5,
        # Planner settings the benchmark's plans were measured with, whatever the server's
        # defaults: the working set is in memory or on SSD (random reads cost about as much as
        # sequential ones); JIT compilation and parallel workers cost more in start-up than
        # they save on short queries, and the cores are better spent on concurrent requests.
        "options": "-c random_page_cost=1.1 -c jit=off -c max_parallel_workers_per_gather=0",
    }
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        # Statements run with server-side parameters, and psycopg prepares each one on its
        # fifth run on a connection, so key lookups skip planning; list pages opt out
        # (avhopp.database). Turn off behind a pooler that cannot keep prepared statements
        # (PgBouncer in transaction mode before 1.21).
        from avhopp.database import PreparingCursor

        DATABASES["default"]["OPTIONS"] |= {
            "server_side_binding": True,
            "cursor_factory": PreparingCursor,
            "prepare_threshold": 5,
        }
else:
    # The embedded default for `make run`: no server to install.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "avhopp.sqlite3",
        }
    }

# The national register (register app) is a database of its own, which the municipal tables
# never join (register.routers): REGISTER_DATABASE_URL, required in production beside
# DATABASE_URL. In development and tests it defaults to a database named after DATABASE_URL's
# with "_register" on the same server, and without DATABASE_URL to data/register.sqlite3.
REGISTER_DATABASE_URL = os.environ.get("REGISTER_DATABASE_URL", "")
if REGISTER_DATABASE_URL:
    if not REGISTER_DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("REGISTER_DATABASE_URL must be a postgres:// URL.")
    DATABASES["register"] = dj_database_url.parse(REGISTER_DATABASE_URL, conn_max_age=60)
elif DATABASE_URL:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "REGISTER_DATABASE_URL must be set in production: the national register is a "
            "database of its own."
        )
    DATABASES["register"] = dj_database_url.parse(DATABASE_URL + "_register", conn_max_age=60)
else:
    DATABASES["register"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "register.sqlite3",
    }
DATABASE_ROUTERS = ["register.routers.RegisterRouter"]


def _development_register_key() -> str:
    key_file = DATA_DIR / "register_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# The key of the register's pseudonyms (HMAC-SHA-256 of the identity number). Only the
# register's keeper holds it: it is never stored in either database. Changing it gives every
# person a new pseudonym at the next build.
REGISTER_PSEUDONYM_KEY = os.environ.get("AVHOPP_REGISTER_KEY", "")
if PRODUCTION and REGISTER_DATABASE_URL and len(REGISTER_PSEUDONYM_KEY) < 32:
    raise ImproperlyConfigured("AVHOPP_REGISTER_KEY must be at least 32 characters in production.")
if not REGISTER_PSEUDONYM_KEY and not PRODUCTION:
    REGISTER_PSEUDONYM_KEY = _development_register_key()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "avhopp.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Passwords, for the agencies that keep password sign-in (Agency.password_sign_in).
    "avhopp.backends.PasswordBackend",
    # Agencies' identity providers (OpenID Connect), chosen per sign-in.
    "avhopp.oidc.AgencyOIDCBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Guardian: we never use its anonymous user, and grants go through our own models.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False
GUARDIAN_MONKEY_PATCH_GROUP = False

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

# Two-factor login (TOTP, with recovery codes; never SMS). It cannot be switched off in
# production; in development it can, for a quick look at the pages.
REQUIRE_TWO_FACTOR = env_bool("AVHOPP_REQUIRE_2FA", True)
if PRODUCTION and not REQUIRE_TWO_FACTOR:
    raise ImproperlyConfigured("AVHOPP_REQUIRE_2FA cannot be off when DJANGO_ENV=production.")
OTP_TOTP_ISSUER = "Avhopp"
# Passkeys (WebAuthn, avhopp.passkeys): a second factor only, never instead of the password.
# The relying party is the site's domain; the browser must be on one of the allowed origins.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Avhopp"
OTP_WEBAUTHN_RP_ID = env_str(
    "AVHOPP_WEBAUTHN_RP_ID", ALLOWED_HOSTS[0].lstrip(".") if PRODUCTION else "localhost"
)
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list(
    "AVHOPP_WEBAUTHN_ORIGINS",
    [f"https://{OTP_WEBAUTHN_RP_ID}"] if PRODUCTION else ["http://localhost:8000"],
)
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = "avhopp.passkeys"
# Re-authentication before highly sensitive operations (ASVS level 3).
AVHOPP_REAUTH_SECONDS = env_int("AVHOPP_REAUTH_SECONDS", 300, minimum=30)

# OpenID Connect sign-in through agencies' identity providers (avhopp.oidc). Each provider is
# configured in the admin; these are what mozilla-django-oidc reads for all of them.
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_callback"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env_int("AVHOPP_OIDC_TIMEOUT_SECONDS", 10, minimum=1)
OIDC_VERIFY_SSL = True
# Keys that encrypt client secrets kept in the database (Fernet, the first one encrypts; the
# others still decrypt, for rotation). Not needed when every secret is in the environment.
AVHOPP_ENCRYPTION_KEYS = env_list("AVHOPP_ENCRYPTION_KEYS", [])


def _check_fernet_keys(keys: list[str]) -> None:
    from cryptography.fernet import Fernet

    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"AVHOPP_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes; make one with `python -c 'from cryptography.fernet "
                "import Fernet; print(Fernet.generate_key().decode())'`)."
            ) from None


_check_fernet_keys(AVHOPP_ENCRYPTION_KEYS)

# Lockout after repeated failed logins, by user name and address together and by user name
# alone (an attacker spreading guesses over many addresses), with the same answer whether or
# not the user exists. A user name's first lockout is short and each further one in a day
# doubles, up to AVHOPP_LOCKOUT_MINUTES: guessing stays slow, while whoever can lock a user
# out keeps them out no longer than that after they stop.
AXES_FAILURE_LIMIT = env_int("AVHOPP_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
LOGIN_LOCKOUT_LONGEST = timedelta(minutes=env_int("AVHOPP_LOCKOUT_MINUTES", 15, minimum=1))
LOGIN_LOCKOUT_FIRST = min(timedelta(minutes=1), LOGIN_LOCKOUT_LONGEST)
LOGIN_LOCKOUT_MEMORY = timedelta(days=1)


def login_cool_off(request: object = None) -> timedelta:
    """How long the lockout of the request's user name lasts: doubled for each lockout it had
    in the last day, never longer than LOGIN_LOCKOUT_LONGEST."""
    from axes.helpers import get_client_username
    from axes.models import AccessFailureLog
    from django.utils import timezone

    username = get_client_username(request) if request is not None else None
    if not username:
        return LOGIN_LOCKOUT_LONGEST
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    lockouts = AccessFailureLog.objects.filter(
        username=username, locked_out=True, attempt_time__gte=now - LOGIN_LOCKOUT_MEMORY
    ).count()
    doublings = min(max(lockouts - 1, 0), 16)  # 2**16 minutes is past any sensible longest
    return min(LOGIN_LOCKOUT_FIRST * 2**doublings, LOGIN_LOCKOUT_LONGEST)


AXES_COOLOFF_TIME = login_cool_off
# The failure log remembers the lockouts the cool-off grows with; each attempt record expires
# on its own cool-off, so one user name's short lockout never clears another's longer one.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_USE_ATTEMPT_EXPIRATION = True
# Guesses during a lockout neither prolong it nor count: the lockout ends on time.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Lockout records hold request data: they stay out of the Django admin.
AXES_ENABLE_ADMIN = False

SESSION_IDLE_SECONDS = env_int("AVHOPP_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
SESSION_ABSOLUTE_SECONDS = env_int("AVHOPP_SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    AXES_IPWARE_PROXY_COUNT = 1

# No inline script or style anywhere: the policy allows only our own files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# How long a reason given for an outside-assignment read, or a reveal of a protected
# identity, stays valid in the session before it must be given again.
AVHOPP_REASON_TTL = timedelta(minutes=env_int("AVHOPP_REASON_TTL_MINUTES", 30, minimum=1))
# Threat-assessment review interval suggested when police record a new assessment.
AVHOPP_THREAT_REVIEW_DAYS = env_int("AVHOPP_THREAT_REVIEW_DAYS", 90, minimum=1)
# Working days (not weekends, Swedish public holidays, Midsummer, Christmas or New Year's
# Eve) a municipality has to answer a relocation offer before it goes back to matching.
AVHOPP_OFFER_ANSWER_WORKING_DAYS = env_int("AVHOPP_OFFER_ANSWER_WORKING_DAYS", 5, minimum=1)
# When the responsible worker records a case's outcomes: these many months after the case
# closed (or was dropped), or after its support began ("support"). No national standard
# exists; the issue names 6, 12 and 24 months from closing.
AVHOPP_OUTCOME_MONTHS = sorted(
    {int(months) for months in env_list("AVHOPP_OUTCOME_MONTHS", ["6", "12", "24"])}
)
if not AVHOPP_OUTCOME_MONTHS or min(AVHOPP_OUTCOME_MONTHS) < 1:
    raise ImproperlyConfigured("AVHOPP_OUTCOME_MONTHS must list whole months, e.g. 6,12,24.")
AVHOPP_OUTCOME_FROM = env_str("AVHOPP_OUTCOME_FROM", "closed")
if AVHOPP_OUTCOME_FROM not in {"closed", "support"}:
    raise ImproperlyConfigured("AVHOPP_OUTCOME_FROM must be closed or support.")

# How many months the audit log keeps (whole months leave together). 0: as long as the
# longest case file may lawfully stay, from the retention table (84 months by default).
AVHOPP_AUDIT_RETENTION_MONTHS = env_int("AVHOPP_AUDIT_RETENTION_MONTHS", 0)
# Whether a person's log extract names the staff who read the file, or only their agency
# and role (the default: staff in this work face threats, and municipal practice varies).
AVHOPP_LOG_EXTRACT_NAMES_STAFF = env_bool("AVHOPP_LOG_EXTRACT_NAMES_STAFF", False)
# How many reads of the month the log reviewers' sample draws (one from each equal part of the
# month, once the part has ended); at most 100.
AVHOPP_LOG_SAMPLE_SIZE = env_int("AVHOPP_LOG_SAMPLE_SIZE", 10, minimum=1)
if AVHOPP_LOG_SAMPLE_SIZE > 100:
    raise ImproperlyConfigured(f"AVHOPP_LOG_SAMPLE_SIZE={AVHOPP_LOG_SAMPLE_SIZE} is above 100.")

# E-mail: invitations and notices that something waits in Avhopp (never case content).
# SMTP wherever EMAIL_HOST is set, required in production; without it, development prints
# the mail on the console (`make run`).
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    # A mail server that hangs must not hold a worker for ever.
    EMAIL_TIMEOUT = env_int("AVHOPP_EMAIL_TIMEOUT_SECONDS", 10, minimum=1)
elif PRODUCTION:
    raise ImproperlyConfigured(
        "EMAIL_HOST must be set in production: invitations and notices go out by e-mail."
    )
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", None if PRODUCTION else "avhopp@localhost")
if "@" not in DEFAULT_FROM_EMAIL:
    raise ImproperlyConfigured(f"DEFAULT_FROM_EMAIL={DEFAULT_FROM_EMAIL!r} is not an address.")
SERVER_EMAIL = DEFAULT_FROM_EMAIL


def _base_url(value: str) -> str:
    """The address links in e-mail start with: a scheme and a host, no path."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
        raise ImproperlyConfigured(
            f"AVHOPP_BASE_URL={value!r} must be a scheme and a host, e.g. https://avhopp.example.se."
        )
    if PRODUCTION and parts.scheme != "https":
        raise ImproperlyConfigured("AVHOPP_BASE_URL must be https:// in production.")
    return value.rstrip("/")


AVHOPP_BASE_URL = _base_url(
    env_str(
        "AVHOPP_BASE_URL",
        f"https://{ALLOWED_HOSTS[0].lstrip('.')}" if PRODUCTION else "http://localhost:8000",
    )
)
# How long an invitation's link to choose a password works (Django's password-reset tokens:
# the link stops working once a password is chosen, or a new invitation is sent).
AVHOPP_INVITATION_HOURS = env_int("AVHOPP_INVITATION_HOURS", 72, minimum=1)
PASSWORD_RESET_TIMEOUT = AVHOPP_INVITATION_HOURS * 3600
# Reminders (a Celery beat job, once per thing and due date): threat reviews and
# interventions' follow-ups due within this many days, and consents running out.
AVHOPP_REMINDER_DAYS = env_int("AVHOPP_REMINDER_DAYS", 14, minimum=1)
AVHOPP_CONSENT_REMINDER_DAYS = env_int("AVHOPP_CONSENT_REMINDER_DAYS", 30, minimum=1)
# Notifications are pruned daily: read ones after this many days, any after the second.
AVHOPP_NOTIFICATION_READ_DAYS = env_int("AVHOPP_NOTIFICATION_READ_DAYS", 30, minimum=1)
AVHOPP_NOTIFICATION_DAYS = env_int("AVHOPP_NOTIFICATION_DAYS", 180, minimum=1)

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("REDIS_URL must be a redis:// URL.")
CELERY_BROKER_URL = REDIS_URL or "memory://"
# Without a broker the tasks run in-process: the embedded default for `make run`.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Fail fast when publishing to a dead broker, so a request is never held up by it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Every 2 minutes: publish again the jobs a broker outage or a vanished worker left owed.
    **{
        name: {"task": task, "schedule": 120.0}
        for name, task in (
            ("requeue-stale-referrals", "referrals.tasks.requeue_stale"),
            ("requeue-relocation-agreements", "relocations.tasks.requeue_agreements"),
            ("requeue-method-agreements", "method.tasks.requeue_agreements"),
            ("requeue-journal-extracts", "cases.tasks.requeue_journal_extracts"),
            ("requeue-retention-documents", "retention.tasks.requeue_documents"),
            ("requeue-research-extracts", "research.tasks.requeue_stale"),
            ("requeue-quarterly-reports", "followup.tasks.requeue_stale"),
            ("requeue-notification-mails", "avhopp.tasks.requeue_notification_mails"),
        )
    },
    "expire-consents": {"task": "cases.tasks.expire_consents", "schedule": 300.0},
    "expire-relocation-answers": {"task": "relocations.tasks.expire_answers", "schedule": 300.0},
    # An approved gallring is due by the end of next year, not in minutes; a run that gets on
    # keeps its proposal fresh, so only one stopped for 15 minutes is published again.
    "requeue-gallring": {"task": "retention.tasks.requeue_gallring", "schedule": 300.0},
    # Daily, though a month needs it once: a missed run is made up the next day.
    "audit-partitions-ahead": {
        "task": "avhopp.tasks.audit_partitions_ahead",
        "schedule": crontab(hour=1, minute=15),
    },
    # Nightly: the national register from the municipal data (idempotent, writes changes only).
    "build-register": {"task": "register.tasks.build", "schedule": crontab(hour=2, minute=30)},
    "prune-notifications": {
        "task": "avhopp.tasks.prune_notifications",
        "schedule": crontab(hour=3, minute=15),
    },
    # Daily: reminders of what comes due (each thing and due date once, whatever the reruns).
    "send-reminders": {
        "task": "cases.tasks.send_reminders",
        "schedule": crontab(hour=6, minute=45),
    },
    "send-outcome-reminders": {
        "task": "method.tasks.send_outcome_reminders",
        "schedule": crontab(hour=6, minute=50),
    },
    # Monthly: the gallring proposals, and the log's months past their retention.
    "propose-gallring": {
        "task": "retention.tasks.propose_gallring",
        "schedule": crontab(day_of_month=1, hour=2, minute=30),
    },
    "expire-audit-partitions": {
        "task": "retention.tasks.expire_audit_partitions",
        "schedule": crontab(day_of_month=2, hour=2, minute=30),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("AVHOPP_LOG_LEVEL", "INFO")},
    # WeasyPrint and fontTools narrate every render at INFO, axes every login: our own
    # audit log already records those.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
