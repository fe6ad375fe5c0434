"""The network plugin: triage form, summary, priority, checklists and its health checks."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import pytest

from helpdesk_core import CheckStatus, CheckTarget, i18n
from helpdesk_core.errors import ValidationFailed
from helpdesk_core.services import tickets
from plugins.network import forms as network_forms
from tests.conftest import missing
from tests.factories import make_ward
from plugins.network import checks as network_checks
from tests.plugins.late_loop import TIMEOUT, LateLoop

ROOT = pathlib.Path(__file__).resolve().parents[3]
WHOLE_CENTRE_DOWN = {"scope": "whole_center", "connection": "wired", "what_fails": "internet",
                     "since": "8 giờ sáng", "pc_shows": "normal", "provider": "vnpt"}


# --- triage ---------------------------------------------------------------------------

def test_triage_answers_are_validated_and_stored(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(
        db_session, registry, ward=ward, category="network", title="Mất Wi-Fi phòng họp",
        now=now, triage={"scope": "one_room", "connection": "wifi", "ssid": "PVHCC-Staff",
                         "what_fails": "internet", "pc_shows": "apipa", "provider": "viettel"})
    db_session.commit()
    assert ticket.triage == {"scope": "one_room", "connection": "wifi", "ssid": "PVHCC-Staff",
                             "since": "", "what_fails": "internet", "site": "",
                             "pc_shows": "apipa", "provider": "viettel"}


def test_short_old_answers_still_validate_with_defaults(registry):
    data = tickets.validate_triage(registry, "network", {
        "scope": "one_room", "connection": "wired", "what_fails": "internet"})
    assert data["pc_shows"] == "not_checked" and data["provider"] == "unknown"


def test_triage_rejects_unknown_choices_and_overlong_text(registry):
    with pytest.raises(ValidationFailed) as error:
        tickets.validate_triage(registry, "network", {
            "scope": "the_moon", "connection": "wired", "what_fails": "internet",
            "provider": "mobifone", "ssid": "x" * 65})
    assert set(error.value.field_errors) == {"scope", "provider", "ssid"}


def test_triage_requires_scope_and_what_fails(registry):
    with pytest.raises(ValidationFailed) as error:
        tickets.validate_triage(registry, "network", {"connection": "wired"})
    assert {"scope", "what_fails"} <= set(error.value.field_errors)


def test_summary_shows_labels_not_codes(registry):
    with i18n.use_locale("en"):
        rows = registry.triage_summary("network", {
            **WHOLE_CENTRE_DOWN, "pc_shows": "apipa", "ssid": "", "site": ""})
    assert rows == [
        ("Who is affected?", "The whole centre"),
        ("Connection", "Cable (wired)"),
        ("Since when?", "8 giờ sáng"),
        ("What does not work?", "The internet"),
        ("What does the computer show?",
         "An address starting with 169.254 (no address from the network)"),
        ("Internet provider", "VNPT"),
    ]


def test_summary_is_in_vietnamese_by_default(registry):
    rows = dict(registry.triage_summary("network", WHOLE_CENTRE_DOWN))
    assert rows["Ai bị ảnh hưởng?"] == "Toàn bộ trung tâm"
    assert rows["Nhà mạng"] == "VNPT"


def test_summary_keeps_an_unknown_stored_value_readable(registry):
    rows = dict(registry.triage_summary("network", {"scope": "retired_choice"}))
    assert list(rows.values()) == ["retired_choice"]


@pytest.mark.parametrize(("answers", "priority"), [
    ({"scope": "whole_center", "what_fails": "internet"}, 1),
    ({"scope": "whole_center", "what_fails": "internal"}, 1),
    ({"scope": "whole_center", "what_fails": "one_site"}, 2),
    ({"scope": "one_room", "what_fails": "internet"}, 2),
    ({"scope": "one_room", "what_fails": "one_site"}, 3),
    ({"scope": "one_device", "what_fails": "internet"}, 3),
    ({"scope": "one_device", "what_fails": "one_site"}, None),
])
def test_priority_follows_how_much_of_the_centre_is_cut_off(registry, answers, priority):
    suggestion = registry.suggest_priority("network", {"connection": "wired", **answers})
    assert (suggestion.priority if suggestion else None) == priority
    if suggestion:
        assert str(suggestion.reason)


def test_whole_centre_down_is_filed_as_p1_with_the_reason(db_session, registry, now):
    ward = make_ward(db_session)
    ticket = tickets.file_ticket(db_session, registry, ward=ward, category="network",
                                 title="Mất mạng toàn trung tâm", now=now,
                                 triage=WHOLE_CENTRE_DOWN, impact="person", urgency="normal")
    db_session.commit()
    assert ticket.priority == 1
    assert "Toàn bộ trung tâm mất mạng" in ticket.priority_reason


def test_other_categories_are_not_answered(registry):
    assert network_forms.summarize({}) == []
    assert registry.suggest_priority("printer", WHOLE_CENTRE_DOWN) is None


# --- checklists -----------------------------------------------------------------------

def test_checklists_cover_the_usual_network_problems(registry):
    templates = {t.key: t for t in registry.templates_for("network")}
    assert {"no_internet", "one_pc_apipa", "cable_port", "dhcp_pool", "wifi",
            "internal_systems", "one_site"} <= set(templates)
    with i18n.use_locale("en"):
        steps = [str(s) for s in templates["no_internet"].steps]
    ping_gateway = next(i for i, s in enumerate(steps) if "gateway" in s)
    assert "8.8.8.8" in steps[ping_gateway]
    assert steps[ping_gateway].index("gateway") < steps[ping_gateway].index("8.8.8.8")
    assert any("nslookup" in s for s in steps)
    assert any("VNPT" in s for s in steps) and any("city IT" in s for s in steps)
    with i18n.use_locale("en"):
        apipa = " ".join(str(s) for s in templates["one_pc_apipa"].steps)
    assert "169.254" in apipa and "another switch port" in apipa


# --- tcp ------------------------------------------------------------------------------

def test_tcp_open_port(registry, silent_port):
    result, _ms = registry.run_check("tcp", CheckTarget("127.0.0.1", {"port": silent_port},
                                                        timeout=2))
    assert result.status is CheckStatus.OK
    assert result.values["latency_ms"] >= 0


def test_tcp_connected_while_the_loop_was_busy_is_open(registry, silent_port, monkeypatch):
    late = LateLoop(monkeypatch)

    class ConnectThenBusy(socket.socket):
        def connect(self, address):  # the loop's sock_connect starts the connect with it
            try:
                return super().connect(address)
            finally:
                late.hold()
    monkeypatch.setattr(network_checks.socket, "socket", ConnectThenBusy)
    result = late.run(registry, "tcp", CheckTarget("127.0.0.1", {"port": silent_port},
                                                   timeout=TIMEOUT))
    assert late.holds == 1
    assert result.status is CheckStatus.OK, result.message


def test_tcp_closed_port(registry, closed_port):
    result, _ms = registry.run_check("tcp", CheckTarget(f"127.0.0.1:{closed_port}", timeout=2))
    assert result.status is CheckStatus.FAILURE
    assert str(closed_port) in result.message


# --- http -----------------------------------------------------------------------------

def test_http_ok_with_keyword(registry, web):
    result, _ms = registry.run_check("http", CheckTarget(
        web + "/ok", {"expect_status": 200, "keyword": "Dịch vụ công"}, timeout=2))
    assert result.status is CheckStatus.OK
    assert result.values["status_code"] == 200 and result.values["redirects"] == 0
    assert result.values["latency_ms"] >= 0


def test_http_goes_through_the_proxy_of_the_environment(registry, web, monkeypatch,
                                                       http_environment):
    """A ward behind an HTTP proxy: HTTP_PROXY is honoured (the name only the proxy knows)."""
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", web)
    http_environment()  # read it afresh
    result, _ms = registry.run_check("http", CheckTarget(
        "http://only-the-proxy-knows.invalid/ok", {"keyword": "Dịch vụ công"}, timeout=2))
    assert result.status is CheckStatus.OK, result.message
    # Without a proxy the name cannot be resolved: the environment is not read per request.
    monkeypatch.delenv("HTTP_PROXY")
    http_environment()
    result, _ms = registry.run_check("http", CheckTarget(
        "http://only-the-proxy-knows.invalid/ok", {}, timeout=2))
    assert result.status is CheckStatus.FAILURE


def test_http_logs_in_with_the_netrc_of_the_environment(registry, web, tmp_path, monkeypatch,
                                                        http_environment):
    """A service behind a login: NETRC (or ~/.netrc) gives it, as curl and requests do."""
    logins = tmp_path / "netrc"
    logins.write_text("machine 127.0.0.1 login ward password secret\n")
    logins.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc of the machine's own
    monkeypatch.delenv("NETRC", raising=False)
    http_environment()
    result, _ms = registry.run_check("http", CheckTarget(web + "/private", {}, timeout=2))
    assert result.status is CheckStatus.FAILURE and result.values["status_code"] == 401
    monkeypatch.setenv("NETRC", str(logins))
    http_environment()
    result, _ms = registry.run_check("http", CheckTarget(web + "/private", {}, timeout=2))
    assert result.status is CheckStatus.OK, result.message


def test_http_answered_while_the_loop_was_busy_is_ok(registry, http_server, monkeypatch):
    late = LateLoop(monkeypatch)

    def page(_request):
        late.hold()  # the answer below waits unread until past the check's deadline
        return "Dịch vụ công trực tuyến"
    http_server.answer("/busy", 200, page)
    result = late.run(registry, "http", CheckTarget(
        http_server.url("/busy"), {"expect_status": 200, "keyword": "Dịch vụ công"},
        timeout=TIMEOUT))
    assert late.holds == 1
    assert result.status is CheckStatus.OK, result.message


def test_http_missing_keyword(registry, web):
    result, _ms = registry.run_check("http", CheckTarget(
        web + "/ok", {"keyword": "Bảo trì"}, timeout=2))
    assert result.status is CheckStatus.FAILURE and "Bảo trì" in result.message


def test_http_server_error(registry, web):
    result, _ms = registry.run_check("http", CheckTarget(web + "/error", {}, timeout=2))
    assert result.status is CheckStatus.FAILURE
    assert result.values["status_code"] == 500


def test_http_expected_status_other_than_200(registry, web):
    result, _ms = registry.run_check("http", CheckTarget(
        web + "/nothing", {"expect_status": 404}, timeout=2))
    assert result.status is CheckStatus.OK


def test_http_hang_fails_within_the_check_timeout(registry, web):
    result, _ms = registry.run_check("http", CheckTarget(web + "/hang", {}, timeout=1))
    # FAILURE comes from the check itself; the runner's hard timeout would give ERROR.
    assert result.status is CheckStatus.FAILURE
    assert result.message.endswith("trong 1 giây")  # checks report in the default locale


def test_http_follows_redirects_and_counts_them(registry, web):
    result, _ms = registry.run_check("http", CheckTarget(
        web + "/redirect", {"keyword": "Dịch vụ công"}, timeout=2))
    assert result.status is CheckStatus.OK
    assert result.values["redirects"] == 2 and result.values["final_url"] == web + "/ok"


def test_http_redirects_not_followed_when_switched_off(registry, web):
    target = CheckTarget(web + "/redirect", {"follow_redirects": False}, timeout=2)
    result, _ms = registry.run_check("http", target)
    assert result.status is CheckStatus.FAILURE and result.values["status_code"] == 302
    target = CheckTarget(web + "/redirect", {"follow_redirects": False, "expect_status": 302},
                         timeout=2)
    assert registry.run_check("http", target)[0].status is CheckStatus.OK


def test_http_redirect_loop_stops(registry, web):
    result, _ms = registry.run_check("http", CheckTarget(web + "/loop", {}, timeout=2))
    assert result.status is CheckStatus.FAILURE
    assert result.values["status_code"] == 302 and result.values["redirects"] == 10


def test_https_self_signed_fails_when_verified(registry, secure_web):
    result, _ms = registry.run_check("http", CheckTarget(secure_web.url("/ok"), {}, timeout=2))
    assert result.status is CheckStatus.FAILURE
    assert "certificate" in result.message or "chứng chỉ" in result.message


def test_https_trusts_the_ca_bundle_of_the_environment(registry, secure_web, monkeypatch,
                                                       http_environment):
    """REQUESTS_CA_BUNDLE (a city CA, say) is honoured, read once, not per request."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(secure_web.cert_file))
    http_environment()
    result, _ms = registry.run_check("http", CheckTarget(secure_web.url("/ok"), {}, timeout=2))
    assert result.status is CheckStatus.OK, result.message


