"""The testing kit (helpdesk_core.testing): its peers, run_check, catalog checks, options."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import textwrap

import pytest
import requests
from cryptography import x509

from helpdesk_core import CheckResult, CheckStatus, HealthCheckType
from helpdesk_core.testing import catalog_problems, compile_catalogs, registry_for, run_check
from helpdesk_core.testing.databases import chosen_engines

pytest_plugins = ["pytester"]


# --- HTTP -----------------------------------------------------------------------------

def test_http_server_answers_as_scripted(http_server):
    http_server.answer("/teapot", 418, "tea", headers={"X-Kind": "earl grey"})
    response = requests.get(http_server.url("/teapot"), timeout=2)
    assert (response.status_code, response.text, response.headers["X-Kind"]) == \
        (418, "tea", "earl grey")
    assert requests.get(http_server.url("/anything"), timeout=2).text == "OK healthy"
    assert http_server.hits == {"/teapot": 1, "/anything": 1}


def test_http_server_bodies_can_depend_on_the_request(http_server):
    http_server.answer("/echo", body=lambda request: request.method + " " + request.body.decode())
    assert requests.post(http_server.url("/echo"), data="ping", timeout=2).text == "POST ping"


def test_http_server_hangs_until_the_client_gives_up(http_server):
    http_server.hang("/hang")
    with pytest.raises(requests.ReadTimeout):
        requests.get(http_server.url("/hang"), timeout=0.3)
    assert http_server.pending("/hang") == 1


def test_http_server_slow_redirect_and_login(http_server):
    http_server.slow("/slow", 0.05)
    http_server.redirect("/old", "/slow")
    http_server.answer("/private", 200, "secret page", login=("ward", "secret"))
    response = requests.get(http_server.url("/old"), timeout=2)
    assert response.text == "OK healthy" and response.elapsed.total_seconds() >= 0.05
    assert requests.get(http_server.url("/private"), timeout=2).status_code == 401
    assert requests.get(http_server.url("/private"), auth=("ward", "secret"),
                        timeout=2).text == "secret page"


def test_https_server_self_signed_and_expired(https_server):
    fresh, expired = https_server(90), https_server(-1)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(fresh.url("/"), timeout=2)  # self-signed: not trusted by default
    assert requests.get(fresh.url("/"), verify=str(fresh.cert_file), timeout=2).status_code == 200
    with pytest.raises(requests.exceptions.SSLError, match="expired"):
        requests.get(expired.url("/"), verify=str(expired.cert_file), timeout=2)


def test_closed_port_refuses(closed_port):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", closed_port), timeout=1)


def test_silent_port_accepts_and_says_nothing(silent_port):
    with socket.create_connection(("127.0.0.1", silent_port), timeout=1) as sock:
        sock.settimeout(0.2)
        with pytest.raises(TimeoutError):
            sock.recv(1)


# --- TCP and TLS ----------------------------------------------------------------------

def test_tcp_server_answers_what_it_is_asked(tcp_server):
    server = tcp_server(lambda request: b"pong" if request == b"ping" else None, read=4)
    with socket.create_connection(("127.0.0.1", server.port), timeout=1) as sock:
        sock.sendall(b"ping")
        assert sock.recv(4) == b"pong"
    assert server.requests == [b"ping"]


def test_tcp_server_hangs_up_and_refuses_once_closed(tcp_server):
    server = tcp_server()
    with socket.create_connection(("127.0.0.1", server.port), timeout=1) as sock:
        assert sock.recv(1) == b""  # accepted, then closed
    assert server.wait_accepted(1) == 1
    server.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1)


def test_tls_server_presents_the_certificate_asked_for(tls_server):
    server = tls_server(-3, "expired.test")
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as raw:
        with context.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    cert = x509.load_der_x509_certificate(der)
    assert cert.subject.rfc4514_string() == "CN=expired.test"
    assert cert.not_valid_after_utc < dt.datetime.now(dt.timezone.utc)


# --- run_check ------------------------------------------------------------------------

async def answer_ok(target):
    return CheckResult(CheckStatus.OK, f"async {target.address}")


def answer_blocking(target):
    return CheckResult(CheckStatus.OK, f"blocking {target.address} {target.config['n']}")


async def raise_async(target):
    raise ZeroDivisionError("check bug")


def test_run_check_runs_coroutine_and_blocking_checks():
    check = HealthCheckType("kit_async", "Kit", "kit", run_async=answer_ok)
    assert run_check(check, "host").message == "async host"
    assert run_check(check, "host", blocking=True).message == "async host"
    blocking = HealthCheckType("kit_blocking", "Kit", "kit", run=answer_blocking)
    assert run_check(blocking, "host", config={"n": 2}).message == "blocking host 2"


def test_run_check_goes_through_the_guard():
    check = HealthCheckType("kit_raises", "Kit", "kit", run_async=raise_async)
    result = run_check(check, "host", timeout=0.2)
    assert result.status is CheckStatus.ERROR and "ZeroDivisionError" in result.message


def test_run_check_by_key_in_a_registry(registry, closed_port):
    result = run_check("tcp", "127.0.0.1", config={"port": closed_port}, registry=registry)
    assert result.status is CheckStatus.FAILURE
    with pytest.raises(TypeError):
        run_check("tcp", "127.0.0.1")
    assert list(registry_for(HealthCheckType("kit_one", "Kit", "kit", run=answer_blocking))
                .check_types) == ["kit_one"]


# --- catalogs -------------------------------------------------------------------------

PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'


def write_area(root, name: str, source: str, po: str):
    package = root / name
    (package / "translations" / "vi" / "LC_MESSAGES").mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (package / "translations" / "vi" / "LC_MESSAGES" / "messages.po").write_text(
        PO_HEADER + textwrap.dedent(po), encoding="utf-8")
    return package


@pytest.fixture
def core(tmp_path):
    return write_area(tmp_path, "core", "", '''
        msgid "Printer"
        msgstr "Máy in"
        ''') / "translations"


def test_a_complete_distinct_catalog_has_no_problems(tmp_path, core):
    package = write_area(tmp_path, "good", '''
        from helpdesk_core.i18n import lazy_gettext as _l
        LABEL = _l("Printer")
        OTHER = _l("Queue kiosk")
        ''', '''
        msgid "Printer"
        msgstr "Máy in"

        msgid "Queue kiosk"
        msgstr "Máy lấy số"
        ''')
    assert catalog_problems(package, others={"core": core}) == []
    assert [p.name for p in compile_catalogs(package)] == ["messages.mo"]


def test_untranslated_fuzzy_bad_placeholders_and_clashes_are_reported(tmp_path, core):
    package = write_area(tmp_path, "bad", '''
        from helpdesk_core import gettext as _
        def f(n):
            return _("Printer"), _("Missing"), _("Fuzzy"), _("%(n)s pages", n=n)
        ''', '''
        msgid "Printer"
        msgstr "Máy in ấn"

        #, fuzzy
        msgid "Fuzzy"
        msgstr "Mờ"

        #, python-format
        msgid "%(n)s pages"
        msgstr "%(count)s trang"
        ''')
    problems = catalog_problems(package, others={"core": core})
    assert "untranslated: 'Missing'" in problems and "untranslated: 'Fuzzy'" in problems
    assert any("%(n)s pages" in p and "placeholder" in p.lower() for p in problems), problems
    assert "clash with core: 'Printer' is 'Máy in ấn' here but 'Máy in' in core" in problems


def test_by_default_the_core_and_installed_plugins_are_compared(tmp_path):
    package = write_area(tmp_path, "mine", "", '''
        msgid "Who is affected?"
        msgstr "Ai bị sao?"
        ''')
    assert catalog_problems(package) == [
        "clash with network: 'Who is affected?' is 'Ai bị sao?' here but "
        "'Ai bị ảnh hưởng?' in network"]
    assert "has no vi catalog" in catalog_problems(tmp_path)[0]


# --- options and the clock ------------------------------------------------------------

def test_database_engines_come_from_option_env_or_ini(monkeypatch):
    monkeypatch.delenv("HELPDESK_TEST_DATABASES", raising=False)
    assert chosen_engines(None, []) == ["sqlite"]
    assert chosen_engines(None, ["sqlite", "postgresql"]) == ["sqlite", "postgresql"]
    monkeypatch.setenv("HELPDESK_TEST_DATABASES", "postgresql")
    assert chosen_engines(None, ["sqlite"]) == ["postgresql"]
    assert chosen_engines("sqlite,postgresql", []) == ["sqlite", "postgresql"]
    with pytest.raises(pytest.UsageError):
        chosen_engines("oracle", [])


def test_a_project_gets_the_fixtures_and_sqlite_by_default(pytester, monkeypatch):
    monkeypatch.delenv("HELPDESK_TEST_DATABASES", raising=False)
    pytester.makepyfile(test_one='''
        def test_db(database, db_session, registry, clock, now):
            assert database.kind == "sqlite" and "printer" in registry.categories
            assert clock() == now
            clock.advance(minutes=5)
            assert (clock() - now).total_seconds() == 300
        ''')
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_db?sqlite? PASSED*"])


def test_a_project_database_fixture_of_its_own_is_left_alone(pytester):
    pytester.makeconftest('''
        import pytest

        @pytest.fixture
        def database():
            return "mine"
        ''')
    pytester.makepyfile(test_own='''
        def test_own(database):
            assert database == "mine"
        ''')
    result = pytester.runpytest_subprocess("--helpdesk-db=sqlite,postgresql")
    result.assert_outcomes(passed=1)
