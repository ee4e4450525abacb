"""Typed settings: documented defaults, then a YAML config file, then CALLENGINE_* variables.

Every delay and window is in seconds (plain numbers, or with a unit: 90s, 15m, 2h) so that a
lab run can compress a day into minutes.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from callengine.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_QUESTIONNAIRE = PACKAGE_DIR / "questionnaires" / "covid_daily.yaml"
REPO_SOUNDS = PACKAGE_DIR.parent / "sounds" / "vi"
DIAL_FORMATS = ("national", "e164", "international")
log = logging.getLogger("callengine.settings")


@dataclass(frozen=True)
class Trunk:
    """One SIP trunk: the PJSIP endpoint to dial through and its carrier limits."""

    name: str
    endpoint: str
    carriers: tuple[str, ...] = ()
    max_channels: int = 10
    cps: float = 2.0
    dial_format: str = "national"
    caller_id: str | None = None


@dataclass(frozen=True)
class CallWindow:
    """Daily window, local time, in which calls may start."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start.strftime('%H:%M:%S')}-{self.end.strftime('%H:%M:%S')}"


def _default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/callengine")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "callengine"


@dataclass(frozen=True)
class Settings:
    """All settings of the engine. Field comments are the reference documentation."""

    data_dir: Path = field(default_factory=_default_data_dir)  # SQLite file, recordings
    database_url: str = ""  # empty: sqlite:///<data_dir>/callengine.db
    timezone: str = "Asia/Ho_Chi_Minh"
    call_window: CallWindow = CallWindow(time(8, 0), time(20, 0))
    window_close_guard: float = 300  # no call starts this close to the window's end
    ring_timeout: float = 30  # seconds a number may ring before no_answer
    max_call_duration: float = 240  # hard cap on an answered call (dialplan TIMEOUT(absolute))
    answer_timeout: float = 6  # seconds to wait for a key after each question
    reprompts: int = 2  # re-prompts of a question before its answer is 'unknown'
    silent_limit: int = 2  # consecutive unknown answers that end the call (partial)
    max_attempts_per_day: int = 4
    retry_busy: float = 900
    retry_no_answer: float = 3600
    retry_congestion: float = 300  # doubled after each congestion, up to retry_congestion_max
    retry_congestion_max: float = 3600
    retry_partial: float = 1800  # once
    retry_rejected: float = 7200  # once
    retry_failed: float = 300  # doubled like congestion
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "callengine"
    ami_secret: str = ""  # from the environment or a root-only config file, never the repo
    ami_ping_interval: float = 10
    server_id: str = ""  # empty: made once and kept in <data_dir>/server-id (survives renames)
    questionnaire: Path = DEFAULT_QUESTIONNAIRE
    survey_context: str = "callengine-survey"
    cdr_path: Path = Path("/var/log/asterisk/cdr-custom/callengine.csv")
    trunks: tuple[Trunk, ...] = (Trunk(name="default", endpoint="carrier"),)
    default_trunk: str = "default"
    trunk_failure_threshold: int = 3  # consecutive trunk failures that mark it down
    trunk_down_cooloff: float = 60  # seconds a down trunk is skipped
    attempt_grace: float = 15  # wait for late events before calling an attempt lost
    stale_attempt_age: float = 3600  # a live attempt older than this (any server's) is ended
    plan_time: str = "07:30"  # local time the daily plan creates the day's calls
    monitoring_days_returnee: int = 14  # from the arrival date
    monitoring_days_f1: int = 14  # from the last contact
    monitoring_days_f2: int = 7  # from the last contact
    # The exposure query (callengine/health/exposure.py).
    exposure_days_before: int = 2  # the case's visits counted from this many days before
    # sampling or symptom onset (whichever is earlier) up to isolation
    exposure_min_overlap_minutes: int = 1  # an overlap counts only when longer than this
    # Spoken answers: when a question gets no key, the dialplan records the answer and asks the
    # engine's FastAGI server to recognise it (worker processes, never the dialer's loop).
    speech: bool = True  # record and recognise spoken answers
    speech_recognizer: str = "viet-asr"  # viet-asr (offline, embedded model) or vosk
    vosk_model: Path = Path("")  # model directory, for speech_recognizer: vosk
    speech_workers: int = 2  # recognition processes (about 250 MB each with viet-asr)
    speech_confidence: float = 0.5  # spoken answers below it are 'unknown' and reviewed
    speech_reply_timeout: float = 4  # longer than this, the answer is kept and recognised later
    speech_max_queued: int = 16  # recognitions waiting for a worker; more stay pending for later
    agi_host: str = "127.0.0.1"  # where the engine's FastAGI server listens
    agi_port: int = 4573
    # Addresses or networks Asterisk connects from (comma-separated); others are refused.
    agi_allowed_peers: tuple[str, ...] = ("127.0.0.1", "::1")
    agi_max_connections: int = 32  # AGI connections served at once; more are refused
    agi_address: str = ""  # how Asterisk reaches it (host:port); empty: agi_host:agi_port
    recordings_dir: Path = Path("/var/spool/asterisk/callengine")  # Asterisk writes answers here
    recordings_keep_days: int = 30  # spoken answers are health data: deleted after this
    greetings_dir: Path = Path("/var/lib/asterisk/sounds/callengine/greetings")  # per person
    asterisk_group: str = ""  # Asterisk's group, when it runs as another user: greetings 0640
    sounds_dir: Path = REPO_SOUNDS  # the prompts Asterisk plays (CE_SOUNDS), as seen here
    prompt_upload_max_mb: int = 10  # larger prompt recordings are refused (admin)
    prompt_max_seconds: float = 60  # longer prompt recordings are refused (admin)
    asterisk_root: Path = Path("/")  # Asterisk's filesystem as the engine sees it (lab: chroot)
    campaign_poll_interval: float = 2  # seconds between looks at the campaign row (admin)
    # Uploaded lists (the admin's imports page and API): refused before they are parsed.
    import_max_file_size: int = 20 * 2**20  # bytes per file (or e.g. 20MB, 512KB)
    import_max_request_size: int = 40 * 2**20  # bytes of all files of one upload
    import_max_unpacked_size: int = 200 * 2**20  # an .xlsx's members, uncompressed, in all
    import_max_compression_ratio: float = 100  # an .xlsx member packed tighter is a zip bomb
    # Every list, uploaded or given to `callengine import`: a sheet larger is refused unread.
    import_max_rows: int = 300_000  # rows of one sheet (its used range)
    import_max_columns: int = 256  # columns of one sheet
    import_max_cells: int = 6_000_000  # rows x columns of one sheet
    import_preview_ttl: float = 3600  # seconds a stored preview can be committed
    # Vaccination certificates (EU DCC): the document signer's key and certificate (never in
    # the repository; `callengine certificates keygen` writes both for a test deployment).
    certificate_key: Path = Path("")  # empty: <data_dir>/certificates/signing-key.pem
    certificate_signer: Path = Path("")  # empty: <data_dir>/certificates/signer.pem
    certificate_issuer: str = "Bộ Y tế Việt Nam"  # the certificate's `is`
    certificate_validity_days: int = 365  # a certificate expires this long after it is made
    # Least days between doses, per product (code or short name): 'AZ=56,Pfizer=21'; the
    # products file (callengine/vaccines.yaml) has the defaults.
    vaccine_min_intervals: tuple[tuple[str, int], ...] = ()
    log_level: str = "INFO"
    # Prometheus /metrics and the service manager's /healthz of `callengine run` (own thread).
    metrics_host: str = "127.0.0.1"  # keep it on loopback (or a monitoring-only network)
    metrics_port: int = 0  # 0: off; e.g. 9464
    # The admin web app (admin/, `callengine admin`).
    admin_secret_key: str = ""  # signs session cookies; required to serve; environment only
    admin_host: str = "127.0.0.1"  # where `callengine admin` listens
    admin_port: int = 5000
    admin_session_idle_timeout: float = 1800  # a session unused this long must sign in again
    admin_secure_cookies: bool = False  # true when served over HTTPS (behind a proxy)
    admin_trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-* to trust
    admin_login_limit_account: str = "5 per minute"  # sign-in attempts per account
    admin_login_limit_client: str = "20 per minute"  # sign-in attempts per client address
    admin_language: str = "vi"  # vi or en, until a user picks another
    admin_max_request_mb: int = 20  # larger request bodies are refused (413)
    admin_password_time_cost: int = 3  # argon2id passes (tests lower it)
    admin_password_memory_kib: int = 65536  # argon2id memory per hash (tests lower it)
    # The admin's /metrics and /healthz: a listener of their own, never the public port.
    admin_metrics_host: str = "127.0.0.1"
    admin_metrics_port: int = 0  # 0: off; e.g. 9465
    # Venue check-in (QR posters, the public page /c/<token>).
    public_url: str = ""  # how residents reach the admin, e.g. https://khaibao.example.vn;
    # the posters' QR codes hold <public_url>/c/<token>: required to print a poster
    checkin_retention_days: int = 30  # check-ins older than this are deleted by the daily job
    venue_stay_minutes: int = 60  # a check-in's stay when its venue has no length of its own
    checkin_limit_client: str = "30 per 10 minutes"  # check-ins sent from one client address
    checkin_limit_venue: str = "600 per 10 minutes"  # new check-ins at one venue
    # The residents' result lookup (/r): tries per client address and per phone number.
    lookup_limit_client: str = "10 per 10 minutes"
    lookup_limit_phone: str = "5 per 10 minutes"
    # The business risk self-assessment (/v/<token>/risk): forms sent per client and per venue.
    risk_limit_client: str = "10 per 10 minutes"
    risk_limit_venue: str = "20 per 1 hour"

    def on_engine_host(self, asterisk_path: Path) -> Path:
        """A path Asterisk uses (recordings, greetings), as the engine process sees it."""
        return self.asterisk_root / Path(asterisk_path).relative_to("/")

    @property
    def effective_agi_address(self) -> str:
        return self.agi_address or f"{self.agi_host}:{self.agi_port}"

    def monitoring_days(self) -> dict[str, int]:
        """Monitoring period per category, for the import."""
        return {"returnee": self.monitoring_days_returnee, "F1": self.monitoring_days_f1,
                "F2": self.monitoring_days_f2}

    @property
    def admin_login_rates(self) -> tuple[tuple[int, float], tuple[int, float]]:
        """(count, seconds) of sign-in attempts allowed per account and per client address."""
        return (parse_rate("admin_login_limit_account", self.admin_login_limit_account),
                parse_rate("admin_login_limit_client", self.admin_login_limit_client))

    @property
    def checkin_rates(self) -> tuple[tuple[int, float], tuple[int, float]]:
        """(count, seconds) of check-ins allowed per client address and per venue."""
        return (parse_rate("checkin_limit_client", self.checkin_limit_client),
                parse_rate("checkin_limit_venue", self.checkin_limit_venue))

    @property
    def risk_rates(self) -> tuple[tuple[int, float], tuple[int, float]]:
        """(count, seconds) of risk self-assessments allowed per client address and venue."""
        return (parse_rate("risk_limit_client", self.risk_limit_client),
                parse_rate("risk_limit_venue", self.risk_limit_venue))

    @property
    def lookup_rates(self) -> tuple[tuple[int, float], tuple[int, float]]:
        """(count, seconds) of result lookups allowed per client address and per phone."""
        return (parse_rate("lookup_limit_client", self.lookup_limit_client),
                parse_rate("lookup_limit_phone", self.lookup_limit_phone))

    @property
    def certificate_key_path(self) -> Path:
        return self.certificate_key if str(self.certificate_key) not in ("", ".") \
            else self.data_dir / "certificates" / "signing-key.pem"

    @property
    def certificate_signer_path(self) -> Path:
        return self.certificate_signer if str(self.certificate_signer) not in ("", ".") \
            else self.data_dir / "certificates" / "signer.pem"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'callengine.db'}"

    def trunk(self, name: str) -> Trunk:
        for trunk in self.trunks:
            if trunk.name == name:
                return trunk
        raise ConfigError(f"trunk {name!r} is not configured")


