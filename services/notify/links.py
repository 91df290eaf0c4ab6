"""Signed, expiring response links for providers (itsdangerous).

A token names the offer (the MatchOffered event id, which is also the key of the single answer
allowed) and the action the link was for; the timestamp in it lets the link expire. Kept short on
purpose: the link goes into an SMS.
"""
from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

ACTIONS = {"a": "accept", "d": "decline", "c": "choose",
           "v": "visit_check", "n": "need_check"}  # "did it happen?" and "is it still needed?" (follow_ups.py)
SALT = "wspolnota.notify.provider-response"
TOKEN_IN_LINK = re.compile(r"(/o/|/w/|/p/|/wolontariusz/wejscie/)[A-Za-z0-9_\-.]+")  # response, check, sign-in


class LinkInvalid(ValueError):
    pass


class LinkExpired(ValueError):
    pass


@dataclass(frozen=True)
class LinkClaim:
    offer_id: str
    action: str


def _signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt=SALT)


def make_token(secret: str, offer_id: str, action: str) -> str:
    code = {v: k for k, v in ACTIONS.items()}[action]
    compact = base64.urlsafe_b64encode(uuid.UUID(offer_id).bytes).rstrip(b"=").decode()
    return _signer(secret).sign(f"{compact}{code}").decode()


def read_token(secret: str, token: str, max_age_s: float) -> LinkClaim:
    try:
        value = _signer(secret).unsign(token, max_age=int(max_age_s)).decode()
    except SignatureExpired as err:
        raise LinkExpired("link expired") from err
    except BadSignature as err:
        raise LinkInvalid("bad signature") from err
    compact, code = value[:-1], value[-1:]
    if code not in ACTIONS or len(compact) != 22:
        raise LinkInvalid("malformed link")
    offer_id = str(uuid.UUID(bytes=base64.urlsafe_b64decode(compact + "==")))
    return LinkClaim(offer_id, ACTIONS[code])


def link_url(public_url: str, secret: str, offer_id: str, action: str, path: str = "o") -> str:
    return f"{public_url.rstrip('/')}/{path}/{make_token(secret, offer_id, action)}"


def hide_tokens(text: str | None) -> str:
    """Staff see that a link was sent, not the provider's own signed link (a response or a sign-in link)."""
    return TOKEN_IN_LINK.sub(r"\1…", text or "")
