"""A loopback fake of the two Zalo endpoints the channel uses, with their documented
shapes (developers.zalo.me, Official Account API):

- ``POST /v4/oa/access_token`` (OAuth v4): header ``secret_key``, form ``app_id``,
  ``grant_type=refresh_token``, ``refresh_token``. Refresh tokens work once; the answer
  carries the next one and ``expires_in`` as a string of seconds. Errors come as
  ``{"error": <negative>, "error_name", "error_description"}`` with HTTP 200.
- ``POST /v3.0/oa/message/cs`` (customer-service message): header ``access_token``,
  JSON ``{"recipient": {"user_id"}, "message": {"text"}}``; ``{"error": 0, "message":
  "Success", "data": {"message_id", "user_id"}}`` or ``{"error": <code>, "message"}``
  with HTTP 200: -216 invalid token, -220 expired token, -213 not following, -230 no
  interaction for 7 days, -201 invalid parameter, -32 rate limit.
"""

from __future__ import annotations

import itertools
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEXT_MAX = 2000


class FakeZalo:
    def __init__(self, app_id: str = "1234567890", secret_key: str = "app-secret",
                 refresh_token: str = "RT-0") -> None:
        self.app_id, self.secret_key = app_id, secret_key
        self.refresh_tokens = {refresh_token}  # each works once
        self.access_tokens: set[str] = set()
        self.users: dict[str, int] = {}  # user id -> error code to answer (0: follows)
        self.sent: list[dict[str, Any]] = []
        self.refreshes = 0
        self.message_calls = 0
        self.queue: list[tuple[int, dict[str, str], Any]] = []  # scripted (status, headers, body)
        self.always_invalid = False  # every access token is "invalid" (-216)
        self.lock = threading.Lock()
        self._ids = itertools.count(1)  # tokens
        self._messages = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        values = {"app_id": self.app_id, "secret_key": self.secret_key,
                  "refresh_token": sorted(self.refresh_tokens)[0],
                  "oauth_url": self.url, "api_url": self.url}
        values.update(overrides)
        return values

    def follower(self, user_id: str, error: int = 0) -> str:
        self.users[user_id] = error
        return user_id

    def revoke_access_tokens(self) -> None:
        """Zalo forgets every access token (expired, or the OA revoked the app)."""
        with self.lock:
            self.access_tokens.clear()

    def script(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """The next message call answers this instead."""
        self.queue.append((status, dict(headers or {}), body))

    def start(self) -> "FakeZalo":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    # -- the endpoints -------------------------------------------------------------

    def token(self, headers: dict[str, str], form: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            self.refreshes += 1
            if headers.get("secret_key") != self.secret_key:
                return 200, {"error": -14002, "error_name": "Invalid secret key",
                             "error_description": "secret_key is invalid"}
            if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
                return 200, {"error": -14001, "error_name": "Invalid parameter",
                             "error_description": "app_id or grant_type is invalid"}
            used = form.get("refresh_token", "")
            if used not in self.refresh_tokens:
                return 200, {"error": -14014, "error_name": "Invalid refresh token",
                             "error_description": "refresh_token is invalid or used"}
            self.refresh_tokens.discard(used)
            n = next(self._ids)
            access, following = f"AT-{n}", f"RT-{n}"
            self.access_tokens.add(access)
            self.refresh_tokens.add(following)
            return 200, {"access_token": access, "refresh_token": following,
                         "expires_in": "90000"}

    def message(self, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.message_calls += 1
            if self.queue:
                return self.queue.pop(0)
            token = headers.get("access_token", "")
            if self.always_invalid or token not in self.access_tokens:
                return 200, {}, {"error": -216, "message": "Access token is invalid"}
            try:
                user_id = body["recipient"]["user_id"]
                text = body["message"]["text"]
            except (TypeError, KeyError):
                return 200, {}, {"error": -201, "message": "recipient is invalid!"}
            if not isinstance(text, str) or not text or len(text) > TEXT_MAX:
                return 200, {}, {"error": -201, "message": "message.text is invalid!"}
            if user_id not in self.users:
                return 200, {}, {"error": -201, "message": "user_id is invalid!"}
            error = self.users[user_id]
            if error:
                return 200, {}, {"error": error, "message": {
                    -213: "User has not followed OA",
                    -230: "User has not interacted with the OA in the past 7 days",
                    -32: "Your application reached limit call api"}.get(error, "Error")}
            message_id = f"m{next(self._messages)}"
            self.sent.append({"user_id": user_id, "text": text, "message_id": message_id})
            return 200, {}, {"error": 0, "message": "Success",
                             "data": {"message_id": message_id, "user_id": user_id}}


def _handler(fake: FakeZalo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            extra: dict[str, str] = {}
            if self.path == "/v4/oa/access_token":
                form = dict(urllib.parse.parse_qsl(raw.decode("utf-8")))
                status, body = fake.token(headers, form)
            elif self.path == "/v3.0/oa/message/cs":
                try:
                    parsed = json.loads(raw or b"null")
                except ValueError:
                    parsed = None
                status, extra, body = fake.message(headers, parsed)
            else:
                status, body = 404, {"error": 404}
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