ADMIN_LANGUAGES = ("vi", "en")
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$")
_RATE_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(name: str, value: Any) -> tuple[int, float]:
    """(count, seconds) from '5 per minute', '20/hour', '10 per 5 minutes'."""
    match = _RATE.match(str(value).lower())
    if not match or int(match.group(1)) < 1:
        raise ConfigError(f"{name}: {value!r} is not a rate like '5 per minute'")
    span = int(match.group(2) or 1) * _RATE_SECONDS[match.group(3)]
    return int(match.group(1)), float(span)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$", re.IGNORECASE)
_UNIT_BYTES = {None: 1, "b": 1, "kb": 2**10, "mb": 2**20, "gb": 2**30}
_RATE_FIELDS = ("admin_login_limit_account", "admin_login_limit_client",
                "checkin_limit_client", "checkin_limit_venue",
                "lookup_limit_client", "lookup_limit_phone",
                "risk_limit_client", "risk_limit_venue")
_SIZE_FIELDS = ("import_max_file_size", "import_max_request_size", "import_max_unpacked_size")
_SHEET_LIMIT_FIELDS = ("import_max_rows", "import_max_columns", "import_max_cells")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "ms": 0.001, "m": 60, "h": 3600, "d": 86400}


def parse_duration(name: str, value: Any) -> float:
    """Seconds from 90, '90', '90s', '15m', '2h'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(f"{name}: {value!r} is not a duration (seconds, or e.g. 90s, 15m, 2h)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_window(name: str, value: Any) -> CallWindow:
    """A window from 'HH:MM-HH:MM' (seconds optional)."""
    parts = str(value).split("-")
    try:
        start, end = (time.fromisoformat(p.strip()) for p in parts)
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a window like 08:00-20:00") from None
    if end <= start:
        raise ConfigError(f"{name}: {value!r} ends before it starts")
    return CallWindow(start, end)


def _parse_clock_time(name: str, value: Any) -> str:
    try:
        at = time.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a time like 07:30") from None
    return at.strftime("%H:%M:%S" if at.second else "%H:%M")


def parse_size(name: str, value: Any) -> int:
    """Bytes from 1048576, '512KB', '20MB', '1GB' (binary units; KiB/MiB/GiB also accepted)."""
    match = _SIZE.match(str(value))
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"{name}: {value!r} is not a size (bytes, or e.g. 512KB, 20MB)")
    unit = match.group(2).lower().replace("ib", "b") if match.group(2) else None
    return int(float(match.group(1)) * _UNIT_BYTES[unit])


_PUBLIC_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~/-]*)?$")


def parse_public_url(name: str, value: Any) -> str:
    """An http(s) address without query or fragment, its trailing slash dropped ('' is unset)."""
    text = str(value).strip()
    if text and not _PUBLIC_URL.match(text):
        raise ConfigError(f"{name}: {text!r} is not an address like https://khaibao.example.vn")
    return text.rstrip("/")


def _parse_int(name: str, value: Any, minimum: int = 0) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a whole number") from None
    if number < minimum:
        raise ConfigError(f"{name}: {number} is below the minimum {minimum}")
    return number


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: {value!r} is not true or false")


def _parse_fraction(name: str, value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a number") from None
    if not 0 <= number <= 1:
        raise ConfigError(f"{name}: {number:g} is not between 0 and 1")
    return number


def _parse_positive_float(name: str, value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{name}: must be a number above 0")
    return number


def _shown(key: Any) -> str:
    """A key for a message: as written, or quoted with escapes when it is not plain text."""
    text = str(key)
    return text if text.isprintable() else repr(text)


def _parse_intervals(name: str, value: Any) -> tuple[tuple[str, int], ...]:
    """(product, days) pairs from 'AZ=56,Pfizer=21' or a mapping."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)) and all(isinstance(v, (list, tuple)) for v in value):
        pairs = [tuple(v) for v in value]
    else:
        pairs = [item.partition("=")[::2] for item in str(value).split(",") if item.strip()]
    parsed = []
    for product, days in pairs:
        if not str(product).strip():
            raise ConfigError(f"{name}: {value!r} is not a list like 'AZ=56,Pfizer=21'")
        parsed.append((str(product).strip(), _parse_int(f"{name}[{product}]", days, 1)))
    return tuple(parsed)


