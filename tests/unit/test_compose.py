"""The production compose file, its nginx front door, Postgres init script and Dockerfile, checked
structurally (no Docker engine is needed). What every process must be given is taken from
wspolnota.config.SETTINGS, so a new production-required setting fails here until compose sets it.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from wspolnota.config import SECRETS, SERVICES, SETTINGS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
ENV_EXAMPLE = ROOT / ".env.example"

ROLES = ("web", "relay", "consumer")
PINNED_TAG = re.compile(r"^\d+\.\d+(\.\d+)?([.-][A-Za-z0-9.-]+)?$")  # 4.1.1, 17.6-alpine, 3.11.14-slim-bookworm
INTERPOLATION = re.compile(r"^\$\{[A-Z_]+:\?[^}]*\}$")  # ${SECRET_KEY:?message}: required, no default


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def nginx_conf() -> str:
    # Comments out, so that a commented-out directive does not count.
    return re.sub(r"#[^\n]*", "", NGINX.read_text(encoding="utf-8"))


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def command_of(service: dict) -> list[str]:
    cmd = service.get("command")
    assert cmd, "container has no explicit command"
    return cmd if isinstance(cmd, list) else cmd.split()


def split_image(image: str) -> tuple[str, str]:
    name, _, tag = image.rpartition(":")
    assert name and "/" not in tag, f"image {image!r} has no tag"
    return name, tag


DB_URL = re.compile(r"^(?P<scheme>[a-z+]+)://(?P<user>[^:@/]+):(?P<password>\$\{[^}]*\}|[^@]*)"
                    r"@(?P<host>[^:/]+):(?P<port>\d+)/(?P<db>\w+)$")


def db_url(url: str) -> dict[str, str]:
    """Split a DATABASE_URL whose password may be a compose `${VAR:?message}` interpolation."""
    m = DB_URL.match(url)
    assert m, f"not a DATABASE_URL: {url!r}"
    return m.groupdict()


def required_for(role: str) -> list[str]:
    return [s.name for s in SETTINGS if s.production_required and role in s.roles]


EXTRA_WORKERS = {"notify-sender": ("notify", "send"), "needs-jobs": ("needs", "jobs"),
                 "volunteers-jobs": ("volunteers", "jobs"), "matching-jobs": ("matching", "jobs"),
                 "front": ("front", "front")}  # processes beyond web/relay/consumer/migrate


def our_containers(services: dict) -> dict[str, tuple[str, str]]:
    """name -> (service, role) for every container that runs our code."""
    return {f"{svc}-{role}": (svc, role) for svc in SERVICES for role in (*ROLES, "migrate")} | EXTRA_WORKERS


def depends(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {d: "service_started" for d in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


# -- services present ------------------------------------------------------------------------------

def test_every_expected_service_is_present(services: dict) -> None:
    expected = {"kafka", "postgres", "nginx"} | set(our_containers(services))
    assert expected <= set(services), f"missing: {sorted(expected - set(services))}"


def test_nothing_unexpected_runs_our_image(services: dict) -> None:
    ours = {n for n, s in services.items() if split_image(s["image"])[0] == "wspolnota"}
    assert ours == set(our_containers(services))


# -- images ----------------------------------------------------------------------------------------

def test_every_image_is_pinned_to_a_version(services: dict) -> None:
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name}: no image"
        _, tag = split_image(image)
        assert tag != "latest" and PINNED_TAG.match(tag), f"{name}: image {image!r} is not pinned to a version"


def test_our_image_tag_is_the_project_version(services: dict) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for name in our_containers(services):
        assert services[name]["image"] == f"wspolnota:{version}", name
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile", name


def test_third_party_images_are_the_official_ones(services: dict) -> None:
    assert split_image(services["kafka"]["image"])[0] == "apache/kafka"
    assert split_image(services["postgres"]["image"])[0] == "postgres"
    assert split_image(services["nginx"]["image"])[0] == "nginx"
    assert split_image(services["nginx"]["image"])[1].endswith("-alpine")


# -- kafka -----------------------------------------------------------------------------------------

def test_kafka_runs_in_kraft_mode_single_node(services: dict) -> None:
    env = env_of(services["kafka"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in k for k in env), "KRaft mode has no ZooKeeper"
    node = env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node}@kafka:9093"
    assert "CONTROLLER://:9093" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["CLUSTER_ID"]
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        assert env[key] == "1", f"{key} must be 1 on a single node"


def test_kafka_and_postgres_keep_data_in_named_volumes(compose: dict, services: dict) -> None:
    declared = set(compose.get("volumes") or {})
    kafka_dir = env_of(services["kafka"])["KAFKA_LOG_DIRS"]
    for name, target in (("kafka", kafka_dir), ("postgres", "/var/lib/postgresql/data")):
        mounts = dict(reversed(v.split(":")[:2]) for v in services[name]["volumes"])
        assert target in mounts, f"{name}: nothing mounted at {target}"
        assert mounts[target] in declared, f"{name}: {mounts[target]} is not a named volume"


# -- our containers: commands, environment, order --------------------------------------------------

def test_commands_match_the_role(services: dict) -> None:
    for name, (svc, role) in our_containers(services).items():
        cmd = command_of(services[name])
        if role == "front":  # sign-in pages, staff accounts, landing page
            assert cmd[0] == "gunicorn" and cmd[-1] == "services.front.app:create_app()", name
        elif role == "web":
            assert cmd[0] == "gunicorn" and cmd[-1] == f"services.{svc}.app:create_app()", name
            conf = cmd[cmd.index("-c") + 1]
            assert conf == "deploy/gunicorn.conf.py", name
        else:
            verb = {"relay": "relay", "consumer": "consume", "migrate": "migrate", "send": "send", "jobs": "jobs"}[role]
            assert cmd == ["wspolnota", verb, svc], name


@pytest.mark.parametrize("role", ROLES)
def test_every_production_required_setting_is_set(services: dict, role: str) -> None:
    needed = required_for(role)
    assert needed, f"config.SETTINGS names nothing production-required for {role}?"
    for svc in SERVICES:
        env = env_of(services[f"{svc}-{role}"])
        missing = [n for n in needed if not env.get(n)]
        assert not missing, f"{svc}-{role} lacks {missing}"


def test_only_known_settings_are_set(services: dict) -> None:
    """A typo in compose (KAFKA_BOOTSTRAP_SERVER) would be silently ignored by the code."""
    gunicorn = set(re.findall(r"os\.environ\.get\(\"([A-Z_]+)\"", GUNICORN_CONF.read_text()))
    assert "GUNICORN_BIND" in gunicorn
    known = {s.name for s in SETTINGS} | gunicorn | {"PYTHONUNBUFFERED"}
    for name in our_containers(services):
        unknown = set(env_of(services[name])) - known
        assert not unknown, f"{name} sets settings no code reads: {sorted(unknown)}"


def test_a_setting_declared_for_named_processes_is_given_to_those_processes(services: dict) -> None:
    """NOTIFY_PUBLIC_URL is read by notify-consumer (its links): set on the sender alone it would go unused."""
    containers = our_containers(services)
    for setting in SETTINGS:
        if not any(role in containers for role in setting.roles):
            continue  # declared for roles of every service (web, relay, …): not a single process's
        readers = {name for name, (_, role) in containers.items() if name in setting.roles or role in setting.roles}
        given = {name for name in containers if setting.name in env_of(services[name])}
        assert given <= readers, f"{setting.name} is set on {sorted(given - readers)}, which do not read it"


def test_settings_have_production_values(services: dict) -> None:
    kafka = env_of(services["kafka"])
    advertised = kafka["KAFKA_ADVERTISED_LISTENERS"].split("://", 1)[1]
    for name, (svc, role) in our_containers(services).items():
        env = env_of(services[name])
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == advertised, name
        assert env["LOG_FORMAT"] == "json", name
        url = db_url(env["AUTH_DATABASE_URL" if role == "front" else "DATABASE_URL"])
        if role == "front":
            svc = "auth"  # the staff accounts database
        assert url["scheme"] == "postgresql+psycopg", name
        assert url["host"] == "postgres" and url["port"] == "5432", name
        assert url["db"] == svc and url["user"] == svc, f"{name}: not its own database and role"
        assert INTERPOLATION.match(url["password"]), f"{name}: database password must come from the environment"
        if role in ("web", "front"):
            assert INTERPOLATION.match(env["SECRET_KEY"]), f"{name}: SECRET_KEY must be ${{SECRET_KEY:?...}}"
            assert env["GUNICORN_BIND"] == "0.0.0.0:8000", name
        if role in ("relay", "consumer"):
            assert env["WSPOLNOTA_HEARTBEAT_FILE"].startswith("/tmp/"), name


def test_one_database_url_per_service(services: dict) -> None:
    for svc in SERVICES:
        urls = {env_of(services[f"{svc}-{role}"])["DATABASE_URL"] for role in (*ROLES, "migrate")}
        assert len(urls) == 1, f"{svc}: its containers disagree on DATABASE_URL: {urls}"


def test_postgres_init_creates_each_service_database(services: dict) -> None:
    pg = services["postgres"]
    init = [v.split(":") for v in pg["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert init, "no init script mounted"
    script = (ROOT / init[0][0]).resolve()
    assert script.is_file(), f"{script} is missing"
    text = script.read_text()
    assert "CREATE DATABASE" in text and "CREATE ROLE" in text
    env = env_of(pg)
    for svc in SERVICES:
        assert re.search(rf"\b{svc}\b", text), f"init script does not create {svc}"
        password = f"{svc.upper()}_DB_PASSWORD"
        assert INTERPOLATION.match(env[password]), f"postgres lacks {password} for the init script"
        web_password = db_url(env_of(services[f"{svc}-web"])["DATABASE_URL"])["password"]
        assert web_password.startswith(f"${{{password}:?"), svc
    assert INTERPOLATION.match(env["POSTGRES_PASSWORD"])


def test_start_order(services: dict) -> None:
    for svc in SERVICES:
        assert depends(services[f"{svc}-migrate"]) == {"postgres": "service_healthy"}
        for role in ROLES:
            deps = depends(services[f"{svc}-{role}"])
            assert deps.get(f"{svc}-migrate") == "service_completed_successfully", f"{svc}-{role}"
        for role in ("relay", "consumer"):
            assert depends(services[f"{svc}-{role}"]).get("kafka") == "service_healthy", f"{svc}-{role}"
    nginx = depends(services["nginx"])
    for svc in SERVICES:
        assert nginx.get(f"{svc}-web") == "service_healthy"


def test_restart_policies(services: dict) -> None:
    for name, service in services.items():
        if name.endswith("-migrate"):
            assert service.get("restart") == "no", name
        else:
            assert service.get("restart") in ("unless-stopped", "always"), name


def test_workers_can_be_scaled(services: dict) -> None:
    for name, service in services.items():
        assert "container_name" not in service, f"{name}: container_name prevents --scale"
    for svc in SERVICES:
        for role in ROLES:
            assert "ports" not in services[f"{svc}-{role}"], f"{svc}-{role}: only nginx is published"
    assert any(str(p).split(":")[-1] == "8000" for p in services["nginx"]["ports"])


# -- healthchecks ----------------------------------------------------------------------------------

def health_test(service: dict) -> str:
    check = service.get("healthcheck") or {}
    assert not check.get("disable"), "healthcheck disabled"
    test = check.get("test")
    assert test and test[0] in ("CMD", "CMD-SHELL"), f"no healthcheck test: {test!r}"
    return " ".join(test[1:])


def test_every_long_running_container_has_a_healthcheck(services: dict) -> None:
    for name, service in services.items():
        if name.endswith("-migrate"):
            continue  # one-shot: its exit code is what dependants wait for
        assert health_test(service), name


def test_healthchecks_probe_the_right_thing(services: dict) -> None:
    assert "kafka-broker-api-versions" in health_test(services["kafka"])
    assert "pg_isready" in health_test(services["postgres"])
    assert "/healthz" in health_test(services["nginx"])
    for svc in SERVICES:
        web = health_test(services[f"{svc}-web"])
        assert "http://127.0.0.1:8000/healthz" in web, svc
        for role in ("relay", "consumer"):
            check = health_test(services[f"{svc}-{role}"])
            assert "WSPOLNOTA_HEARTBEAT_FILE" in check and "st_mtime" in check, f"{svc}-{role}"


@pytest.mark.e2e  # runs the healthcheck's Python in its own process
def test_worker_heartbeat_check_works(tmp_path: Path, services: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the relay healthcheck's own Python: fresh file healthy, stale or missing file unhealthy."""
    import os
    import subprocess
    import sys
    import time

    test = services["needs-relay"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    beat = tmp_path / "heartbeat"
    monkeypatch.setenv("WSPOLNOTA_HEARTBEAT_FILE", str(beat))

    def healthy() -> bool:
        return subprocess.run([sys.executable, "-c", test[3]], capture_output=True).returncode == 0

    assert not healthy()  # missing
    beat.touch()
    assert healthy()
    old = time.time() - 300
    os.utime(beat, (old, old))
    assert not healthy()


# -- nginx front door ------------------------------------------------------------------------------

def location_blocks(conf: str) -> dict[str, str]:
    """`location [modifier] path { body }` -> body (nginx locations here do not nest)."""
    blocks = {}
    for m in re.finditer(r"location\s+(?:[=~^]+\s+)?(\S+)\s*\{", conf):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(conf[i], 0)
            i += 1
        blocks[m.group(1)] = conf[m.end():i - 1]
    return blocks


def test_nginx_routes_each_service_prefix(nginx_conf: str) -> None:
    blocks = location_blocks(nginx_conf)
    upstreams = dict(re.findall(r"upstream\s+(\S+)\s*\{([^}]*)\}", nginx_conf))
    for svc in SERVICES:
        body = blocks.get(f"/{svc}/")
        assert body is not None, f"no location /{svc}/"
        target = re.search(r"proxy_pass\s+http://([^/;\s]+)(/?)\s*;", body)
        assert target, f"/{svc}/: no proxy_pass"
        host, slash = target.groups()
        assert slash == "/", f"/{svc}/: proxy_pass must end in / to strip the prefix"
        server = upstreams[host] if host in upstreams else f"server {host};"
        assert re.search(rf"server\s+{svc}-web:8000\b", server), f"/{svc}/ does not reach {svc}-web:8000"
        assert re.search(rf"proxy_set_header\s+X-Forwarded-Prefix\s+/{svc}\s*;", body), svc
        for header, value in (("X-Forwarded-For", r"\$proxy_add_x_forwarded_for"),
                              ("X-Forwarded-Proto", r"\$scheme"), ("X-Forwarded-Host", r"\$(http_)?host")):
            assert re.search(rf"proxy_set_header\s+{header}\s+{value}\s*;", body), f"/{svc}/ lacks {header}"


def test_nginx_front_page_listens_and_answers(nginx_conf: str, services: dict) -> None:
    assert re.search(r"listen\s+8000\s*;", nginx_conf)
    blocks = location_blocks(nginx_conf)
    front = next(body for loc, body in blocks.items() if "auth/" in loc and "$" in loc)
    assert "proxy_pass http://front_web" in front, "/, /auth/ go to the front container (sign-in, landing page)"
    assert "return 200" in blocks["/healthz"]
    mounts = [v.split(":") for v in services["nginx"]["volumes"]]
    assert ["./deploy/nginx.conf", "/etc/nginx/nginx.conf", "ro"] in mounts


# -- image -----------------------------------------------------------------------------------------

def test_dockerfile_pinned_constrained_unprivileged() -> None:
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert bases
    for base in bases:
        name, tag = split_image(base)
        assert name == "python" and re.match(r"^3\.11\.\d+-slim", tag), f"base image {base!r} not pinned"
    assert re.search(r"^COPY\s.*\bconstraints\.txt\b", text, re.M)
    assert re.search(r"pip install -c constraints\.txt \.", text)
    last_stage = text.split("\nFROM ")[-1]
    user = re.findall(r"^USER\s+(\S+)", last_stage, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0"), "the runtime stage must not run as root"
    cmd = re.findall(r"^CMD\s+(.+)$", last_stage, re.M)
    assert cmd and "gunicorn" in cmd[-1]


def test_dockerignore_keeps_local_state_out() -> None:
    lines = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "*", ".dockerignore should be an allow-list"
    allowed = {ln[1:].rstrip("/") for ln in lines if ln.startswith("!")}
    assert {"pyproject.toml", "constraints.txt", "wspolnota", "services"} <= allowed
    assert not allowed & {".venv", "var", ".git", ".env", "tests"}


def test_every_worker_serves_its_metrics_on_the_internal_network(services: dict) -> None:
    """Relays, consumers, the sender and the jobs serve wspolnota.metrics on an exposed port, to all interfaces
    of the container (nginx publishes no route to it)."""
    workers = {name for name, (_svc, role) in our_containers(services).items() if role not in ("web", "front", "migrate")}
    assert {"needs-relay", "matching-consumer", "notify-sender", "volunteers-jobs"} <= workers
    for name in workers:
        env = env_of(services[name])
        assert env["WSPOLNOTA_METRICS_ADDR"] == "0.0.0.0", name
        assert env["WSPOLNOTA_METRICS_PORT"] in [str(p) for p in services[name].get("expose", [])], name
        assert "ports" not in services[name], f"{name} must not publish ports on the host"


# -- secrets ---------------------------------------------------------------------------------------
ANY_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")
SECRET_LIKE = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD)$")
# Logins to someone else's server that may need none (an SMTP relay without authentication, a gateway on a
# private network): empty is a valid value, so compose cannot require them.
# optional: empty turns the feature off (no SMTP login; no gateway token; the SMS-reply endpoint refuses every call)
OPTIONAL_CREDENTIALS = {"NOTIFY_SMTP_PASSWORD", "NOTIFY_SMS_GATEWAY_TOKEN", "NOTIFY_SMS_INBOUND_TOKEN"}


def strings_in(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(node, list):
        return [s for item in node for s in strings_in(item)]
    return [node] if isinstance(node, str) else []


def interpolations(compose: dict) -> list[re.Match[str]]:
    return [m for text in strings_in(compose) for m in ANY_INTERPOLATION.finditer(text)]


def env_example() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_every_process_gets_each_secret_it_reads_and_compose_requires_it(services: dict) -> None:
    for secret in SECRETS:
        for process in secret.processes:
            value = env_of(services[process]).get(secret.name, "")
            assert re.fullmatch(rf"\$\{{{secret.name}:\?[^}}]+\}}", value), \
                f"{process}: {secret.name} must be ${{{secret.name}:?message}}, not {value!r}"


def test_every_secret_compose_handles_is_required_and_never_written_in(compose: dict, services: dict) -> None:
    for m in interpolations(compose):
        if SECRET_LIKE.search(m["name"]) and m["name"] not in OPTIONAL_CREDENTIALS:
            assert m["op"] == ":?" and m["arg"].strip(), f"{m[0]}: a secret must be ${{VAR:?message}}"
    for name, service in services.items():
        for key, value in env_of(service).items():
            if SECRET_LIKE.search(key):
                assert ANY_INTERPOLATION.fullmatch(value), f"{name}: {key} is written into the compose file"


def test_development_secrets_are_never_asked_for_in_compose(services: dict) -> None:
    for name, service in services.items():
        assert "WSPOLNOTA_DEV_SECRETS" not in env_of(service), name


def test_env_example_documents_every_variable_compose_reads_without_a_value(compose: dict) -> None:
    documented = env_example()
    read = {m["name"] for m in interpolations(compose)}
    assert read == set(documented), f"only in compose: {sorted(read - set(documented))}; " \
                                    f"only in .env.example: {sorted(set(documented) - read)}"
    assert {s.name for s in SECRETS} <= set(documented)
    assert all(value == "" for value in documented.values()), ".env.example must hold no values"
    previous = ""
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            assert previous.startswith("#") or "=" in previous, f"{line}: no comment says what it is"
        previous = line
