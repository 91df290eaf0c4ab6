"""`wspolnota` command line: run the embedded system, workers, migrations, replay."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from wspolnota import config
from wspolnota.registry import entry_point, web_app  # services by module path string, never imported here

GUNICORN_CONF = config.ROOT / "deploy" / "gunicorn.conf.py"
FRONT_PORT = 8000
SINK_PORTS = (8025, 8026)  # notify's local SMTP and SMS/webhook sinks


def _services(name: str | None) -> list[str]:
    if name is None:
        if os.environ.get("DATABASE_URL"):
            raise SystemExit("DATABASE_URL names one service's database: name the service too")
        return list(config.SERVICES)
    if name not in config.SERVICES:
        raise SystemExit(f"unknown service {name!r}; one of {', '.join(config.SERVICES)}")
    return [name]


def cmd_migrate(args: argparse.Namespace) -> None:
    from wspolnota.worker import service_db

    for service in _services(args.service):
        db = service_db(service)
        db.migrate()
        db.dispose()
        print(f"{service}: database at head ({db.engine.url.render_as_string(hide_password=True)})")


def cmd_replay(args: argparse.Namespace) -> None:
    from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
    from wspolnota.transport.outbox import Relay
    from wspolnota.worker import all_topics, service_db

    since = datetime.fromisoformat(args.since) if args.since else None
    if since is not None and since.tzinfo is None:
        raise SystemExit("--since needs a time zone, e.g. 2026-11-26T10:00:00+01:00")
    ensure_topics(all_topics())
    producer = KafkaProducerAdapter(client_id="wspolnota-replay")
    try:
        for service in _services(args.service):
            db = service_db(service)
            count = Relay(db, producer).replay(since)
            db.dispose()
            print(f"{service}: republished {count} event(s)")
    finally:
        producer.close()


def cmd_jobs(args: argparse.Namespace) -> None:
    """A service's periodic housekeeping (credential expiry, overdue needs) on a fixed interval."""
    from wspolnota.jobs import run_due, run_forever
    from wspolnota.logs import setup_logging
    from wspolnota.service import load
    from wspolnota.worker import heartbeat, stop_on_signals

    setup_logging(args.service, "jobs")
    config.require_secrets(f"{args.service}-jobs")
    parts = load(args.service)
    jobs, db = parts.periodic, parts.db
    if not jobs:
        db.dispose()
        raise SystemExit(f"{args.service} has no periodic jobs")
    try:
        if args.once:
            run_due(db, jobs, datetime.now(UTC))
        else:
            from wspolnota.metrics import WorkerMetrics

            metrics = WorkerMetrics(args.service, "jobs")
            metrics.serve()
            run_forever(db, jobs, stop_on_signals(), config.get_float("WSPOLNOTA_JOBS_INTERVAL_S"),
                        metrics.beat(heartbeat))
    finally:
        db.dispose()


def cmd_seed(args: argparse.Namespace) -> None:
    """Fictional demo data (never real people); the relays announce it to the other services.

    Residents and needs first, then volunteers with offers so that matching has someone to propose, then the
    community's work (its diagnosis: assets, surveys with answers, a diagnosis report).
    `--volunteers N` goes to the volunteers seed; every other option to the needs seed."""
    seed_needs, seed_volunteers = entry_point("needs.seed"), entry_point("volunteers.seed")
    needs_args = [a for a in args.rest if a != "--"]  # `seed --demo -- --residents 6` works too
    volunteers_args = ["--volunteers", str(args.volunteers)] if args.volunteers is not None else []
    needs_rc = seed_needs(["--demo"] + needs_args)
    if os.environ.get("DATABASE_URL") or any(a.startswith("--database-url") for a in needs_args):
        # One database URL names the needs database only: never put volunteers into it.
        print("volunteers: skipped (a database URL was given for the needs service); seed them with "
              "python -m services.volunteers.seed --demo --database-url URL")
        sys.exit(needs_rc)
    volunteers_rc = seed_volunteers(["--demo"] + volunteers_args)
    community_rc = entry_point("community.seed")(["--demo"])
    sys.exit(needs_rc or volunteers_rc or community_rc)