def _parse_trunk(name: str, raw: Any) -> Trunk:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{name}: each trunk must be a mapping with name and endpoint")
    allowed = {f.name for f in fields(Trunk)}
    unknown = sorted(_shown(key) for key in raw if key not in allowed)
    if unknown:
        raise ConfigError(f"{name}: unknown trunk field(s) {', '.join(unknown)}")
    for required in ("name", "endpoint"):
        if not raw.get(required):
            raise ConfigError(f"{name}: a trunk lacks {required!r}")
    label = f"{name}[{_shown(raw['name'])}]"
    dial_format = raw.get("dial_format", "national")
    if dial_format not in DIAL_FORMATS:
        raise ConfigError(f"{label}.dial_format: {dial_format!r} is not one of {DIAL_FORMATS}")
    cps = _parse_positive_float(f"{label}.cps", raw.get("cps", 2.0))
    carriers = raw.get("carriers", ())
    if not isinstance(carriers, (list, tuple)):
        raise ConfigError(f"{label}.carriers: must be a list of carrier names")
    caller_id = raw.get("caller_id")
    return Trunk(
        name=str(raw["name"]),
        endpoint=str(raw["endpoint"]),
        carriers=tuple(str(c).lower() for c in carriers),
        max_channels=_parse_int(f"{label}.max_channels", raw.get("max_channels", 10), 1),
        cps=cps,
        dial_format=dial_format,
        caller_id=None if caller_id is None else str(caller_id),
    )


