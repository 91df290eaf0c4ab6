"""E-mail over STARTTLS with SMTP AUTH, against an aiosmtpd server that requires both (self-signed
certificate trusted through NOTIFY_SMTP_CA_FILE); wrong credentials and plain text are clear failures."""
from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.notify.channels import EmailChannel, Outgoing, TemporaryFailure
from services.notify.db import make_db, sink_messages
from services.notify.settings import Settings
from services.notify.sink import Inbox, SmtpHandler
from wspolnota.broker import free_port

pytestmark = pytest.mark.integration

if shutil.which("openssl") is None:
    pytest.skip("openssl is needed to make a test certificate", allow_module_level=True)

MAIL = Outgoing(notification_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", kind="need_unmatched", address="osl@cus.example",
                subject="Brak wykonawcy od 48 h", text="Dzień dobry,\n\npotrzeba czeka.")


def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"cus", b"tajne-haslo")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@pytest.fixture
def tls_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    db = make_db(f"sqlite:///{tmp_path / 'notify.db'}")
    db.migrate()
    port = free_port()
    controller = Controller(SmtpHandler(Inbox(db)), hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    controller.start()
    yield db, port, str(cert)
    controller.stop()
    db.dispose()


def received(db) -> list[str]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(sink_messages.c.recipient)).scalars())


def test_mail_goes_over_starttls_with_login(tls_server) -> None:  # type: ignore[no-untyped-def]
    db, port, ca = tls_server
    settings = Settings.from_env({"NOTIFY_SMTP_SECURITY": "starttls", "NOTIFY_SMTP_USER": "cus",
                                  "NOTIFY_SMTP_PASSWORD": "tajne-haslo", "NOTIFY_SMTP_CA_FILE": ca,
                                  "NOTIFY_SMTP_PORT": str(port)})
    EmailChannel(settings).send(MAIL)
    assert received(db) == ["osl@cus.example"]


def test_a_wrong_password_is_a_clear_failure(tls_server) -> None:  # type: ignore[no-untyped-def]
    db, port, ca = tls_server
    settings = Settings.from_env({}, smtp_security="starttls", smtp_user="cus", smtp_password="zle",
                                 smtp_ca_file=ca, smtp_port=port)
    with pytest.raises(TemporaryFailure, match="odrzucił logowanie"):
        EmailChannel(settings).send(MAIL)
    assert received(db) == []


def test_plain_text_to_a_server_that_requires_tls_fails(tls_server) -> None:  # type: ignore[no-untyped-def]
    db, port, _ = tls_server
    with pytest.raises(TemporaryFailure, match="SMTP"):
        EmailChannel(Settings.from_env({}, smtp_port=port, smtp_timeout_s=5.0)).send(MAIL)
    assert received(db) == []


def test_an_untrusted_certificate_is_refused(tls_server) -> None:  # type: ignore[no-untyped-def]
    db, port, _ = tls_server
    settings = Settings.from_env({}, smtp_security="starttls", smtp_user="cus", smtp_password="tajne-haslo",
                                 smtp_port=port, smtp_timeout_s=5.0)
    with pytest.raises(TemporaryFailure, match="SSL|certificate"):
        EmailChannel(settings).send(MAIL)
    assert received(db) == []
