"""helpdesk_core.http: the coroutine HTTP helper for checks, against loopback peers."""

from __future__ import annotations

import asyncio

import pytest

from helpdesk_core import http, i18n


def get(url: str, **options):
    return asyncio.run(http.get(url, **{"timeout": 2, **options}))


def test_an_answer_with_status_body_and_latency(http_server):
    http_server.answer("/page", 503, "Bảo trì".encode("utf-8"),
                       content_type="text/html; charset=utf-8", headers={"Retry-After": "60"})
    answer = get(http_server.url("/page"))
    assert (answer.status, answer.text, answer.headers["Retry-After"]) == (503, "Bảo trì", "60")
    assert answer.latency_ms >= 0 and answer.redirects == 0
    assert get(http_server.address + "/page", read_body=False).body == b""  # no scheme: http


def test_the_body_is_cut_at_max_body_and_headers_are_sent(http_server):
    http_server.answer("/big", body=lambda request: request.headers.get("X-Ward", "") * 100)
    answer = get(http_server.url("/big"), max_body=10, headers={"X-Ward": "HCH"})
    assert answer.body == b"HCHHCHHCHH"


def test_redirects_are_followed_and_counted_unless_switched_off(http_server):
    http_server.redirect("/a", "/b")
    http_server.redirect("/b", "/c", 301)
    answer = get(http_server.url("/a"))
    assert (answer.status, answer.redirects, answer.url) == (200, 2, http_server.url("/c"))
    assert get(http_server.url("/a"), follow_redirects=False).status == 302


@pytest.mark.parametrize(("peer", "kind", "reason"), [
    ("refused", "connect", "the connection was refused"),
    ("hung", "timeout", "0.3 s"),
    ("silent", "timeout", "0.3 s"),
    ("self-signed", "tls", "the certificate is self-signed"),
    ("bad-url", "protocol", "ValueError"),
])
def test_no_answer_raises_http_error_with_a_short_reason(http_server, https_server, closed_port,
                                                         silent_port, peer, kind, reason):
    http_server.hang("/hang")
    url = {"refused": f"http://127.0.0.1:{closed_port}/", "hung": http_server.url("/hang"),
           "silent": f"http://127.0.0.1:{silent_port}/",
           "self-signed": https_server(30).url("/"),
           "bad-url": "http://[::1/"}[peer]
    with i18n.use_locale("en"), pytest.raises(http.HttpError) as error:
        get(url, timeout=0.3)
    assert error.value.kind == kind and reason in error.value.reason, error.value


def test_an_expired_certificate_of_a_trusted_issuer(https_server, monkeypatch, http_environment):
    server = https_server(-1)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert_file))
    http_environment()
    with pytest.raises(http.HttpError) as error:
        get(server.url("/"))
    assert (error.value.kind, error.value.reason) == ("tls", "chứng chỉ đã hết hạn")  # in the default locale


def test_the_ca_bundle_and_proxy_of_the_environment_are_honoured(https_server, http_server,
                                                                 monkeypatch, http_environment):
    server = https_server(30)
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy",
                 "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # these would come first
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert_file))
    monkeypatch.setenv("HTTP_PROXY", http_server.base_url)
    http_environment()
    assert get(server.url("/")).status == 200
    assert get("http://only-the-proxy-knows.invalid/x").status == 200
    assert http_server.hits == {"/x": 1}
    assert get(server.url("/"), verify_tls=False).status == 200


def test_a_kept_connector_serves_the_loops_requests_on_fresh_connections(http_server):
    """The scheduler's loop keeps one connector: every request goes through it, none
    keeps its connection, and after drop_connector requests build their own again."""
    http_server.answer("/ok", 200, b"ok")
    http_server.redirect("/moved", "/ok")
    http_server.hang("/hang")

    async def scenario():
        await http.keep_connector()
        kept = http._KEPT_CONNECTORS[asyncio.get_running_loop()]
        connects = []
        original = kept.connect

        async def counting(*args, **kwargs):
            connects.append(args[0].url)
            return await original(*args, **kwargs)
        kept.connect = counting
        answers = await asyncio.gather(http.get(http_server.url("/ok"), timeout=2),
                                       http.get(http_server.url("/moved"), timeout=2))
        with pytest.raises(http.HttpError):
            await http.get(http_server.url("/hang"), timeout=0.3)
        pooled = sum(len(conns) for conns in kept._conns.values())
        await http.drop_connector()
        after = await http.get(http_server.url("/ok"), timeout=2)
        return answers, len(connects), pooled, kept.closed, after

    answers, connects, pooled, closed, after = asyncio.run(scenario())
    assert [(a.status, a.redirects) for a in answers] == [(200, 0), (200, 1)]
    assert (connects, pooled, closed, after.status) == (4, 0, True, 200)
    assert not http._KEPT_CONNECTORS



def _client_sockets_to(port: int) -> int:
    """This process's open TCP sockets whose peer is 127.0.0.1:*port* (from /proc)."""
    import os
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows
               if int(row[2].split(":")[1], 16) == port and row[9] in inodes)


class KeptAlivePeer:
    """A device that keeps its connection open after answering (HTTP/1.1 keep-alive, as
    ippeveprinter): only the client's closing ends it."""

    def __init__(self) -> None:
        import socket
        import threading
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import threading
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    @staticmethod
    def _answer(conn) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            while conn.recv(65536):  # until the client closes
                pass


@pytest.mark.skipif(not __import__("os").path.exists("/proc/net/tcp"), reason="needs /proc")
def test_a_request_has_closed_its_connection_when_it_returns():
    """On a short-lived loop (``asyncio.run`` of one check, as tests and ``helpdesk
    check`` run it) nothing may be left for the loop to close later: a small answer is
    read whole with its headers and aiohttp lets go of the connection itself; its socket
    must be shut before the request returns, not at a next turn of a loop that is about
    to be closed (a transport collected unclosed: a ResourceWarning)."""
    peer = KeptAlivePeer()
    try:
        async def scenario():
            answer = await http.get(f"http://127.0.0.1:{peer.port}/", timeout=2)
            return answer.body, _client_sockets_to(peer.port)

        assert asyncio.run(scenario()) == (b"ok", 0)
    finally:
        peer.server.close()
