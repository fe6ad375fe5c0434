"""The development server's request handler (``helpdesk run``): its log lines masked as
gunicorn's are (webapp/request_log.py), and no ``Server`` header."""

from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler

from .request_log import mask_request_line, mask_target


class MaskedRequestHandler(WSGIRequestHandler):
    """The development server's request handler: masked log lines, no ``Server`` header."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        raw = getattr(self, "path", None)
        if raw is None:  # a request line too broken to parse
            self.requestline = mask_request_line(self.requestline)
            return super().log_request(code, size)
        self.path = mask_target(raw)
        try:
            super().log_request(code, size)
        finally:
            self.path = raw

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "server":  # "Werkzeug/3.x Python/3.x" tells too much
            return
        super().send_header(keyword, value)
