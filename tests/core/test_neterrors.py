"""describe_error: operating-system and library errors said in the user's language."""

from __future__ import annotations

import errno
import socket
import ssl

import pytest
import requests

from helpdesk_core import describe_error, i18n


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_through_requests_is_said_in_vietnamese(closed_port):
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get(f"http://127.0.0.1:{closed_port}/", timeout=2)
    assert "refused" in str(caught.value)  # what it used to show
    text = describe_error(caught.value)
    assert text == "kết nối bị từ chối: không có dịch vụ nào trả lời ở cổng đó"
    with i18n.use_locale("en"):
        assert describe_error(caught.value).startswith("the connection was refused")


def test_a_refused_socket(closed_port):
    with pytest.raises(OSError) as caught:
        socket.create_connection(("127.0.0.1", closed_port), timeout=2)
    assert describe_error(caught.value).startswith("kết nối bị từ chối")


def wrapped(inner: BaseException) -> BaseException:
    """An error of a library that keeps the real one as its cause."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise RuntimeError("library failure") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize("error, expected", [
    (TimeoutError("timed out"), "không trả lời kịp thời hạn"),
    (socket.timeout("timed out"), "không trả lời kịp thời hạn"),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "không tìm thấy tên miền (DNS)"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "không kết nối được tới thiết bị qua mạng"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "không kết nối được tới mạng"),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "kết nối bị ngắt giữa chừng"),
    (ssl.SSLCertVerificationError("certificate verify failed"), "chứng chỉ không hợp lệ hoặc không được tin cậy"),
    (ssl.SSLError("wrong version number"), "kết nối mã hóa (TLS/HTTPS) không thành công"),
    (PermissionError(errno.EACCES, "Permission denied"), "không có quyền truy cập"),
    (FileNotFoundError(errno.ENOENT, "No such file"), "không tìm thấy tệp"),
    (ValueError("bad"), "lỗi không mong đợi (ValueError)"),
])
def test_common_errors_direct_and_wrapped(error, expected):
    assert describe_error(error) == expected
    if not isinstance(error, ValueError):
        assert describe_error(wrapped(error)) == expected