def cmd_apikey(args: argparse.Namespace) -> None:
    """The case system's API keys in the needs database (services/needs/apikeys.py)."""
    sys.exit(entry_point("needs.apikey")(args.rest))


def cmd_relay(args: argparse.Namespace) -> None:
    from wspolnota.worker import run_relay

    config.require_secrets(f"{args.service}-relay")
    run_relay(args.service)


def cmd_consume(args: argparse.Namespace) -> None:
    """The service's consumer loop, as its bootstrap builds it (matching's has its scheduler tick)."""
    from wspolnota.worker import run_consumer

    config.require_secrets(f"{args.service}-consumer")
    run_consumer(args.service)


def cmd_send(args: argparse.Namespace) -> None:
    """notify's sender: delivers what the notification ledger holds (e-mail, SMS, case-system webhooks)."""
    if args.service != "notify":
        raise SystemExit("only the notify service sends notifications")
    entry_point("notify.sender")()


def gunicorn_command(app: str, port: int) -> str:
    return (f"{shlex.quote(sys.executable)} -m gunicorn -c {shlex.quote(str(GUNICORN_CONF))} "
            f"--bind 127.0.0.1:{port} {shlex.quote(app)}")


def worker_processes() -> list[tuple[str, str]]:
    """Every non-web process of the embedded run (compose runs the same commands as containers)."""
    py = shlex.quote(sys.executable)
    processes = []
    for service in config.SERVICES:
        processes.append((f"{service}-relay", f"{py} -m wspolnota.cli relay {service}"))
        processes.append((f"{service}-consumer", f"{py} -m wspolnota.cli consume {service}"))
    for service in ("needs", "volunteers"):
        processes.append((f"{service}-jobs", f"{py} -m wspolnota.cli jobs {service}"))
    processes.append(("notify-sender", f"{py} -m wspolnota.cli send notify"))
    processes.append(("notify-sink", f"{py} -m services.notify.sink"))  # local SMTP/SMS sink: Skrzynka testowa
    return processes


def cmd_user(args: argparse.Namespace) -> None:
    """Staff accounts (the front service's; the admin can also manage them at /auth/users)."""
    entry_point("front.user")(args.action, args.login, args.role, args.name)


def first_admin() -> None:
    """An empty accounts database gets `admin` (WSPOLNOTA_ADMIN_PASSWORD, else a one-time password printed)."""
    entry_point("front.first_admin")()


SECRETS_FILE = "secrets.env"


def local_secrets(var: Path) -> dict[str, str]:
    """The embedded run's own secrets: generated once (strong, random), kept in var/secrets.env (mode 0600).

    A secret added to config.SECRETS later is generated and appended; the others never change (a new
    SECRET_KEY would sign everyone out, a new CASE_SYSTEM_PSEUDONYM_KEY would change every pseudonym)."""
    import secrets

    path = var / SECRETS_FILE
    kept: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, sep, value = line.partition("=")
            if sep and not line.startswith("#") and not config.is_public(value.strip()):
                kept[name.strip()] = value.strip()
    missing = [s.name for s in config.SECRETS if s.name not in kept]
    if missing:
        kept.update({name: secrets.token_urlsafe(32) for name in missing})
        lines = ["# `wspolnota run`'s own secrets, made on first start; local only, never commit or reuse."]
        lines += [f"{name}={value}" for name, value in kept.items()]
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    return kept


