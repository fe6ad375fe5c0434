"""import_alone: a module of a library without its packages' __init__ (lazy_packages.py)."""

from __future__ import annotations

import sys

import pytest

from helpdesk_core.lazy_packages import LazyPackage, import_alone


@pytest.fixture
def library(tmp_path, monkeypatch):
    """A package ``lazylib`` whose __init__ imports all it holds and notes that it ran."""
    root = tmp_path / "lazylib"
    (root / "parts").mkdir(parents=True)
    (root / "__init__.py").write_text(
        "import sys\nsys.lazylib_init_runs = getattr(sys, 'lazylib_init_runs', 0) + 1\n"
        "from lazylib.parts import *\nWHOLE = True\n__version__ = '1.0'\n")
    (root / "parts" / "__init__.py").write_text(
        "from lazylib.parts.small import Small\nfrom .big import Big as Large\n"
        "from . import small as tiny\n")
    (root / "parts" / "small.py").write_text("class Small:\n    pass\n")
    (root / "parts" / "big.py").write_text("class Big:\n    pass\n")
    (root / "country.py").write_text("from lazylib.parts import Small\n\nclass Country(Small):\n"
                                     "    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delattr(sys, "lazylib_init_runs", raising=False)
    yield
    for name in [name for name in sys.modules if name.split(".")[0] == "lazylib"]:
        del sys.modules[name]


def test_a_module_imports_without_its_packages_init_and_unused_submodules(library):
    country = import_alone("lazylib.country", lazy=("lazylib", "lazylib.parts"))
    assert country.Country.__mro__[1].__name__ == "Small"
    assert "lazylib.parts.small" in sys.modules
    assert "lazylib.parts.big" not in sys.modules
    assert not hasattr(sys, "lazylib_init_runs")
    assert isinstance(sys.modules["lazylib"], LazyPackage)


def test_a_renamed_name_loads_its_submodule_and_any_other_runs_the_init_once(library):
    import_alone("lazylib.country", lazy=("lazylib", "lazylib.parts"))
    import lazylib
    import lazylib.parts
    assert lazylib.parts.Large.__name__ == "Big"
    assert not hasattr(sys, "lazylib_init_runs")
    assert lazylib.__version__ == "1.0"  # not one of its submodules' names: the whole __init__
    assert lazylib.WHOLE is True
    assert lazylib.Small is lazylib.parts.Small
    assert sys.lazylib_init_runs == 1
    with pytest.raises(AttributeError):
        lazylib.missing


def test_a_submodule_asked_of_its_package_loads_alone(library):
    import_alone("lazylib.country", lazy=("lazylib", "lazylib.parts"))
    from lazylib.parts import big, tiny
    assert big.Big.__name__ == "Big" and tiny is sys.modules["lazylib.parts.small"]
    assert not hasattr(sys, "lazylib_init_runs")


def test_a_package_already_imported_stays_as_it_is(library):
    import lazylib
    assert sys.lazylib_init_runs == 1
    import_alone("lazylib.country", lazy=("lazylib", "lazylib.parts"))
    assert sys.modules["lazylib"] is lazylib and not isinstance(lazylib, LazyPackage)
    assert sys.lazylib_init_runs == 1


def test_a_thread_asking_while_another_runs_the_init_waits_for_it(library, tmp_path):
    """Two threads: one runs the package's __init__ (held at a gate halfway), the other
    asks for a name the __init__ binds after the gate: it gets it once the __init__ has
    run, instead of an AttributeError from the half-run package."""
    import threading

    gate = tmp_path / "lazygate.py"
    gate.write_text("import threading\nreached = threading.Event()\nopen = threading.Event()\n")
    init = tmp_path / "lazylib" / "__init__.py"
    init.write_text("import lazygate\nlazygate.reached.set()\nlazygate.open.wait(30)\n"
                    + init.read_text())
    import lazygate
    import_alone("lazylib.country", lazy=("lazylib", "lazylib.parts"))
    import lazylib

    first = threading.Thread(target=lambda: lazylib.WHOLE)
    first.start()
    assert lazygate.reached.wait(30)
    seen = []

    def ask() -> None:
        try:
            seen.append(lazylib.__version__)
        except AttributeError as exc:
            seen.append(exc)

    second = threading.Thread(target=ask)
    second.start()
    second.join(0.5)  # it waits (or has not asked yet); a half-run package answered at once
    lazygate.open.set()
    first.join(30)
    second.join(30)
    assert seen == ["1.0"]
    assert sys.lazylib_init_runs == 1
    del sys.modules["lazygate"]