def _parse_trunks(name: str, value: Any) -> tuple[Trunk, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{name}: not valid JSON ({exc.msg})") from None
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{name}: must be a non-empty list of trunks")
    trunks = tuple(_parse_trunk(name, raw) for raw in value)
    names = [t.name for t in trunks]
    if len(set(names)) != len(names):
        raise ConfigError(f"{name}: trunk names must be unique")
    return trunks


def _parse_peers(name: str, value: Any) -> tuple[str, ...]:
    """Addresses or networks from "127.0.0.1, 10.0.0.0/24" or a YAML list."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ConfigError(f"{name}: {value!r} is not a list of addresses")
    peers = tuple(str(item).strip() for item in items if str(item).strip())
    if not peers:
        raise ConfigError(f"{name}: at least one address is needed")
    for peer in peers:
        try:
            ipaddress.ip_network(peer, strict=False)
        except ValueError:
            raise ConfigError(f"{name}: {peer!r} is not an IP address or network") from None
    return peers


def _convert(name: str, key: str, value: Any) -> Any:
    kind = _FIELD_TYPES[key]
    if key == "trunks":
        return _parse_trunks(name, value)
    if key == "agi_allowed_peers":
        return _parse_peers(name, value)
    if key == "call_window":
        return parse_window(name, value)
    if key == "vaccine_min_intervals":
        return _parse_intervals(name, value)
    if key == "plan_time":
        return _parse_clock_time(name, value)
    if key in _SIZE_FIELDS:
        return parse_size(name, value)
    if key == "import_max_compression_ratio":
        return _parse_positive_float(name, value)
    if key in _SHEET_LIMIT_FIELDS:
        return _parse_int(name, value, 1)
    if kind == "Path":
        return Path(str(value)).expanduser()
    if kind == "int":
        return _parse_int(name, value)
    if kind == "bool":
        return _parse_bool(name, value)
    if key in _RATE_FIELDS:
        parse_rate(name, value)
        return str(value).strip()
    if key == "public_url":
        return parse_public_url(name, value)
    if key == "speech_confidence":
        return _parse_fraction(name, value)
    if kind == "float":
        return parse_duration(name, value)
    return str(value)


_FIELD_NAMES = tuple(f.name for f in fields(Settings))
_FIELD_TYPES = {f.name: str(f.type) for f in fields(Settings)}


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (the second would win silently)."""


class _DuplicateKey(Exception):
    pass


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode,
                                deep: bool = False) -> dict:
    lines: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            continue  # construct_mapping refuses it with its own message
        line = key_node.start_mark.line + 1
        if key in lines:
            raise _DuplicateKey(f"{key!r} is given twice (lines {lines[key]} and {line})")
        lines[key] = line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _mapping_without_duplicates)


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except _DuplicateKey as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"config file {path} is not valid YAML{line}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping")
    unknown = sorted(_shown(key) for key in raw if key not in _FIELD_NAMES)
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return {key: _convert(f"{path}: {key}", key, value) for key, value in raw.items()}


