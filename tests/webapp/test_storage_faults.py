"""A photo that cannot be written (a read-only folder, a full disk) loses nothing typed.

Filing and attaching come back with the text and a message on the file; nothing is
filed or attached, and no empty or half-written file is left in the upload folder.
"""

from __future__ import annotations

import builtins
import errno
import io
import os

import pytest
from sqlalchemy import func, select

from helpdesk_core.models import Attachment, Ticket
from tests.webapp.test_tickets_web import PNG, PRINTER_FORM
from webapp.extensions import db

MESSAGE = "Không lưu được tệp"


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _files(folder: str) -> list[str]:
    found = []
    for root, _dirs, names in os.walk(folder):
        found += [os.path.join(root, n) for n in names]
    return found


@pytest.fixture
def unwritable_folder(app, tmp_path):
    """The upload folder sits under a plain file: nothing can be created in it (as root
    too, where permission bits would not stop a write)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app.config["UPLOAD_FOLDER"] = str(blocker / "uploads")
    return str(tmp_path)


@pytest.fixture
def full_disk(app, monkeypatch):
    """Writes into the upload folder get half-way, then the disk is full (ENOSPC)."""
    folder = app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    real_open = builtins.open

    class FullFile(io.FileIO):
        def write(self, data):
            super().write(bytes(data)[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def open_(file, mode="r", *args, **kwargs):
        if str(file).startswith(folder) and "b" in mode and ("w" in mode or "x" in mode):
            return FullFile(file, mode.replace("b", ""))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_)
    return folder


@pytest.mark.parametrize("fault", ["unwritable_folder", "full_disk"])
def test_filing_with_a_photo_that_cannot_be_written_keeps_the_form(app, client, world, login,
                                                                   request, fault):
    where = request.getfixturevalue(fault)
    login("staff_a")
    data = dict(PRINTER_FORM, description="Khách đang chờ ở quầy 3",
                photo=(io.BytesIO(PNG), "lỗi.png"))
    response = client.post("/tickets/new/printer", data=data,
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert MESSAGE in page
    assert "Khách đang chờ ở quầy 3" in page and PRINTER_FORM["title"] in page
    assert _count(app, Ticket) == 2  # the world's two: nothing filed
    assert _files(where) == [] or all(f.endswith("not-a-folder") for f in _files(where))


@pytest.mark.parametrize("fault", ["unwritable_folder", "full_disk"])
def test_attaching_a_file_that_cannot_be_written_leaves_nothing(app, client, world, login,
                                                                request, fault):
    where = request.getfixturevalue(fault)
    login("staff_a")
    response = client.post(f"/tickets/{world.ticket_a}/attachments",
                           data={"photo": (io.BytesIO(PNG), "lỗi.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)
    assert _count(app, Attachment) == 0
    assert _files(where) == [] or all(f.endswith("not-a-folder") for f in _files(where))
