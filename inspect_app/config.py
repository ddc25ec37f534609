"""Configuration defaults; overridden by instance/config.py and INSPECT_* environment variables."""

from datetime import timedelta

# A value the app refuses to run with outside debug/testing.
INSECURE_SECRET_KEY = "dev-insecure-change-me"
INSECURE_AUDIT_HMAC_KEY = "dev-insecure-audit-key-change-me"


class Defaults:
    """Settings every deployment starts from."""

    SECRET_KEY = INSECURE_SECRET_KEY
    # Earlier SECRET_KEYs, newest first, kept while rotating: sessions signed with them stay valid
    # and two-step secrets sealed with them still open until `flask users reseal-mfa` has run
    # (docs/deploy.md). A JSON list in the environment; one string is one key.
    SECRET_KEY_FALLBACKS: list[str] = []
    DATABASE_URL = None  # falls back to sqlite in instance/
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    UPLOAD_DIR = None  # falls back to instance/uploads
    EXPORT_DIR = None  # workbooks being built; falls back to instance/exports
    REDIS_URL = None  # when set, Flask-Limiter stores its counters there
    DEFAULT_LOCALE = "zh_Hans_CN"
    LANGUAGES = ("zh_Hans_CN", "en")
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = "translations"

    # Requests: 16 MB is plenty once the tablet has downscaled photos.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    # Text responses are compressed by the app (Flask-Compress), brotli or gzip as the browser
    # accepts. Streamed responses (workbooks, evidence, the service worker) never are, nor are
    # images or downloads; a proxy that compresses instead: COMPRESS_REGISTER = False
    # (docs/deployment.md).
    COMPRESS_REGISTER = True
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_STREAMS = False
    COMPRESS_MIN_SIZE = 500

    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto/-Host are
    # trusted for that many hops, so rate limits and the audit log see the client's address.
    PROXY_HOPS = 0
    # Only requests from these addresses (or networks) may set X-Forwarded-*; from anywhere else
    # the headers are dropped. A comma-separated string works in the environment.
    TRUSTED_PROXIES = ("127.0.0.1", "::1")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    # Every login is a row on the server (login_sessions): it ends at logout, after this long
    # without a request, and this long after the login whatever happens (instance/README.md says
    # why these values). Environment variables give them in seconds.
    SESSION_IDLE_TIMEOUT = timedelta(hours=1)
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
    # "Keep me signed in" outlives a closed browser, never the absolute lifetime (clamped).
    REMEMBER_COOKIE_DURATION = timedelta(hours=12)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    # Login records (who, when, from where) are deleted this many days after they ended, by a
    # daily task: at least 184, any six calendar months (the network logs 网络安全法 asks for).
    LOGIN_SESSION_RETENTION_DAYS = 184

    # Tokens live as long as the session: field work spans hours offline.
    WTF_CSRF_TIME_LIMIT = None

    LOGIN_RATE_LIMIT = "10 per minute"
    # After this many failed logins in a row (password or code) an account is locked for
    # LOGIN_LOCKOUT_BASE, doubling with every further failure up to LOGIN_LOCKOUT_MAX.
    LOGIN_LOCKOUT_THRESHOLD = 5
    LOGIN_LOCKOUT_BASE = timedelta(minutes=1)
    LOGIN_LOCKOUT_MAX = timedelta(minutes=15)
    # Roles that must log in with a second step (TOTP); others may turn it on themselves.
    MFA_REQUIRED_ROLES = ("admin", "coordinator")
    # Name shown in the authenticator app (fixed in the QR code at set-up, so not translated:
    # Chinese, the users' language; the office may put its own name here).
    MFA_ISSUER = "网络安全联合检查"
    # Time allowed between the password and the second step.
    MFA_PENDING_TIMEOUT = timedelta(minutes=10)
    RATELIMIT_HEADERS_ENABLED = False
    # Redis down: the limits fall back to each process's memory (still limits, per process)
    # rather than refusing every login; accounts still lock after LOGIN_LOCKOUT_THRESHOLD
    # failures, which is kept in the database (docs/deployment.md, "When Redis is down").
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

    # werkzeug's default (scrypt); tests use a cheaper method.
    PASSWORD_HASH_METHOD = "scrypt"
    # ASVS 5.0 V6.2: length, a list of common passwords and the username; no composition rules.
    PASSWORD_MIN_LENGTH = 12

    # The audit chain's HMAC key, kept outside the database (docs/audit.md); required outside
    # debug/testing. Retired keys stay listed in AUDIT_HMAC_OLD_KEYS so older events still verify.
    AUDIT_HMAC_KEY = INSECURE_AUDIT_HMAC_KEY
    AUDIT_HMAC_OLD_KEYS: tuple[str, ...] = ()
    # Chains the audit log may spread over: writers committing at the same time take different
    # chains instead of queueing on one head (docs/audit.md). 1 to 64; SQLite uses chain 1 only.
    AUDIT_CHAINS = 8
    AUDIT_ANCHOR_FILE = None  # falls back to instance/audit-anchors.log
    AUDIT_SYSLOG_ADDRESS = "/dev/log"  # where `flask audit anchor --syslog` sends its line

    PAGE_SIZE = 25
    # Unit/system Excel imports: largest file accepted.
    DIRECTORY_IMPORT_MAX_BYTES = 5 * 1024 * 1024

    # Rectification notices: 文号 pattern with {year} and {seq}.
    NOTICE_NUMBER_PATTERN = "师市网信整改〔{year}〕第{seq}号"
    # 检查通知书 (advance notice of a visit), numbered in the year once the plan is approved.
    ADVANCE_NOTICE_NUMBER_PATTERN = "师市网信检通〔{year}〕第{seq}号"
    # The administrative organ that issues and seals the notice (the 执法主体, never the Party
    # office 市委网信办: 复议 and 诉讼 lie only against an administrative organ); for a 师市 office
    # e.g. "第一师阿拉尔市互联网信息办公室". NOTICE_ISSUER_DEPARTMENT is its department's code.
    NOTICE_ISSUER = "示例师示例市互联网信息办公室"
    NOTICE_ISSUER_DEPARTMENT = "CAC"
    # Joint notices: department code -> its administrative organ, e.g. {"PSB": "示例市公安局"}. A
    # notice whose findings another department on the team leads is co-issued with that organ.
    NOTICE_CO_ISSUERS: dict[str, str] = {}
    # Contact for questions and paper rectification reports, printed on the notice.
    NOTICE_CONTACT_NAME = ""
    NOTICE_CONTACT_PHONE = ""
    NOTICE_CONTACT_ADDRESS = ""
    # 抄送: bodies copied on every notice (the units' 主管部门 or 保护工作部门), may be empty.
    NOTICE_CC: tuple[str, ...] = ()
    # 行政复议机关 named in the notice's remedies clause (the city government for a city office,
    # 行政复议法 2023 第24条); the clause is left out of 党政机关督查 notices.
    RECONSIDERATION_BODY = "示例市人民政府"
    # 任务来源 when a visit names none: the yearly plan, with {year}, {seq} and {title}.
    INSPECTION_PLAN_TITLE = "{year}年度网络安全监督检查计划第{seq}轮（{title}）"
    # The nature of a visit by the unit's kind (others: 涉企行政检查; a 专项排查 round: 专项排查),
    # and the kinds addressed as 党政机关 (consequences by the responsibility system).
    # 兵团 kinds without an entry take their legal character's (models/org.py: 团场 and 团镇 are
    # 党政机关); a 连队 is supervised too, though checklists treat it as `other`.
    VISIT_NATURE_BY_KIND = {
        "party_gov": "party_gov_supervision",
        "company": "party_gov_supervision",
    }
    # 扫码入企: when True, an inspection is submitted only after its visit's arrival was
    # registered by scanning the unit's code (inspections/arrival.py).
    REQUIRE_ARRIVAL_SCAN = False
    PARTY_GOV_KINDS = ("party_gov",)  # 团场/团镇 by their legal character
    # The region's provincial-level bodies, named in guidance where a rule says "the
    # provincial-level body" (省级网信部门 etc., region.py). 兵团 is provincial-level: for a 师市
    # office these are the 兵团's bodies, and ICP/APP filing lies with 新疆通信管理局.
    PROVINCIAL_REGION = "兵团"
    PROVINCIAL_BODIES = {
        "cac": "兵团党委网信办",
        "police": "兵团公安局",
        "industry": "兵团工业和信息化局",
        "secrecy": "兵团保密局",
        "telecom": "新疆通信管理局",
    }
    # Repeat findings: the same unit and item within this many days of an earlier round's
    # finding are linked and counted, and raised one risk level when REPEAT_RAISES_SEVERITY.
    REPEAT_WINDOW_DAYS = 365
    REPEAT_RAISES_SEVERITY = True
    # Rectification items due within this many days are "due soon".
    DUE_SOON_DAYS = 7
    # The service worker's version (the footer shows it); None: the app's version and a hash of
    # the static files, so a deployment that changes a file installs a new worker.
    SERVICE_WORKER_VERSION = None
    # E-mail for notifications, sent by `flask rectification remind` (instance/README.md). Without
    # MAIL_SERVER nothing is mailed; the bell in the app works either way.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_SENDER = ""  # the From address; noreply@MAIL_SERVER when empty
    MAIL_USE_TLS = False  # STARTTLS after connecting (often port 587)
    MAIL_USE_SSL = False  # TLS from the first byte (often port 465)
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""  # a secret: instance/config.py or INSPECT_MAIL_PASSWORD, never the repo
    MAIL_TIMEOUT = 10  # seconds per connection attempt and reply
    # Notifications older than this are not mailed (switching mail on sends no backlog).
    MAIL_MAX_AGE_DAYS = 7
    # The address users reach the app at (https://inspect.example.gov.cn, or with a path prefix):
    # when set, each e-mailed notification links its item. Empty: no links.
    PUBLIC_URL = ""
    # The dashboard keeps its figures this long at most, and only while the data is unchanged
    # (dashboard/cache.py); 0 computes them at every page load.
    DASHBOARD_CACHE_SECONDS = 300
    # After each change that may move a figure, the job consumer computes the coordinators' and
    # viewers' home, the round under way's dashboard and the year's annual report ahead of the
    # next page load (dashboard/snapshots.py); needs the cache on.
    DASHBOARD_REFRESH = True
    # Also kept ahead by the refresh: this many of the dashboard's other views of this year (a
    # round, a department, a unit kind) opened last within a week, each from the first page load
    # that computed it; 0 keeps none. Each costs the consumer up to about 0.3 s per change and
    # per renewal at a year's full size.
    DASHBOARD_KEPT_VIEWS = 12
    # A non-compliant veto item (一票否决) caps an inspection's score at this value.
    VETO_SCORE_CAP = 59

    # Evidence files: photos are downscaled on the tablet; this is the hard limit per file.
    EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    EVIDENCE_MAX_PIXELS = 40_000_000
    # Audio and video recordings (执法记录仪 clips, MP4/M4A) per file; the one route that takes
    # them accepts requests this large (plus the form), every other keeps MAX_CONTENT_LENGTH.
    EVIDENCE_MEDIA_MAX_BYTES = 512 * 1024 * 1024
    THUMBNAIL_SIZE = 320
    # Where evidence files live: "local" (UPLOAD_DIR; with several hosts, one folder they all
    # mount) or "s3" (an S3-compatible bucket; needs `pip install -e '.[s3]'`). docs/deploy.md.
    EVIDENCE_STORE = "local"
    EVIDENCE_S3_BUCKET = None
    EVIDENCE_S3_ENDPOINT_URL = None  # e.g. https://minio.example:9000; None: AWS itself
    EVIDENCE_S3_REGION = None
    EVIDENCE_S3_PREFIX = ""  # keys under this folder of the bucket
    EVIDENCE_S3_ADDRESSING_STYLE = "path"  # "path" suits MinIO/Ceph; "virtual" or "auto"
    # Secrets: instance/config.py or INSPECT_EVIDENCE_S3_* / AWS_* variables, never the repo.
    # Unset, boto3 looks in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws and instance roles.
    EVIDENCE_S3_ACCESS_KEY_ID = None
    EVIDENCE_S3_SECRET_ACCESS_KEY = None
    EVIDENCE_S3_TIMEOUT = 5  # seconds to connect and per read
    EVIDENCE_S3_ATTEMPTS = 3  # tries per call, including the first
    EVIDENCE_S3_POOL_SIZE = 10  # connections per process (at least the gunicorn threads)
    # Files read from the bucket are kept here (0700) to be sent; safe to empty at any time.
    EVIDENCE_CACHE_DIR = None  # falls back to instance/evidence-cache

    # Yearly inspection cap per unit kind (国办发〔2024〕54号); a unit's own cap overrides it.
    INSPECTION_CAPS = {
        "party_gov": 6,
        "public_institution": 4,
        "soe": 4,
        "private_enterprise": 4,
        "other": 4,
        "company": 6,  # 团场/团镇 without an entry: their legal character's (party_gov)
    }

    # Background jobs (huey): SQLite queue file in instance/ by default, Redis when REDIS_URL is
    # set; JOBS_IMMEDIATE runs each job inline as it is started (tests). See docs/jobs.md.
    JOBS_IMMEDIATE = False
    JOBS_SQLITE_FILE = None  # falls back to instance/jobs.sqlite
    JOBS_DIR = None  # finished files; falls back to instance/jobs (0700, files 0600)
    JOB_RETENTION = timedelta(hours=24)  # a finished file is deleted this long after (seconds)
    # A running job writes its progress at most this often (seconds); a job silent for longer
    # than JOBS_STALE_AFTER (seconds in env vars) is taken for dead.
    JOBS_PROGRESS_INTERVAL = 1.0
    JOBS_STALE_AFTER = timedelta(minutes=30)
    JOBS_WORKERS = 2  # worker threads of `flask jobs worker`
    JOBS_QUEUE_NAME = "inspect-jobs"  # two installations sharing one Redis need two names