# CALLENGINE_* variables that are not settings: the config file, the lab, the tests, the demo.
NOT_SETTINGS = ("CALLENGINE_CONFIG",)
NOT_SETTINGS_PREFIXES = ("CALLENGINE_LAB_", "CALLENGINE_TEST_", "CALLENGINE_DEMO_")


def unknown_environment(environ: Mapping[str, str]) -> list[str]:
    """CALLENGINE_* variables that match no setting (a typo is otherwise silently ignored)."""
    known = {f"CALLENGINE_{key.upper()}" for key in _FIELD_NAMES} | set(NOT_SETTINGS)
    return sorted(name for name in environ if name.startswith("CALLENGINE_")
                  and name not in known and not name.startswith(NOT_SETTINGS_PREFIXES))


def _read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    for name in unknown_environment(environ):
        log.warning("%s: matches no setting; ignored", name)
    values = {}
    for key in _FIELD_NAMES:
        env_name = f"CALLENGINE_{key.upper()}"
        if env_name in environ and environ[env_name] != "":
            values[key] = _convert(env_name, key, environ[env_name])
    return values


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then the file named by CALLENGINE_CONFIG, then CALLENGINE_* variables."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_path = environ.get("CALLENGINE_CONFIG")
    if config_path:
        values.update(_read_config_file(Path(config_path)))
    values.update(_read_environment(environ))
    values.update(overrides)
    settings = replace(Settings(), **values)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    names = {t.name for t in settings.trunks}
    if settings.default_trunk not in names:
        raise ConfigError(
            f"default_trunk: {settings.default_trunk!r} is not one of the trunks {sorted(names)}"
        )
    for name in ("recordings_dir", "greetings_dir", "asterisk_root"):
        if not getattr(settings, name).is_absolute():
            raise ConfigError(f"{name}: {str(getattr(settings, name))!r} is not an absolute path")
    if settings.max_attempts_per_day < 1:
        raise ConfigError("max_attempts_per_day: must be at least 1")
    _check_every_field(settings)
    _check_named_values(settings)
    _check_dialer(settings)
    if settings.certificate_validity_days < 1:
        raise ConfigError("certificate_validity_days: must be at least 1")
    _check_exposure(settings)
    _check_admin(settings)
    _check_metrics(settings)


