"""One settings module, driven by the environment.

With nothing set, the *embedded default* runs on one machine with no services: SQLite (WAL)
under ``var/``, the in-memory channel layer, Celery tasks run in process and periodic sweeps
on an in-process scheduler. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL, the
Redis channel layer and Celery workers + beat. ``INVIGILATE_PRODUCTION=1`` adds the
HTTPS-only hardening that ``manage.py check --deploy`` asks for.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = env_bool("INVIGILATE_PRODUCTION", False)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
VAR_DIR = Path(os.environ.get("INVIGILATE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION and not os.environ.get("SECRET_KEY"):
    raise RuntimeError("SECRET_KEY must be set when INVIGILATE_PRODUCTION=1")
SECRET_KEY = os.environ.get(
    "SECRET_KEY", "embedded-only-insecure-key-" + "x" * 40
)
# The keyed hash of ID numbers has its own key so that rotating SECRET_KEY (sessions)
# does not make every stored ID-number hash unfindable.
ID_NUMBER_HASH_KEY = os.environ.get("ID_NUMBER_HASH_KEY", SECRET_KEY)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "channels",
    "invigilate.accounts",
    "invigilate.audit",
    "invigilate.exams",
    "invigilate.realtime",
    "invigilate.proctoring",
    "invigilate.media",
    "invigilate.helpdesk",
    "invigilate.supervision",
    "invigilate.evidence",
    "invigilate.review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "invigilate.accounts.middleware.CandidateSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "invigilate.urls"
ASGI_APPLICATION = "invigilate.asgi.application"
WSGI_APPLICATION = None

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
                "invigilate.accounts.context_processors.candidate",
            ],
        },
    }
]

# --- Data ---------------------------------------------------------------------------------
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    # Writers take the lock at BEGIN: no deadlock when two transactions upgrade at once.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
    elif os.environ.get("DATABASE_POOL", "1") == "1":
        # psycopg 3's pool: daphne runs ORM work in a thread pool, so connections are
        # borrowed per unit of work instead of one per thread for ever.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": int(os.environ.get("DATABASE_POOL_MIN", "2")),
            "max_size": int(os.environ.get("DATABASE_POOL_MAX", "20")),
            "timeout": 10,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "invigilate.sqlite3",
            # A file, not memory: the live-server tests share it with a daphne child.
            "TEST": {"NAME": VAR_DIR / f"test-{os.getpid()}.sqlite3"},
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same length as
                # channels-redis's blocking receive: every idle consumer then dies with
                # "Timeout reading from ...". Give reads more time than the blocking pop.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "invigilate"),
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CHANNEL_LAYER_PREFIX", "invigilate"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background work --------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# Periodic sweeps. Celery beat runs them in production; with no broker the embedded
# scheduler (invigilate.scheduler) runs the same tasks on the same intervals in process.
# Each sweep is idempotent, so a duplicate run by two schedulers changes nothing.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
EMBEDDED_SCHEDULER = env_bool("EMBEDDED_SCHEDULER", not REDIS_URL)

# --- Auth -------------------------------------------------------------------------------
LOGIN_URL = "accounts:staff_login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:staff_login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Candidate login throttling: per admission ticket (a hall of candidates may share one
# NAT address, so the per-address limit is deliberately loose).
CANDIDATE_LOGIN_FAILURES_PER_TICKET = int(os.environ.get("CANDIDATE_LOGIN_FAILURES_PER_TICKET", "5"))
CANDIDATE_LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("CANDIDATE_LOGIN_FAILURES_PER_ADDRESS", "300"))
CANDIDATE_LOGIN_LOCKOUT = timedelta(minutes=int(os.environ.get("CANDIDATE_LOGIN_LOCKOUT_MINUTES", "15")))
STAFF_LOGIN_FAILURES_PER_USER = 10
# A PC session counts as live while its browser was heard from within this many seconds.
CANDIDATE_SESSION_LIVE_SECONDS = int(os.environ.get("CANDIDATE_SESSION_LIVE_SECONDS", "30"))

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "invigilate" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")

# --- Files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"  # every stored file goes through an authorising view
SERVE_STATIC = env_bool("SERVE_STATIC", not PRODUCTION)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if os.environ.get("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL"),
        },
    }
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Security ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # One line per periodic sweep every few seconds drowns everything else.
        "celery.app.trace": {"level": "WARNING"},
    },
}

if env_bool("INVIGILATE_FAST_PASSWORD_HASHER", False):
    # Tests only: the real hasher costs ~0.3 s a user, which the suite cannot afford.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Evidence uploads (tus) ---------------------------------------------------------------
EVIDENCE_MAX_UPLOAD_BYTES = int(os.environ.get("EVIDENCE_MAX_UPLOAD_BYTES", str(4 * 1024**3)))
EVIDENCE_QUOTA_BYTES_PER_REGISTRATION = int(os.environ.get("EVIDENCE_QUOTA_BYTES", str(16 * 1024**3)))
EVIDENCE_UPLOAD_EXPIRY = timedelta(hours=int(os.environ.get("EVIDENCE_UPLOAD_EXPIRY_HOURS", "72")))
# A long PATCH without a checksum is committed to storage every this many bytes while it
# arrives (the rest when its connection drops), so a connection that dies silently, or a
# crash, loses at most this much and the spooled request never grows past it.
EVIDENCE_COMMIT_EVERY_BYTES = int(os.environ.get("EVIDENCE_COMMIT_EVERY_BYTES", str(8 * 1024**2)))
EVIDENCE_SPOOL_MEMORY_BYTES = 1024**2
CELERY_BEAT_SCHEDULE["evidence-expire-uploads"] = {"task": "evidence.uploads_expire", "schedule": timedelta(minutes=10)}
# Live alerts: escalate alerts left open too long; mark candidates whose heartbeats stopped.
CELERY_BEAT_SCHEDULE["proctoring-escalate"] = {"task": "proctoring.alerts_escalate_overdue", "schedule": 5.0}
CELERY_BEAT_SCHEDULE["proctoring-disconnected"] = {"task": "proctoring.registrations_mark_disconnected", "schedule": 5.0}
# The candidate journey: force-submit everyone still in an ended exam (idempotent sweep).
CELERY_BEAT_SCHEDULE["exams-force-submission"] = {"task": "exams.force_submission_sweep", "schedule": 15.0}
# Help desk sweeps: lapsed offers (claim limit), unresolved requests, silent consoles.
CELERY_BEAT_SCHEDULE["helpdesk-sweep-offers"] = {"task": "helpdesk.sweep_offers", "schedule": timedelta(seconds=5)}
CELERY_BEAT_SCHEDULE["helpdesk-sweep-unresolved"] = {"task": "helpdesk.sweep_unresolved", "schedule": timedelta(seconds=30)}
CELERY_BEAT_SCHEDULE["helpdesk-sweep-presence"] = {"task": "helpdesk.sweep_presence", "schedule": timedelta(seconds=15)}
# --- Media plane (invigilate.media) -------------------------------------------------------
# The embedded default runs one media worker inside the web process; with Redis, run
# ``manage.py media_worker`` processes (one per core) and the web processes run none.
MEDIA_EMBEDDED_WORKER = env_bool("MEDIA_EMBEDDED_WORKER", not REDIS_URL)
# Tests: gather only 127.0.0.1 and drop remote candidates outside 127.0.0.0/8.
MEDIA_ICE_LOOPBACK_ONLY = env_bool("MEDIA_ICE_LOOPBACK_ONLY", False)
MEDIA_STUN_URLS = env_list("MEDIA_STUN_URLS", "")
MEDIA_TURN_URLS = env_list("MEDIA_TURN_URLS", "")
MEDIA_TURN_SECRET = os.environ.get("MEDIA_TURN_SECRET", "")
MEDIA_TURN_TTL_SECONDS = int(os.environ.get("MEDIA_TURN_TTL_SECONDS", str(4 * 3600)))
MEDIA_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("MEDIA_WORKER_HEARTBEAT_SECONDS", "2"))
MEDIA_WORKER_DEAD_AFTER_SECONDS = float(os.environ.get("MEDIA_WORKER_DEAD_AFTER_SECONDS", "10"))
# Above this share of a core a worker takes no new candidates (event-loop lag jumps at ~0.9).
MEDIA_WORKER_MAX_LOAD = float(os.environ.get("MEDIA_WORKER_MAX_LOAD", "0.8"))
# A stopping worker waits this long for its last recording segments to be recorded.
MEDIA_WORKER_STOP_DRAIN_SECONDS = float(os.environ.get("MEDIA_WORKER_STOP_DRAIN_SECONDS", "15"))
# How often a worker gives its C heap's free pages back (media/native_memory.py); 0: never.
MEDIA_WORKER_HEAP_TRIM_SECONDS = float(os.environ.get("MEDIA_WORKER_HEAP_TRIM_SECONDS", "30"))
MEDIA_THUMBNAIL_CAMERA_SECONDS = float(os.environ.get("MEDIA_THUMBNAIL_CAMERA_SECONDS", "1"))
MEDIA_THUMBNAIL_SCREEN_SECONDS = float(os.environ.get("MEDIA_THUMBNAIL_SCREEN_SECONDS", "5"))
# The wall's thumbnails of a room leave the worker together, at most this late (seconds).
MEDIA_THUMBNAIL_BATCH_SECONDS = float(os.environ.get("MEDIA_THUMBNAIL_BATCH_SECONDS", "0.2"))
MEDIA_THUMBNAIL_KEEP_MINUTES = int(os.environ.get("MEDIA_THUMBNAIL_KEEP_MINUTES", "30"))
MEDIA_RECORDING = env_bool("MEDIA_RECORDING", True)
MEDIA_RECORDING_SEGMENT_SECONDS = float(os.environ.get("MEDIA_RECORDING_SEGMENT_SECONDS", "60"))
MEDIA_DETECTORS = env_bool("MEDIA_DETECTORS", True)
# Opus packet time asked of candidates' senders in the answer (0: leave the browser's 20 ms).
MEDIA_AUDIO_PTIME_MS = int(os.environ.get("MEDIA_AUDIO_PTIME_MS", "60"))
# The face model looks at a candidate's camera picture only when it moved since the last one
# it looked at, at most every FRAME seconds and at least every REFRESH seconds; covered and
# frozen are judged on every thumbnail (invigilate.media.detectors.CandidateFlags).
MEDIA_DETECTOR_FRAME_SECONDS = float(os.environ.get("MEDIA_DETECTOR_FRAME_SECONDS", "2"))
MEDIA_DETECTOR_FACE_REFRESH_SECONDS = float(os.environ.get("MEDIA_DETECTOR_FACE_REFRESH_SECONDS", "10"))
# While the scene stays as the full-range face model last saw it, the short-range model confirms
# the face at most this often; the pictures between keep its answer.
MEDIA_DETECTOR_CONFIRM_SECONDS = float(os.environ.get("MEDIA_DETECTOR_CONFIRM_SECONDS", "4"))
# The detector pool's processes run this much nicer than the worker (os.nice): on a shared core
# the media path goes first; the worker's stats say how late the detectors' answers come.
MEDIA_DETECTOR_NICENESS = int(os.environ.get("MEDIA_DETECTOR_NICENESS", "10"))
CELERY_BEAT_SCHEDULE["media-worker-sweep"] = {"task": "invigilate.media.tasks.media_worker_sweep", "schedule": 5.0}
CELERY_BEAT_SCHEDULE["media-thumbnail-purge"] = {"task": "invigilate.media.tasks.thumbnail_purge", "schedule": 300.0}
# Evidence: phones silent while their exam runs (killed app, dead phone) -> phone_interrupted.
CELERY_BEAT_SCHEDULE["evidence-phone-silence"] = {"task": "evidence.phone_silence_sweep", "schedule": 5.0}
CELERY_BEAT_SCHEDULE["evidence-late"] = {"task": "evidence.late_sweep", "schedule": 10.0}

# Supervision: close room-dashboard connections whose process died without a goodbye.
CELERY_BEAT_SCHEDULE["supervision-connections"] = {"task": "supervision.dashboard_connections_sweep", "schedule": 15.0}
# Exams: complete submissions whose last uploads arrived while no page asked.
CELERY_BEAT_SCHEDULE["exams-completion"] = {"task": "exams.completion_sweep", "schedule": 30.0}
