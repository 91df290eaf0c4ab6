"""Configuration from environment variables with safe local defaults (12-factor).

Every variable the code reads is declared here once, so the compose-file test can check
that production sets what each process needs.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICES = ("needs", "volunteers", "matching", "notify", "community")
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str
    roles: tuple[str, ...] = ("web", "relay", "consumer")  # processes that read it
    production_required: bool = False


_SENDER = ("notify-sender",)

SETTINGS: tuple[Setting, ...] = (
    Setting("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "Kafka bootstrap servers (comma separated)",
            production_required=True),
    Setting("DATABASE_URL", None, "SQLAlchemy URL of this service's database (default: SQLite under var/)",
            production_required=True),
    Setting("SECRET_KEY", None, "**secret, required**: signs staff sessions and CSRF tokens (one value for the "
            "front door and every web app), volunteers' e-mail confirmation links, notify's response links and (a key derived from it) volunteers' sign-in links",
            roles=("web", "front", "notify-consumer", "notify-sender"), production_required=True),
    Setting("WSPOLNOTA_DEV_SECRETS", "", "`1`: a missing secret takes its public `dev-only-*` value instead of "
            "stopping the process; for the tests only (`wspolnota run` generates real ones under `var/`)",
            roles=("web", "front", "relay", "consumer", "jobs")),
    Setting("AUTH_DATABASE_URL", None, "SQLAlchemy URL of the staff accounts database (default: var/auth.db); "
            "read by the front door's sign-in pages and `wspolnota user`", roles=("front",)),
    Setting("WSPOLNOTA_ADMIN_PASSWORD", "", "first start only: password of the `admin` account created in an "
            "empty accounts database (else a one-time password is printed)", roles=("front",)),
    Setting("WSPOLNOTA_USER_PASSWORD", "", "`wspolnota user add|set` only: the account's new password (else it is "
            "asked for at the prompt)", roles=("front",)),
    Setting("SESSION_COOKIE_SECURE", "false", "send the staff session cookie over HTTPS only (true behind TLS, "
            "as in compose; false for the embedded http run)", roles=("web", "front"), production_required=True),
    *(Setting(f"WSPOLNOTA_{s.upper()}_URL", f"http://127.0.0.1:{8001 + i}", f"where the front door reaches the "
              f"{s} web app (its proxy in the embedded run, the dashboard's JSON calls)", roles=("front",))
      for i, s in enumerate(SERVICES)),
    Setting("WSPOLNOTA_FRONT_URL", "", "where a service asks the front door whether a session older than a "
            "minute is still valid (deactivated account, changed role); empty: trust the signed cookie",
            roles=("web",)),
    Setting("WSPOLNOTA_TOPIC_PREFIX", "", "prefix for every topic name (test isolation, shared clusters)"),
    Setting("WSPOLNOTA_VAR_DIR", str(ROOT / "var"), "where the embedded run keeps SQLite files and logs"),
    Setting("LOG_FORMAT", "text", "text (one readable line per event) or json", production_required=True),
    Setting("LOG_LEVEL", "INFO", "logging level"),
    Setting("KAFKA_LOG_LEVEL", "ERROR", "logging level of the kafka-python client (DEBUG shows every request)",
            roles=("relay", "consumer")),
    Setting("KAFKA_SESSION_TIMEOUT_MS", "6000", "consumer group session timeout (tansu joins in ~half of it)",
            roles=("consumer",)),
    Setting("KAFKA_HEARTBEAT_INTERVAL_MS", "1000", "consumer heartbeat interval", roles=("consumer",)),
    Setting("KAFKA_MAX_POLL_INTERVAL_MS", "300000", "max time between polls before the member is evicted",
            roles=("consumer",)),
    Setting("KAFKA_REQUEST_TIMEOUT_MS", "15000", "client request timeout"),
    Setting("KAFKA_DELIVERY_TIMEOUT_MS", "30000", "how long the producer keeps retrying one record; a relay "
            "round that fails is retried with a new producer", roles=("relay", "consumer")),
    Setting("KAFKA_POLL_TIMEOUT_MS", "500", "how long one poll waits for records", roles=("consumer",)),
    Setting("KAFKA_CONSUMER_STALL_S", "90", "a consumer whose rebalance has not finished, or that has partitions "
            "but no fetch response, for this long gets a new Kafka client (doubling up to 10 min while that does "
            "not help; 0 turns the watchdog off). Tansu joins take up to ~50 s under load, so keep it well above "
            "that", roles=("consumer",)),
    Setting("CONSUMER_MAX_ATTEMPTS", "3", "handler failures before a message goes to the DLQ",
            roles=("consumer",)),
    Setting("OUTBOX_BATCH_SIZE", "500", "rows the relay publishes per round", roles=("relay",)),
    Setting("RELAY_FLUSH_TIMEOUT_S", "10", "how long the relay waits for a round's acknowledgements before it "
            "starts a new producer and sends the round again (consumers drop the duplicates); a broker that "
            "lost the producer's state otherwise holds the relay for the whole delivery timeout",
            roles=("relay",)),
    Setting("RELAY_REPLAY_ON_START", "false", "republish every kept outbox row before relaying new ones; "
            "`wspolnota run` sets it when it starts its own broker, which begins empty, so events published "
            "but not yet consumed before the last stop are not lost", roles=("relay",)),
    Setting("OUTBOX_POLL_INTERVAL_S", "0.05", "relay's idle wait between looks at the outbox", roles=("relay",)),
    Setting("OUTBOX_RETENTION_HOURS", "168", "how long published outbox rows are kept for replay",
            roles=("relay",)),
    Setting("WSPOLNOTA_JOBS_INTERVAL_S", "3600", "how often `wspolnota jobs` runs a service's idempotent "
            "housekeeping (credential expiry, overdue needs)", roles=("jobs",)),
    Setting("CASE_SYSTEM_IDEMPOTENCY_DAYS", "30", "how long the needs service keeps a case-system answer to "
            "replay under its Idempotency-Key; the hourly job forgets older keys", roles=("web", "jobs")),
    Setting("NEEDS_CONCERN_DUE_HOURS_URGENT", "24", "an urgent concern, incident or safeguarding report must be "
            "acknowledged within this many hours, or the needs job escalates it to the director",
            roles=("web", "jobs")),
    Setting("NEEDS_CONCERN_DUE_HOURS_OTHER", "72", "the same for a report not marked urgent (hours)",
            roles=("web", "jobs")),
    Setting("CASE_SYSTEM_CSV_MAX_ROWS", "1000", "most rows one case-system CSV import may have", roles=("web",)),
    Setting("COMMUNITY_PUBLIC_ANSWERS_PER_HOUR", "30", "how many survey answers (and public page posts) the "
            "community service takes from one address per survey and hour before it answers 429",
            roles=("web",)),
    Setting("CASE_SYSTEM_PSEUDONYM_KEY", None, "**secret, required** by the needs web app: HMAC key that turns "
            "case-system person ids into resident pseudonyms; never change it once used (a deployment that ran "
            "without it used `SECRET_KEY`: set it to that value)", roles=("web",)),
    Setting("SMTP_HOST", "127.0.0.1", "the volunteers web app's SMTP server for self-registration e-mail "
            "confirmations (the embedded run's sink listens on 127.0.0.1:8025)", roles=("web",)),
    Setting("SMTP_PORT", "8025", "port of SMTP_HOST", roles=("web",)),
    Setting("MAIL_FROM", "wolontariat@cuszagnansk.pl", "sender address of the volunteers' e-mail confirmations",
            roles=("web",)),
    Setting("KAMILKA_CHECK_VALIDITY_DAYS", "365", "how many days a Kamilka check (sex-offender register and "
            "criminal-record information) stays valid, counted from the earlier of its two dates",
            roles=("web",)),
    Setting("CONFIRMATION_MAX_AGE_HOURS", "72", "how long a volunteer's e-mail confirmation link works",
            roles=("web",)),
    Setting("VOLUNTEER_SIGN_IN_LINK_MINUTES", "15", "how long a volunteer's sign-in link works (it works once)",
            roles=("web",)),
    Setting("VOLUNTEER_SESSION_DAYS", "30", "how long a volunteer stays signed in on their phone",
            roles=("web",)),
    Setting("VOLUNTEER_SIGN_IN_PER_ADDRESS_PER_HOUR", "5", "sign-in links one e-mail address or phone number may "
            "ask for in an hour (known or not) before the page answers 429", roles=("web",)),
    Setting("VOLUNTEER_SIGN_IN_PER_SOURCE_PER_HOUR", "30", "sign-in requests one client address may make in an "
            "hour before the page answers 429", roles=("web",)),
    Setting("CENTRE_NAME", "Centrum Usług Społecznych w Zagnańsku", "the centre's name on the documents it "
            "issues (the certificate of volunteering)", roles=("web",)),
    Setting("CENTRE_ADDRESS", "ul. Turystyczna 86, 26-050 Zagnańsk", "the centre's address on the documents it "
            "issues", roles=("web",)),
    Setting("CENTRE_PLACE", "Zagnańsk", "the place of issue on the documents the centre issues", roles=("web",)),
    Setting("CENTRE_PHONE", "", "the centre's (organiser's) phone the volunteer's space shows: on the visits page "
            "(call if something changes) and when a concern cannot be sent; empty: the pages say to call the centre; "
            "also on the residents' request form, its thanks page and notify's answers to requesters",
            roles=("web", "notify-consumer")),
    Setting("CERTIFICATE_FONT_DIR", "/usr/share/fonts/truetype/dejavu", "directory with DejaVuSans.ttf and "
            "DejaVuSans-Bold.ttf (Debian's fonts-dejavu-core), the certificate of volunteering's font for Polish "
            "letters", roles=("web",)),
    Setting("VOLUNTEER_RESIDENT_DETAILS_BEFORE_H", "24", "how many hours before an accepted visit's start the "
            "volunteer's page shows the resident's first name, address and phone (needs checks it too)",
            roles=("web",)),
    Setting("VOLUNTEER_RESIDENT_DETAILS_AFTER_H", "12", "how many hours after an accepted visit's end the "
            "volunteer's page still shows the resident's details", roles=("web",)),
    # -- notify (its own processes; read into services/notify/settings.py's Settings) -----------------------
    *(Setting(f"NOTIFY_{name}", default, help, roles=roles) for name, default, roles, help in (
        ("SMTP_HOST", "127.0.0.1", _SENDER, "SMTP server the sender delivers e-mail to (default: the local sink)"),
        ("SMTP_PORT", "8025", _SENDER, "SMTP server's port"),
        ("SMTP_SECURITY", "none", _SENDER, "`none`, `starttls` or `ssl` (implicit TLS)"),
        ("SMTP_USER", "", _SENDER, "SMTP AUTH user; empty: no AUTH"),
        ("SMTP_PASSWORD", "", _SENDER, "SMTP AUTH password"),
        ("SMTP_TIMEOUT_S", "10.0", _SENDER, "SMTP connection timeout"),
        ("SMTP_CA_FILE", "", _SENDER, "extra CA bundle to trust (a private mail server's certificate); empty: "
         "the system's CAs"),
        ("MAIL_FROM", "CUS Zagnańsk <powiadomienia@cus-zagnansk.local>", _SENDER, "From of notify's e-mail"),
        ("SMS_GATEWAY_URL", "http://127.0.0.1:8026/sms", _SENDER, "SMS gateway (default: the local sink)"),
        ("SMS_GATEWAY_TOKEN", "", _SENDER, "bearer token for the SMS gateway; empty: no Authorization header"),
        ("SMS_SENDER", "CUSZagnansk", _SENDER, "sender name of notify's SMS"),
        ("CASE_WEBHOOK_URL", "http://127.0.0.1:8026/webhook", _SENDER, "the case system's webhook (default: "
         "the local sink); empty: webhook rows end as `skipped`"),
        ("WEBHOOK_REPLAY_WINDOW_S", "300", ("notify-sink",), "receiving side (the sink, as a case system "
         "would): most seconds between a webhook's timestamp and now"),
        ("HTTP_TIMEOUT_S", "10.0", _SENDER, "timeout of the SMS gateway, case-system and volunteers API calls"),
        ("ORGANISER_EMAIL", "organizator@cus-zagnansk.local", _SENDER, "the organiser's e-mail (staff "
         "notifications)"),
        ("ORGANISER_PHONE", "", _SENDER, "the organiser's phone for urgent SMS; empty: none"),
        ("IPUS_COORDINATOR_EMAIL", "koordynator.ipus@cus-zagnansk.local", _SENDER, "the IPUS coordinator's "
         "e-mail"),
        ("IPUS_COORDINATOR_PHONE", "", _SENDER, "the IPUS coordinator's phone; empty: none"),
        ("DIRECTOR_EMAIL", "dyrektor@cus-zagnansk.local", _SENDER, "the centre director's e-mail: concerns "
         "not acknowledged by their deadline are escalated there"),
        ("SMS_INBOUND_TOKEN", "", ("notify-web",), "bearer token the SMS gateway sends with residents' replies "
         "(`POST /notify/api/sms/inbound`); empty: the endpoint refuses every call"),
        ("SMS_INBOUND_PER_MINUTE", "120", ("notify-web",), "inbound SMS calls taken per caller address and minute "
         "before the endpoint answers 429"),
        ("FEEDBACK_REPLY_DAYS", "7", ("notify-web",), "a resident's reply code counts for their latest feedback "
         "request sent at most this many days before"),
        ("PUBLIC_URL", "http://127.0.0.1:8000/notify", ("notify-consumer",), "public base of notify (behind the "
         "front door) for providers' response links and links to staff pages"),
        ("LINK_SECRET", "", ("notify-web", "notify-consumer"), "key that signs providers' response links; "
         "empty: `SECRET_KEY`"),
        ("LINK_MAX_AGE_H", "72.0", ("notify-web",), "how long a response link's signature stays valid (hours)"),
        ("QUIET_HOURS", "20:00-08:00", _SENDER, "local time span in which SMS that are not urgent wait"),
        ("TIMEZONE", "Europe/Warsaw", _SENDER, "the zone of the quiet hours"),
        ("MAX_ATTEMPTS", "5", _SENDER, "sending attempts before a notification is `failed` (a dead letter)"),
        ("RETRY_BASE_S", "30.0", _SENDER, "first retry delay; doubles per attempt, with jitter"),
        ("RETRY_MAX_S", "3600.0", _SENDER, "longest retry delay"),
        ("SENDING_LEASE_S", "120.0", _SENDER, "a row left `sending` this long is taken again (keep above the "
         "longest send timeout)"),
        ("SENDER_POLL_S", "1.0", _SENDER, "sender's idle wait between looks at the ledger"),
        ("SENDER_BATCH", "50", _SENDER, "ledger rows the sender takes per round"),
        ("REMINDER_HOURS", "24.0", ("notify-consumer",), "a provider's visit reminder is due this long before "
         "the visit"),
        ("UNMATCHED_HOURS", "48.0", _SENDER, "the organiser hears of a need with no accepted match after this "
         "long"),
        ("CREDENTIAL_WARNING_DAYS", "30.0", ("notify-consumer",), "a provider hears of an expiring credential "
         "this long before it expires"),
        ("SINK_SMTP_PORT", "8025", ("notify-sink",), "the local sink's SMTP port (`make run`)"),
        ("SINK_HTTP_PORT", "8026", ("notify-sink",), "the local sink's SMS and webhook port (`make run`)"),
        ("CHECK_LINK_MAX_AGE_H", "168.0", ("notify-web",), "how long a \"did it happen?\" or \"is it still "
         "needed?\" link stays valid (hours)"),
        ("LINK_PAGES_PER_MINUTE", "30", ("notify-web",), "most requests the \"did it happen?\" and \"is it "
         "still needed?\" link pages accept per minute from one address (more answer 429)"),
        ("RESIDENT_QUIET_HOURS", "20:00-08:00", _SENDER, "Warsaw time span in which no SMS goes to a resident, "
         "urgent or not (notices about their visits wait till it ends)"),
    )),
    Setting("NOTIFY_CASE_WEBHOOK_SECRET", None, "**secret, required** by notify's sender: HMAC key of its "
            "case-system webhooks (shared with the case system)", roles=("notify-sender", "notify-sink")),
    Setting("VOLUNTEERS_INTERNAL_URL", "http://127.0.0.1:8002", "where notify's sender reaches the volunteers "
            "service's internal contact API (and notify's call page, a volunteer's first name)",
            roles=(*_SENDER, "notify-web")),
    Setting("COMMUNITY_INTERNAL_URL", "http://127.0.0.1:8005", "where notify's sender reaches the community "
            "service's internal contact API (addresses of residents registered for activities)", roles=_SENDER),
    Setting("NEEDS_INTERNAL_URL", "http://127.0.0.1:8001", "where notify's sender (a concern's social worker) "
            "and the volunteers web app (a resident's details for an accepted visit; a volunteer's concern) reach "
            "the needs service's internal API",
            roles=("web", *_SENDER)),
    Setting("INTERNAL_SERVICE_TOKEN", None, "**secret, required** by needs-web, volunteers-web, community-web and "
            "notify's sender: bearer token of the internal APIs", roles=("web", "notify-sender")),
    # -- matching: the scheduler, the cascade and the solver's cost balance (services/matching/settings.py)
    Setting("MATCHING_RESOLVE_INTERVAL_S", "", "debounce of matching's full re-solve: at most one per this many "
            "seconds unless an urgent need arrives; empty: 5 in the consumer's batch-tick loop (its idle tick runs "
            "the deferred solve), 0 where handlers solve after every event", roles=("web", "consumer")),
    Setting("MATCHING_TICK_S", "1", "matching's consumer runs its scheduler tick (offers time out, deferred "
            "re-solves) at least this often while the bus is quiet", roles=("consumer",)),
    Setting("MATCHING_OFFER_DEADLINE_MIN", "120", "minutes a provider has to answer an offer before it passes "
            "to the next candidate", roles=("web", "consumer")),
    Setting("MATCHING_URGENT_OFFER_DEADLINE_MIN", "30", "the same for an urgent need", roles=("web", "consumer")),
    Setting("MATCHING_URGENT_PARALLEL", "2", "providers offered an urgent need at once (3 gained nothing in the "
            "benchmark)", roles=("web", "consumer")),
    Setting("MATCHING_HORIZON_DAYS", "28", "how far ahead providers' weekly availability is expanded",
            roles=("web", "consumer")),
    Setting("MATCHING_CANDIDATES_SHOWN", "5", "cheapest other candidates a proposal's explanation lists "
            "(whom staff may pick instead)", roles=("web", "consumer")),
    Setting("MATCHING_REPLACE_MARGIN", "300", "solver cost units by which a new assignment must be cheaper "
            "to replace an unapproved proposal (300 = 10 km of travel): a stable review queue",
            roles=("web", "consumer")),
    Setting("MATCHING_KM_COST", "30", "solver cost per km of travel (an unmet normal need costs 1000)",
            roles=("web", "consumer")),
    Setting("MATCHING_LOAD_COST", "120", "solver cost step of a provider's load: the j-th extra unit at load L "
            "costs this × (2(L+j)+1)", roles=("web", "consumer")),
    Setting("MATCHING_EXPECTED_WEIGHT", "0.6", "look-ahead: share of their unmet penalty the expected needs "
            "carry in all (split among the past weeks replayed)", roles=("web", "consumer")),
    Setting("MATCHING_FORECAST_HOURS", "48", "look-ahead: needs reported in the next this many hours of past "
            "weeks take part in every solve (0: no look-ahead)", roles=("web", "consumer")),
    Setting("MATCHING_HISTORY_WEEKS", "3", "look-ahead: how many past weeks are replayed",
            roles=("web", "consumer")),
    Setting("MATCHING_HOLD_HOURS", "48", "a non-urgent need that enough providers could serve is proposed only "
            "from this many hours before its visit (0: every need at once)", roles=("web", "consumer")),
    Setting("MATCHING_HOLD_MIN_PROVIDERS", "16", "providers able to serve a need for it to be held back",
            roles=("web", "consumer")),
    Setting("MATCHING_STEP_BACK_NOTICE_H", "24", "a provider stepping back from an accepted visit less than this "
            "many hours before it starts is flagged urgent for the organiser", roles=("web", "consumer")),
    Setting("MATCHING_NUDGE_IDLE_DAYS", "30", "a volunteer with no visit for this many days (and known to matching "
            "at least that long) is nudged once when open needs wait in their villages, then at most once per this "
            "many days (`wspolnota jobs matching`; 0: never)", roles=("jobs",)),
    Setting("NEEDS_PUBLIC_REQUESTS_PER_HOUR", "10", "how many requests for help the needs service's public form "
            "takes from one client address per hour before it answers 429", roles=("web",)),
    Setting("NEEDS_REQUEST_RETENTION_DAYS", "90", "how many days after a resident's request is closed (or turned "
            "into a need) its personal data (names, phone, e-mail, what was written) is kept; the needs jobs erase "
            "it then", roles=("web", "jobs")),
    Setting("MATCHING_VISIT_CHECK_HOURS", "2", "an accepted visit that ended this many hours ago with nobody saying "
            "whether it happened: the provider is asked once, by a signed link (`wspolnota jobs matching`)",
            roles=("jobs",)),
    Setting("MATCHING_VISIT_FOLLOWUP_HOURS", "48", "a provider asked \"did it happen?\" who has not answered in this "
            "many hours: the visit becomes the organiser's follow-up task on the dashboard", roles=("web",)),
    Setting("NEEDS_CHECK_DAYS", "14", "an open need unmatched this many days and not checked in as many: the "
            "requesting worker is asked \"is it still needed?\" (`wspolnota jobs needs`); a \"yes\" waits as long "
            "again", roles=("jobs",)),
    Setting("NEEDS_CHECK_ANSWER_DAYS", "7", "an \"is it still needed?\" question unanswered this many days becomes "
            "the organiser's follow-up task on the dashboard", roles=("web",)),
    Setting("COMMUNITY_REGISTRATIONS_PER_MINUTE", "20", "most registrations the community service's public "
            "link of one activity accepts per minute (more answer 429)", roles=("web",)),
    Setting("WSPOLNOTA_HEARTBEAT_FILE", "", "worker touches this file every loop (container healthcheck)",
            roles=("relay", "consumer")),
    Setting("WSPOLNOTA_METRICS_PORT", "", "a worker (relay, consumer, notify sender, jobs) serves Prometheus "
            "/metrics on this port (empty: off); the web apps serve /metrics on their own port",
            roles=("relay", "consumer", "jobs")),
    Setting("WSPOLNOTA_METRICS_ADDR", "127.0.0.1", "address the worker's metrics server listens on (compose: "
            "0.0.0.0, reachable on the internal network only)", roles=("relay", "consumer", "jobs")),
    Setting("WSPOLNOTA_FAILPOINT", "", "test-only: name of a point where the process kills itself (-9)",
            roles=("relay", "consumer")),
)

_BY_NAME = {s.name: s for s in SETTINGS}


# -- secrets -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Secret:
    name: str
    dev_value: str  # public: in the repository; only with WSPOLNOTA_DEV_SECRETS=1
    help: str
    processes: tuple[str, ...]  # processes (compose container names) that refuse to start without it


SECRETS: tuple[Secret, ...] = (
    Secret("SECRET_KEY", "dev-only-not-secret", "signs staff sessions and CSRF tokens (the same value for the "
           "front door and every web app), volunteers' e-mail confirmation links, notify's response links and (a key derived from it) volunteers' sign-in links",
           ("front", *(f"{s}-web" for s in SERVICES), "notify-consumer", "notify-sender")),
    Secret("CASE_SYSTEM_PSEUDONYM_KEY", "dev-only-pseudonym-key", "HMAC key that turns case-system person ids "
           "into resident pseudonyms; never change it once used", ("needs-web",)),
    Secret("INTERNAL_SERVICE_TOKEN", "dev-only-internal-token", "bearer token of the needs, volunteers and "
           "community services' internal APIs; the same value for needs-web, volunteers-web, community-web and "
           "notify's sender and web (its call page)",
           ("needs-web", "volunteers-web", "community-web", "notify-sender", "notify-web")),
    Secret("NOTIFY_CASE_WEBHOOK_SECRET", "dev-only-webhook-secret", "HMAC key notify signs its case-system "
           "webhooks with (shared with the case system)", ("notify-sender",)),
)
_SECRETS = {s.name: s for s in SECRETS}
DEV_PREFIX = "dev-only"


class MissingSecret(SystemExit):
    """A secret is empty or public: the process refuses to start (exit status 2, with the message)."""

    def __init__(self, name: str, value: str):
        why = "is empty" if not value else f"has the public development value {value!r}"
        super().__init__(
            f"{name} {why}: refusing to start. Set {name} to a long random value, e.g. "
            f"{name}=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))') in the environment or in "
            f"compose's .env (see .env.example). `wspolnota run` makes its own; tests set WSPOLNOTA_DEV_SECRETS=1.")
        self.name = name


def dev_secrets() -> bool:
    """Whether public development secrets were asked for explicitly (the test suite does)."""
    return get_bool("WSPOLNOTA_DEV_SECRETS")


def is_public(value: str | None) -> bool:
    return not value or value.startswith(DEV_PREFIX)


def secret(name: str, value: str | None = None) -> str:
    """A secret's value (from the environment unless given); an empty or `dev-only-*` one raises MissingSecret,
    unless development secrets were asked for (then its public development value is used)."""
    value = os.environ.get(name, "") if value is None else value
    if not is_public(value):
        return value
    if dev_secrets():
        return value or _SECRETS[name].dev_value
    raise MissingSecret(name, value)


def require_secrets(process: str, values: dict[str, str] | None = None) -> dict[str, str]:
    """Every secret the named process reads (a compose container name: `front`, `needs-web`, `notify-sender`),
    checked at its start; `values` overrides the environment (a test app's config)."""
    given = values or {}
    return {s.name: secret(s.name, given.get(s.name) or None) for s in SECRETS if process in s.processes}


def default(name: str) -> str:
    """A setting's declared default ("" when it has none)."""
    return _BY_NAME[name].default or ""


def get(name: str, env: Mapping[str, str] | None = None) -> str:
    """A declared setting's value from the environment (or `env`), its default when unset or empty."""
    setting = _BY_NAME[name]
    value = (os.environ if env is None else env).get(name)
    if value is None or value == "":
        return setting.default or ""
    return value


def get_int(name: str) -> int:
    return int(get(name))


def get_float(name: str) -> float:
    return float(get(name))


def get_bool(name: str) -> bool:
    return get(name).strip().lower() in ("1", "true", "yes", "on")


def var_dir() -> Path:
    path = Path(get("WSPOLNOTA_VAR_DIR"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str) -> str:
    """DATABASE_URL if set, else this service's SQLite file under var/."""
    explicit = os.environ.get("DATABASE_URL")
    if explicit:
        return explicit
    return f"sqlite:///{var_dir() / (service + '.db')}"


def topic(name: str) -> str:
    return get("WSPOLNOTA_TOPIC_PREFIX") + name


def failpoint(name: str) -> None:
    """Kill this process with SIGKILL at a named point, when a test asks for it."""
    if get("WSPOLNOTA_FAILPOINT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def secrets_table() -> str:
    """The secrets as a Markdown table (README's "Secrets")."""
    rows = ["| secret | read by | meaning |", "|---|---|---|"]
    for s in SECRETS:
        rows.append(f"| `{s.name}` | {', '.join(s.processes)} | {s.help} |")
    return "\n".join(rows)


def settings_table() -> str:
    """The configuration reference as a Markdown table (README's "Configuration")."""
    rows = ["| variable | default | read by | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "" if s.default is None else f"`{s.default}`" if s.default else "(empty)"
        if s.name == "WSPOLNOTA_VAR_DIR":
            default = "`var/`"
        rows.append(f"| `{s.name}` | {default} | {', '.join(s.roles)} | {s.help} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
    print()
    print(secrets_table())
