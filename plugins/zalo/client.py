"""Talking to Zalo: the OA access token (OAuth v4, refreshed and cached) and the
customer-service ("tư vấn") text message of the OA API v3.

Shapes, as Zalo documents them (developers.zalo.me, Official Account API):

- ``POST {oauth}/v4/oa/access_token``, header ``secret_key: <app secret>``, form
  ``refresh_token, app_id, grant_type=refresh_token`` answers ``{"access_token",
  "refresh_token", "expires_in": "90000"}`` (seconds, a string), or ``{"error": <n>,
  "error_name", "error_description"}``. A refresh token works once: the answer carries
  the next one, which must be kept.
- ``POST {api}/v3.0/oa/message/cs``, header ``access_token``, JSON ``{"recipient":
  {"user_id"}, "message": {"text"}}`` answers ``{"error": 0, "message": "Success",
  "data": {"message_id"}}`` or ``{"error": <negative code>, "message"}``.
"""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import select, update

from helpdesk_core import AddressGone, DeliveryError, plugin_session, translator

from .tables import tokens as token_table

if TYPE_CHECKING:
    import requests  # imported where a request is sent: web workers never send one

_ = translator(__name__).gettext

OAUTH_URL = "https://oauth.zaloapp.com"
API_URL = "https://openapi.zalo.me"
TIMEOUT = 10.0
TEXT_MAX = 2000  # characters Zalo takes in one text message
EARLY = 300  # seconds: refresh a token this long before it expires
_TOKEN_ROW = 1
_refreshing = threading.Lock()  # one refresh at a time in this process

# Error codes of the OA API (the "error" field), grouped by what the outbox should do.
TOKEN_INVALID = {-216, -220, -124}  # invalid or expired access token: refresh, retry once
NOT_FOLLOWING = {-213}  # the user unfollowed the OA: the opt-in is gone
OUT_OF_WINDOW = {-230, -232}  # no interaction with the OA recently: CS messages refused
REFUSED = {-201, -204, -205, -207, -209, -212, -219, -221, -223, -224, -227, -233,
           -235, -244, -248}  # bad request, OA or app not allowed, user restricted it
RATE_LIMITED = {-32: 60.0, -211: 3600.0, -218: 3600.0}  # seconds to wait: rate, quotas


@dataclass(frozen=True)
class Credentials:
    """The channel's settings as this module needs them."""

    app_id: str
    secret_key: str
    refresh_token: str
    oauth_url: str = OAUTH_URL
    api_url: str = API_URL

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> "Credentials":
        missing = [name for name in ("app_id", "secret_key", "refresh_token")
                   if not (settings.get(name) or "").strip()]
        if missing:
            raise DeliveryError(_("The Zalo channel is not set up: %(fields)s missing.",
                                  fields=", ".join(missing)), permanent=True)
        return cls(settings["app_id"].strip(), settings["secret_key"].strip(),
                   settings["refresh_token"].strip(),
                   (settings.get("oauth_url") or OAUTH_URL).rstrip("/"),
                   (settings.get("api_url") or API_URL).rstrip("/"))

    @property
    def seed(self) -> str:
        """Names the token chain that grew from the pasted refresh token."""
        return hashlib.sha256(f"{self.app_id}\n{self.refresh_token}".encode()).hexdigest()