def test_https_without_verification_answers(registry, secure_web):
    result, _ms = registry.run_check("http", CheckTarget(
        secure_web.url("/ok"), {"verify_tls": False, "keyword": "Quốc gia"}, timeout=2))
    assert result.status is CheckStatus.OK and result.values["status_code"] == 200


def test_http_closed_port(registry, closed_port):
    result, _ms = registry.run_check("http", CheckTarget(f"http://127.0.0.1:{closed_port}/",
                                                         {}, timeout=2))
    assert result.status is CheckStatus.FAILURE and "kết nối bị từ chối" in result.message


def test_http_warns_when_slower_than_the_limit(registry, web):
    # /slow waits 50 ms before it answers, so a 10 ms limit must warn.
    result, _ms = registry.run_check("http", CheckTarget(web + "/slow", {"slow_ms": 10},
                                                         timeout=2))
    assert result.status is CheckStatus.WARNING and result.values["latency_ms"] >= 50


# --- dns ------------------------------------------------------------------------------

def test_dns_resolves_through_the_configured_server(registry, dns_server):
    target = CheckTarget("192.168.1.1", {"name": "dichvucong.gov.vn",
                                         "server": f"127.0.0.1:{dns_server.port}"}, timeout=2)
    result, _ms = registry.run_check("dns", target)
    assert result.status is CheckStatus.OK
    assert result.values["addresses"] == ["192.0.2.10", "192.0.2.11"]
    assert result.values["rcode"] == "NOERROR"
    assert dns_server.queries == ["dichvucong.gov.vn A"]


