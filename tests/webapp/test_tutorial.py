"""docs/plugins.md's tutorial, walked: every command it shows, run in a throwaway venv,
then staff file a ticket with the new plugin's triage form.

The commands are taken from the tutorial itself (the ```sh blocks of its steps), so the
tutorial cannot drift from what works. ``pip install`` gets the offline flags of
tests/webapp/test_scaffold.py; ``helpdesk run`` is replaced by the app factory and its
test client, which is what the browser would talk to.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import subprocess

import pytest

from tests.webapp.test_scaffold import throwaway_venv

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"
OFFLINE = ["--no-deps", "--no-build-isolation", "--no-index", "--quiet",
           "--disable-pip-version-check"]

# Runs in the throwaway venv once the plugin is installed: the app as `helpdesk run`
# builds it (DATABASE_URL from the environment), a staff member of the demo logs in,
# presses the new button and sends the form. Prints what the database then holds.
FILE_A_TICKET = """
import json, os
from sqlalchemy import select
from helpdesk_core import demo
from helpdesk_core.models import Ticket
from helpdesk_core.testing.web import app_config
from webapp import create_app
from webapp.extensions import db

app = create_app(app_config(os.environ["DATABASE_URL"], os.environ["UPLOADS"]))
staff = app.test_client()
assert staff.post("/login", data={"login": "canbo.haichau",
                                  "password": demo.PASSWORD}).status_code == 302
front_desk = staff.get("/tickets/new").get_data(as_text=True)
form = staff.get("/tickets/new/queue_screen").get_data(as_text=True)
sent = staff.post("/tickets/new/queue_screen", data={
    "title": "Màn hình gọi số tắt", "triage-scope": "all",
    "triage-details": "Màn hình đen, đèn nguồn nhấp nháy"})
with app.app_context():
    ticket = db.session.scalar(select(Ticket).where(Ticket.category == "queue_screen"))
    print(json.dumps({
        "button": 'href="/tickets/new/queue_screen"' in front_desk and "Màn hình gọi số" in front_desk,
        "question": "Ai bị ảnh hưởng?" in form, "sent": sent.status_code,
        "ticket": ticket and {"title": ticket.title, "triage": ticket.triage,
                              "reporter": ticket.reporter.login, "ward": ticket.ward.code,
                              "events": len(ticket.events)}}))
"""


def tutorial_commands() -> list[str]:
    """The shell commands of the tutorial's steps, in order (comments and output dropped)."""
    text = DOC.read_text(encoding="utf-8")
    tutorial = text[:text.index("\n## A plugin in one page")]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", tutorial, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("$ "):
                commands.append(line[2:])
    return commands


def helpdesk_script(python: pathlib.Path) -> None:
    """The ``helpdesk`` command in the throwaway venv, as pip would write it."""
    script = python.parent / "helpdesk"
    script.write_text(f"#!{python}\nimport sys\nfrom webapp.cli import main\nsys.exit(main())\n")
    script.chmod(0o755)


def test_the_tutorial_shows_the_whole_way():
    assert tutorial_commands() == [
        'helpdesk plugin new queue_screen --label "Queue screen" --label-vi "Màn hình gọi số"',
        "cd ward-helpdesk-queue-screen", "pip install -e .", "python -m pytest",
        "helpdesk plugins", "helpdesk db upgrade", "helpdesk demo", "helpdesk run"]


@pytest.mark.slow
def test_the_tutorial_ends_with_a_ticket_filed_with_the_new_form(tmp_path):
    python = throwaway_venv(tmp_path / "venv")
    helpdesk_script(python)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
               DATABASE_URL=f"sqlite:///{tmp_path / 'tutorial.db'}",
               HELPDESK_SECRET_KEY="tutorial", UPLOADS=str(tmp_path / "uploads"))
    cwd, outputs = home, {}
    for command in tutorial_commands():
        args = shlex.split(command)
        if args[0] == "cd":
            cwd = cwd / args[1]
            continue
        if args[:2] == ["helpdesk", "run"]:
            break  # serving: the test client below stands in for the browser
        if args[0] in ("pip", "python"):
            args = [str(python)] + (["-m", "pip"] + args[1:] + OFFLINE if args[0] == "pip"
                                    else args[1:])
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        outputs[command] = done.stdout
    assert "9 passed" in outputs["python -m pytest"]
    assert re.search(r"^queue_screen: .*helpdesk_triage_form", outputs["helpdesk plugins"], re.M)
    assert "canbo.haichau" in outputs["helpdesk demo"]

    done = subprocess.run([str(python), "-c", FILE_A_TICKET], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["button"] and seen["question"] and seen["sent"] == 302
    assert seen["ticket"] == {"title": "Màn hình gọi số tắt", "reporter": "canbo.haichau",
                              "ward": "HCH", "events": 1,
                              "triage": {"scope": "all",
                                         "details": "Màn hình đen, đèn nguồn nhấp nháy"}}