def _retry_after(response: requests.Response, default: float) -> float:
    value = (response.headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


def _post(url: str, **kwargs: Any) -> dict[str, Any]:
    """POST and return the JSON answer; transport and server failures are retried."""
    import requests
    try:
        response = requests.post(url, timeout=TIMEOUT, **kwargs)
    except requests.Timeout:
        raise DeliveryError(_("Zalo did not answer in time.")) from None
    except requests.RequestException:
        raise DeliveryError(_("Zalo could not be reached.")) from None
    if response.status_code == 429:
        raise DeliveryError(_("Zalo asks us to slow down."),
                            retry_after=_retry_after(response, 60.0))
    if response.status_code >= 500:
        raise DeliveryError(_("Zalo failed (%(status)s).", status=response.status_code))
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise DeliveryError(_("Zalo gave an answer that is not JSON (%(status)s).",
                              status=response.status_code))
    return data


# --- the access token ---------------------------------------------------------------

def _stored(session: Any) -> Any:
    return session.execute(select(token_table).where(token_table.c.id == _TOKEN_ROW)).first()


def _refresh(creds: Credentials, refresh_token: str) -> tuple[str, str, int]:
    data = _post(f"{creds.oauth_url}/v4/oa/access_token",
                 headers={"secret_key": creds.secret_key},
                 data={"refresh_token": refresh_token, "app_id": creds.app_id,
                       "grant_type": "refresh_token"})
    access, following = data.get("access_token"), data.get("refresh_token")
    if data.get("error") or not access or not following:
        raise DeliveryError(_("Zalo refused the OA refresh token (%(error)s): paste a new "
                              "one in the channel's settings.",
                              error=data.get("error_name") or data.get("error") or "?"),
                            permanent=True)
    try:
        lifetime = int(data.get("expires_in") or 3600)
    except (TypeError, ValueError):
        lifetime = 3600
    return access, following, int(time.time()) + lifetime


def access_token(creds: Credentials, *, stale: str | None = None) -> str:
    """The OA's access token: the cached one while it is valid, else a refreshed one.

    *stale* is a token Zalo just called invalid: it is refreshed even if not expired.
    No database transaction stays open across the call to Zalo; if another process
    refreshed first (refresh tokens work once), its token is used.
    """
    with plugin_session() as session:
        row = _stored(session)
        session.commit()
    current = row if row is not None and row.seed == creds.seed else None
    if (current is not None and current.access_token != stale
            and current.expires_at - EARLY > time.time()):
        return current.access_token
    with _refreshing:
        with plugin_session() as session:
            row = _stored(session)
            session.commit()
        current = row if row is not None and row.seed == creds.seed else None
        if (current is not None and current.access_token != stale
                and current.expires_at - EARLY > time.time()):
            return current.access_token  # another thread refreshed while we waited
        used = current.refresh_token if current is not None else creds.refresh_token
        try:
            access, following, expires_at = _refresh(creds, used)
        except DeliveryError:
            with plugin_session() as session:  # another process may have won the race
                row = _stored(session)
                session.commit()
            if row is not None and row.seed == creds.seed and row.refresh_token != used:
                return row.access_token
            raise
        values = {"seed": creds.seed, "access_token": access, "refresh_token": following,
                  "expires_at": expires_at}
        with plugin_session() as session:
            if row is None:
                session.execute(token_table.insert().values(id=_TOKEN_ROW, **values))
            else:  # only over the chain we refreshed from; else another process won
                done = session.execute(update(token_table).where(
                    token_table.c.id == _TOKEN_ROW,
                    token_table.c.refresh_token == row.refresh_token).values(**values))
                if not done.rowcount:
                    session.rollback()
                    return _stored(session).access_token
            session.commit()
        return access


# --- messages ----------------------------------------------------------------------

def send_text(creds: Credentials, user_id: str, text: str) -> str:
    """Send *text* to the OA follower *user_id*; return Zalo's message id.

    :raises AddressGone: the user no longer follows the OA.
    :raises DeliveryError: see the code groups above.
    """
    body = {"recipient": {"user_id": user_id}, "message": {"text": text[:TEXT_MAX]}}
    token = access_token(creds)
    for attempt in (1, 2):
        data = _post(f"{creds.api_url}/v3.0/oa/message/cs",
                     headers={"access_token": token}, json=body)
        code = data.get("error")
        if code == 0:
            return str((data.get("data") or {}).get("message_id", ""))
        if code in TOKEN_INVALID and attempt == 1:
            token = access_token(creds, stale=token)  # refresh once, try again
            continue
        raise _error_for(code, data.get("message"))
    raise AssertionError("unreachable")  # pragma: no cover


def _error_for(code: Any, text: Any) -> DeliveryError:
    detail = f"{code} {text or ''}".strip()
    if code in TOKEN_INVALID:
        return DeliveryError(_("Zalo does not accept the OA's access token (%(detail)s).",
                               detail=detail), permanent=True)
    if code in NOT_FOLLOWING:
        return AddressGone(_("This user no longer follows the OA (%(detail)s).",
                             detail=detail))
    if code in OUT_OF_WINDOW:
        return DeliveryError(_("This user has not written to the OA recently, so Zalo "
                               "refuses the message (%(detail)s).", detail=detail),
                             permanent=True)
    if code in RATE_LIMITED:
        return DeliveryError(_("Zalo's limit is reached; trying later (%(detail)s).",
                               detail=detail), retry_after=RATE_LIMITED[code])
    if code in REFUSED:
        return DeliveryError(_("Zalo refused the message (%(detail)s).", detail=detail),
                             permanent=True)
    return DeliveryError(_("Zalo could not send the message (%(detail)s).", detail=detail))