def test_dns_uses_the_asset_address_when_no_server_is_configured(registry, dns_server):
    target = CheckTarget(f"127.0.0.1:{dns_server.port}",
                         {"name": "dichvucong.gov.vn", "expect_address": "192.0.2.11"}, timeout=2)
    result, _ms = registry.run_check("dns", target)
    assert result.status is CheckStatus.OK


def test_dns_unexpected_address_fails(registry, dns_server):
    target = CheckTarget(f"127.0.0.1:{dns_server.port}",
                         {"name": "dichvucong.gov.vn", "expect_address": "192.0.2.99"}, timeout=2)
    result, _ms = registry.run_check("dns", target)
    assert result.status is CheckStatus.FAILURE and "192.0.2.99" in result.message


def test_dns_aaaa_records(registry, dns_server):
    target = CheckTarget(f"127.0.0.1:{dns_server.port}",
                         {"name": "motcua.danang.gov.vn", "record_type": "AAAA",
                          "expect_address": "2001:db8:0::5"}, timeout=2)
    result, _ms = registry.run_check("dns", target)
    assert result.status is CheckStatus.OK and result.values["addresses"] == ["2001:db8::5"]


def test_dns_unknown_name_and_no_address_fail(registry, dns_server):
    unknown = CheckTarget(f"127.0.0.1:{dns_server.port}", {"name": "khongco.gov.vn"}, timeout=2)
    result, _ms = registry.run_check("dns", unknown)
    assert result.status is CheckStatus.FAILURE and result.values["rcode"] == "NXDOMAIN"
    no_v6 = CheckTarget(f"127.0.0.1:{dns_server.port}",
                        {"name": "dichvucong.gov.vn", "record_type": "AAAA"}, timeout=2)
    result, _ms = registry.run_check("dns", no_v6)
    assert result.status is CheckStatus.FAILURE and result.values["addresses"] == []