def embedded_env(environ: dict[str, str]) -> dict[str, str]:
    """The environment of every process `wspolnota run` starts. Without KAFKA_BOOTSTRAP_SERVERS it runs its
    own tansu, which keeps everything in memory and so starts empty each time: the relays then republish
    their kept outbox rows first (RELAY_REPLAY_ON_START), or events published but not consumed before the
    last stop would be lost. Every secret the environment does not set (or sets to a public value) comes
    from var/secrets.env (`local_secrets`)."""
    var = config.var_dir()
    env = dict(environ, WSPOLNOTA_VAR_DIR=str(var), PYTHONUNBUFFERED="1")
    for name, value in local_secrets(var).items():
        if config.is_public(env.get(name)):
            env[name] = value
    if not environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        env["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9092"
        env.setdefault("RELAY_REPLAY_ON_START", "true")
    return env


def cmd_run(args: argparse.Namespace) -> None:
    """Everything on one machine: tansu, SQLite under var/, 5 web apps, 5 relays, 5 consumers, front door."""
    from honcho.manager import Manager

    from wspolnota.broker import port_is_free, tansu_command, wait_for_port

    env = embedded_env(dict(os.environ))
    ports = [FRONT_PORT] + [8001 + i for i in range(len(config.SERVICES))]
    busy = [p for p in ports + list(SINK_PORTS) if not port_is_free(p)]
    if busy:
        raise SystemExit(f"port(s) {busy} already in use — is Wspólnota already running?")
    manager = Manager()
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        if not port_is_free(9092):
            raise SystemExit("port 9092 is in use; stop that broker or set KAFKA_BOOTSTRAP_SERVERS to use it")
        manager.add_process("broker", shlex.join(tansu_command(9092)), env=env)
    os.environ.update(env)
    cmd_migrate(argparse.Namespace(service=None))
    first_admin()
    manager.add_process("front", gunicorn_command(web_app("front"), FRONT_PORT), env=env)
    for i, service in enumerate(config.SERVICES):
        manager.add_process(f"{service}-web", gunicorn_command(web_app(service), 8001 + i),
                            env=env)
    for name, command in worker_processes():
        manager.add_process(name, command, env=env)

    def announce() -> None:
        try:
            for port in ports:
                wait_for_port(port, timeout_s=60)
        except TimeoutError:
            return
        print(f"\n  Wspólnota działa / is running:  http://127.0.0.1:{FRONT_PORT}\n"
              "  Ctrl-C zatrzymuje wszystko / stops everything.\n", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    manager.loop()
    sys.exit(manager.returncode or 0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="wspolnota", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the whole system locally (embedded broker, SQLite)").set_defaults(func=cmd_run)
    p = sub.add_parser("migrate", help="bring databases to the latest schema")
    p.add_argument("service", nargs="?")
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("replay", help="republish a service's outbox (after an embedded broker restart)")
    p.add_argument("service", nargs="?", help="one service; all when omitted")
    p.add_argument("--since", help="ISO-8601 time with zone; default: everything kept")
    p.set_defaults(func=cmd_replay)
    p = sub.add_parser("send", help="deliver queued notifications (a worker process)")
    p.add_argument("service", choices=["notify"])
    p.set_defaults(func=cmd_send)
    p = sub.add_parser("jobs", help="run a service's periodic jobs (a worker process)")
    p.add_argument("service", choices=["needs", "volunteers"])
    p.add_argument("--once", action="store_true", help="run each job once and exit (cron)")
    p.set_defaults(func=cmd_jobs)
    p = sub.add_parser("seed", help="fill a fictional municipality with demo data (--demo)")
    p.add_argument("--demo", action="store_true", required=True, help="demo data; real data is never seeded")
    p.add_argument("--volunteers", type=int, help="how many demo volunteers (the volunteers seed); other options "
                   "go to the needs seed (--residents N --needs N)")
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("user", help="add a staff account or set its password/role (password from "
                       "WSPOLNOTA_USER_PASSWORD or a prompt)")
    p.add_argument("action", choices=["add", "set"])
    p.add_argument("login")
    p.add_argument("--role", required=False, help="osl, social_worker, ipus_coordinator, director, admin, auditor")
    p.add_argument("--name", help="display name (add)")
    p.set_defaults(func=cmd_user)
    p = sub.add_parser("apikey", help="case-system API keys of the needs service: add NAME --scopes needs:write,"
                       "needs:read,exports:read [--rate-limit N] | list | revoke NAME (the token is shown once)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="add|list|revoke and their options")
    p.set_defaults(func=cmd_apikey)
    p = sub.add_parser("relay", help="publish a service's outbox to Kafka (a worker process)")
    p.add_argument("service")
    p.set_defaults(func=cmd_relay)
    p = sub.add_parser("consume", help="run a service's consumer (a worker process)")
    p.add_argument("service")
    p.set_defaults(func=cmd_consume)
    args, unknown = parser.parse_known_args(argv)
    if args.command == "seed":  # the seed passes the options it does not know on to the needs seed
        args.rest = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.func(args)


if __name__ == "__main__":
    main()