_LISTENERS = (("agi_host", "agi_port"), ("admin_host", "admin_port"),
              ("metrics_host", "metrics_port"), ("admin_metrics_host", "admin_metrics_port"))


def _check_metrics(settings: Settings) -> None:
    """The metrics listeners: an IP address (or localhost), and a port no other listener of
    the settings has."""
    for host_name, port_name in _LISTENERS[2:]:
        host = getattr(settings, host_name)
        if host != "localhost":
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ConfigError(f"{host_name}: {host!r} is not an IP address (e.g. "
                                  "127.0.0.1)") from None
        port = getattr(settings, port_name)
        if not port:
            continue
        for other_host, other_port in _LISTENERS:
            if other_port != port_name and getattr(settings, other_port) == port \
                    and _same_address(host, getattr(settings, other_host)):
                raise ConfigError(f"{port_name}: {port} is also {other_port} on "
                                  f"{host}; give the metrics a port of their own")


def _same_address(one: str, other: str) -> bool:
    """Whether two listeners' hosts would clash on one port (a wildcard clashes with all)."""
    wildcard = ("0.0.0.0", "::", "")
    return one == other or one in wildcard or other in wildcard


def _check_exposure(settings: Settings) -> None:
    if settings.exposure_days_before > settings.checkin_retention_days:
        raise ConfigError(f"exposure_days_before: {settings.exposure_days_before} is more than "
                          f"checkin_retention_days ({settings.checkin_retention_days}): "
                          "older check-ins are deleted")