def test_dns_silent_server_fails_within_the_timeout(registry, silent_dns_server):
    target = CheckTarget(f"127.0.0.1:{silent_dns_server.port}", {"name": "dichvucong.gov.vn"},
                         timeout=1)
    result, _ms = registry.run_check("dns", target)
    assert result.status is CheckStatus.FAILURE
    deadline = time.monotonic() + 5  # the server thread records the query it ignored
    while not silent_dns_server.queries and time.monotonic() < deadline:
        time.sleep(0.01)
    assert silent_dns_server.queries == ["dichvucong.gov.vn A"]


def test_dns_closed_port_fails(registry, closed_port):
    target = CheckTarget(f"127.0.0.1:{closed_port}", {"name": "dichvucong.gov.vn"}, timeout=1)
    result, _ms = registry.run_check("dns", target)
    assert result.status is CheckStatus.FAILURE and "kết nối bị từ chối" in result.message


def test_dns_without_name_is_a_configuration_error(registry):
    result, _ms = registry.run_check("dns", CheckTarget("127.0.0.1", {}, timeout=1))
    assert result.status is CheckStatus.ERROR


def test_dns_config_form_checks_the_expected_address():
    from werkzeug.datastructures import MultiDict
    form = network_forms.DnsCheckForm(MultiDict({"name": "dichvucong.gov.vn",
                                                 "expect_address": "not-an-ip"}))
    assert not form.validate() and "expect_address" in form.errors
    form = network_forms.DnsCheckForm(MultiDict({"name": "dichvucong.gov.vn",
                                                 "expect_address": "192.0.2.10"}))
    assert form.validate(), form.errors


