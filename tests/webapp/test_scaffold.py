"""``helpdesk plugin new``: the package it writes installs and passes its own tests."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import sysconfig

import pytest

from helpdesk_core.testing.web import app_config

PACKAGE_LINES_LIMIT = 80  # the generated plugin stays small enough to read in one go
BUILT_INS = sorted(["egov", "kiosk", "network", "notify", "other", "printer", "signing",
                    "vneid", "webpush", "zalo"])


@pytest.fixture
def cli(tmp_path):
    """Runs ``helpdesk`` commands against an app on a throwaway SQLite file."""
    from webapp import create_app
    app = create_app(app_config(f"sqlite:///{tmp_path / 'cli.db'}", str(tmp_path / "uploads")))
    return lambda *args: app.test_cli_runner().invoke(args=list(args))


def new_plugin(cli, parent: pathlib.Path, *args: str) -> pathlib.Path:
    result = cli("plugin", "new", "queue_screen", "--label", "Queue screen",
                 "--label-vi", "Màn hình gọi số", "--dir", str(parent), *args)
    assert result.exit_code == 0, result.output
    return parent / "ward-helpdesk-queue-screen"


def throwaway_venv(where: pathlib.Path) -> pathlib.Path:
    """A venv that also sees this one's packages (ward-helpdesk, pytest, pip), so the
    plugin installs offline without touching the environment running this test."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True,
                   timeout=120)
    python = where / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    outer = sysconfig.get_paths()["purelib"]
    # addsitedir, not a bare path: this venv's own .pth files (editable installs) count too.
    pathlib.Path(site, "outer-venv.pth").write_text(f"import site; site.addsitedir({outer!r})\n")
    return python


def run(python: pathlib.Path, *args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_the_new_plugin_installs_and_passes_its_own_tests(cli, tmp_path):
    root = new_plugin(cli, tmp_path)
    python = throwaway_venv(tmp_path / "venv")
    installed = run(python, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                    "--no-index", "--quiet", "--disable-pip-version-check", "-e", str(root),
                    cwd=root)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=root)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "9 passed" in tests.stdout, tests.stdout
    removed = run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "ward-helpdesk-queue-screen",
                  cwd=tmp_path)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    names = run(python, "-c", "import importlib.metadata as m; "
                "print(sorted(e.name for e in m.entry_points(group='ward_helpdesk')))", cwd=tmp_path)
    assert names.stdout.strip() == str(BUILT_INS)


def test_the_new_plugin_is_small_and_complete(cli, tmp_path):
    root = new_plugin(cli, tmp_path)
    package = root / "helpdesk_queue_screen"
    lines = sum(len(p.read_text().splitlines()) for p in package.glob("*.py"))
    assert lines <= PACKAGE_LINES_LIMIT
    assert {p.name for p in package.glob("*.py")} == {"__init__.py", "forms.py", "checks.py",
                                                     "resolutions.py"}
    assert (package / "translations/vi/LC_MESSAGES/messages.mo").is_file()  # usable at once
    assert "async def check_web" in (package / "checks.py").read_text()
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points.ward_helpdesk]\nqueue_screen = "helpdesk_queue_screen"' in pyproject
    assert "Màn hình gọi số" in (package / "translations/vi/LC_MESSAGES/messages.po").read_text()
    assert (root / "README.md").is_file() and (root / "tests/test_plugin.py").is_file()


@pytest.mark.parametrize(("name", "error"), [("Queue", "not a valid plugin name"),
                                             ("printer", "already installed")])
def test_a_bad_or_taken_name_is_refused(cli, tmp_path, name, error):
    result = cli("plugin", "new", name, "--dir", str(tmp_path))
    assert result.exit_code != 0 and error in result.output
    assert not list(tmp_path.glob("ward-helpdesk-*"))


def test_an_existing_folder_is_left_alone(cli, tmp_path):
    (tmp_path / "ward-helpdesk-queue-screen").mkdir()
    result = cli("plugin", "new", "queue_screen", "--dir", str(tmp_path))
    assert result.exit_code != 0 and "already exists" in result.output
    assert not any((tmp_path / "ward-helpdesk-queue-screen").iterdir())