_SERVER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _check_dialer(settings: Settings) -> None:
    if settings.server_id and not _SERVER_ID.match(settings.server_id):
        raise ConfigError(f"server_id: {settings.server_id!r} is not 1 to 64 letters, digits "
                          "or . _ : -")
    longest_call = settings.ring_timeout + settings.max_call_duration + settings.attempt_grace
    if settings.stale_attempt_age <= longest_call:
        raise ConfigError(f"stale_attempt_age: {settings.stale_attempt_age:g} s would end calls "
                          f"still in progress (the longest lasts {longest_call:g} s)")


OPTIONAL_PORTS = ("metrics_port", "admin_metrics_port")  # 0 turns the listener off
MIN_INTERVAL = 0.5  # seconds: a shorter *_interval setting would make its loop spin
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATABASE_BACKENDS = ("sqlite", "postgresql")


def _has_control_character(text: str) -> bool:
    """Line breaks, tabs, NUL... (Unicode Cc/Cf): in an AMI action they start new headers."""
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def _check_value(name: str, value: Any) -> None:
    """The rules every setting obeys, whatever its field: finite numbers, printable text."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name}: {value!r} is not a finite number")
    if isinstance(value, (str, Path)) and _has_control_character(str(value)):
        raise ConfigError(f"{name}: contains a control character (line break, tab or similar)")
    if isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            _check_value(f"{name}[{index}]", item)
    if isinstance(value, Trunk):
        for item in fields(Trunk):
            _check_value(f"{name}.{item.name}", getattr(value, item.name))


def _check_every_field(settings: Settings) -> None:
    """Rules by kind and by name, so that every setting (new ones too) is held to them."""
    for item in fields(Settings):
        name, value = item.name, getattr(settings, item.name)
        _check_value(name, value)
        if name.endswith("_port") and not 1 <= value <= 65535 \
                and not (value == 0 and name in OPTIONAL_PORTS):
            raise ConfigError(f"{name}: {value} is not a TCP port (1-65535)")
        if name.endswith("_interval") and value < MIN_INTERVAL:
            raise ConfigError(f"{name}: {value:g} s is below the minimum {MIN_INTERVAL:g} s")


def _check_named_values(settings: Settings) -> None:
    """Settings whose value must name something that exists."""
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ConfigError(f"timezone: {settings.timezone!r} is not a known time zone "
                          "(e.g. Asia/Ho_Chi_Minh)") from None
    if settings.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"log_level: {settings.log_level!r} is not one of "
                          f"{', '.join(LOG_LEVELS)}")
    if settings.database_url:
        _check_database_url(settings.database_url)
    if settings.asterisk_group:
        import grp

        try:
            grp.getgrnam(settings.asterisk_group)
        except KeyError:
            raise ConfigError(f"asterisk_group: no group {settings.asterisk_group!r} on "
                              "this host") from None


def _check_database_url(url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        raise ConfigError("database_url: not a database URL (sqlite:///PATH or "
                          "postgresql://USER@HOST/NAME)") from None
    if backend not in DATABASE_BACKENDS:
        raise ConfigError(f"database_url: {backend!r} is not one of "
                          f"{', '.join(DATABASE_BACKENDS)}")


def _check_admin(settings: Settings) -> None:
    if settings.admin_language not in ADMIN_LANGUAGES:
        raise ConfigError(f"admin_language: {settings.admin_language!r} is not one of "
                          f"{', '.join(ADMIN_LANGUAGES)}")
    for name in ("admin_max_request_mb", "admin_password_time_cost"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name}: must be at least 1")
    if settings.admin_password_memory_kib < 64:
        raise ConfigError("admin_password_memory_kib: must be at least 64")
    if settings.admin_session_idle_timeout < 60:
        raise ConfigError("admin_session_idle_timeout: must be at least 60 seconds")
    _check_checkin(settings)


def _check_checkin(settings: Settings) -> None:
    for name in ("checkin_retention_days", "venue_stay_minutes"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name}: must be at least 1")
    if settings.venue_stay_minutes > 24 * 60:
        raise ConfigError("venue_stay_minutes: must be at most 1440 (a day)")