# --- ping -----------------------------------------------------------------------------

def _unprivileged_icmp_allowed() -> bool:
    low, high = (int(v) for v in pathlib.Path(
        "/proc/sys/net/ipv4/ping_group_range").read_text().split())
    return low <= os.getegid() <= high


def test_ping_loopback(registry):
    result, _ms = registry.run_check("ping", CheckTarget("127.0.0.1", {"count": 3}, timeout=3))
    assert result.status is CheckStatus.OK, result.message
    assert result.values["packets_sent"] == 3 and result.values["packets_received"] == 3
    assert result.values["loss_percent"] == 0.0
    assert 0 <= result.values["rtt_min_ms"] <= result.values["rtt_avg_ms"] \
        <= result.values["rtt_max_ms"]


def test_ping_falls_back_to_the_ping_binary_without_icmp_sockets(registry, monkeypatch):
    if shutil.which("ping") is None:
        missing("the ping binary (iputils-ping) is not installed")
    monkeypatch.setattr(os, "geteuid", lambda: 65534)  # as a user without raw sockets
    result, _ms = registry.run_check("ping", CheckTarget("127.0.0.1", {"count": 2}, timeout=3))
    assert result.status is CheckStatus.OK, result.message
    assert result.values["method"] == ("icmp" if _unprivileged_icmp_allowed() else "ping")
    assert result.values["packets_received"] == 2


def test_ping_without_a_host_is_a_configuration_error(registry):
    result, _ms = registry.run_check("ping", CheckTarget("", {}, timeout=1))
    assert result.status is CheckStatus.ERROR


# A private network namespace (root only): 127.0.0.99 is routed into a blackhole (a host
# with no route) and the namespace's loopback ignores echo requests (a silent host).
NETNS_SETUP = ("ip link set lo up && ip route add blackhole 127.0.0.99 && "
               "echo 1 > /proc/sys/net/ipv4/icmp_echo_ignore_all && exec \"$0\" -c \"$1\"")
NETNS_SCRIPT = """
import json, os
from helpdesk_core import CheckTarget
from helpdesk_core.plugins import load_registry
registry = load_registry()
out = {}
def run(label):
    for name, address in (("no_route", "127.0.0.99"), ("silent", "127.0.0.1")):
        result, _ = registry.run_check("ping", CheckTarget(address, {"count": 2}, timeout=2))
        out[label + ":" + name] = {"status": result.status.value, "message": result.message,
                                   "values": dict(result.values)}
run("raw")
os.geteuid = lambda: 65534  # the ping binary, as without raw sockets
run("binary")
print(json.dumps(out))
"""


def test_ping_down_hosts_in_a_private_network_namespace():
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        missing("a private network namespace needs root, unshare and ip")
    completed = subprocess.run(["unshare", "-n", "sh", "-c", NETNS_SETUP, sys.executable,
                                NETNS_SCRIPT], capture_output=True, text=True, timeout=60,
                               cwd=ROOT)
    if completed.returncode != 0 and "unshare" in completed.stderr:
        missing(f"cannot create a network namespace: {completed.stderr.strip()}")
    assert completed.returncode == 0, completed.stderr
    out = json.loads(completed.stdout.strip().splitlines()[-1])
    assert out["raw:no_route"]["status"] == "failure"
    assert out["raw:no_route"]["values"]["packets_sent"] == 0
    assert out["raw:no_route"]["values"]["packets_received"] == 0
    assert "không có đường đi" in out["raw:no_route"]["message"]
    assert out["raw:silent"]["status"] == "failure"
    assert out["raw:silent"]["values"]["packets_sent"] == 2
    assert out["raw:silent"]["values"]["packets_received"] == 0
    assert out["raw:silent"]["values"]["loss_percent"] == 100.0
    # The ping binary: no route is an error from ping itself; silence is counted.
    assert out["binary:no_route"]["status"] == "failure"
    assert out["binary:silent"]["status"] == "failure"
    assert out["binary:silent"]["values"]["method"] == "ping"
    assert out["binary:silent"]["values"]["packets_received"] == 0
