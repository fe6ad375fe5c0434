"""Import one module of a library without running its packages' ``__init__``.

The ``holidays`` library's packages import everything they hold when imported: the
top package all ~250 countries' loaders and every calendar (Hebrew, Islamic, Hindu...
with their date tables), ``holidays.groups`` every group. The SLA clock needs Vietnam
alone: its module and the few it imports take about 1 MB in each web worker, the whole
package more than 4 MB.

:func:`import_alone` makes each of the module's packages not imported yet a *lazy*
package: its submodules import as usual, and its ``__init__`` only runs when someone asks
the package itself for a name. A name the ``__init__`` imports from one of its own
submodules (``from holidays.groups.chinese import ChineseCalendarHolidays``) loads that
submodule alone; any other name runs the whole ``__init__``, so the package then behaves
exactly as if imported the usual way. Only for packages whose ``__init__`` does nothing but
import and name things: one that also changes something elsewhere (registers, sets an
attribute of a submodule) would miss that change.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_LOCK = threading.RLock()
# How long a thread waits for another thread's run of a package's __init__ (a deadlock
# guard: an __init__ takes well under a second).
INIT_WAIT_SECONDS = 60.0


class LazyPackage(types.ModuleType):
    """A package whose ``__init__`` runs on the first name asked of it that it lacks."""

    def __getattr__(self, name: str) -> Any:
        # What the import system asks (__spec__, __path__...) is set: never seen here.
        namespace = vars(self)
        if not namespace.get("_lazy_ran_init"):
            self._load(name)
        if name not in namespace:
            self._wait_for_init()
        try:
            return namespace[name]
        except KeyError:
            raise AttributeError(
                f"module {self.__name__!r} has no attribute {name!r}") from None

    def _wait_for_init(self) -> None:
        """If another thread is running the ``__init__``, wait until it has run, as a
        thread importing a module another thread imports waits: it would otherwise see the
        package half-run (a name not bound yet). The running thread itself sees it
        half-run, like any module importing itself."""
        namespace = vars(self)
        running: threading.Event | None = namespace.get("_lazy_init_done")
        if running is not None and namespace.get("_lazy_init_thread") != threading.get_ident():
            running.wait(INIT_WAIT_SECONDS)

    def _load(self, name: str) -> None:
        """Bind *name*: from the submodule that defines it, or by running ``__init__``."""
        source = _names_from_submodules(self).get(name)
        if source is not None:
            module, attribute = source
            loaded = importlib.import_module(module)
            vars(self)[name] = loaded if attribute is None else getattr(loaded, attribute)
        elif importlib.util.find_spec(f"{self.__name__}.{name}") is not None:
            # One of its submodules (``from package import submodule``): that one alone.
            vars(self)[name] = importlib.import_module(f"{self.__name__}.{name}")
        else:
            self._run_init()

    def _run_init(self) -> None:
        # Like any module being imported, the package is seen half-run meanwhile: by this
        # thread; the others wait (_wait_for_init).
        namespace = vars(self)
        with _LOCK:
            if namespace.get("_lazy_ran_init"):
                return
            namespace["_lazy_ran_init"] = True
            namespace["_lazy_init_thread"] = threading.get_ident()
            namespace["_lazy_init_done"] = done = threading.Event()
        try:
            self.__spec__.loader.exec_module(self)
        finally:
            done.set()


def _names_from_submodules(package: LazyPackage) -> dict[str, tuple[str, str | None]]:
    """``{name: (module, attribute)}`` for the ``from <own submodule> import`` lines at
    the top level of *package*'s ``__init__`` (read once, not run); the attribute is None
    for a submodule itself (``from . import submodule as name``)."""
    namespace = vars(package)
    names = namespace.get("_lazy_names")
    if names is None:
        names = {}
        source = package.__spec__.loader.get_source(package.__name__) or ""
        for node in ast.parse(source).body:
            if not isinstance(node, ast.ImportFrom):
                continue
            module = node.module or ""
            if node.level:
                module = importlib.util.resolve_name("." * node.level + module,
                                                     package.__name__)
            if module == package.__name__:  # from . import submodule [as name]
                for alias in node.names:
                    names[alias.asname or alias.name] = (f"{module}.{alias.name}", None)
                continue
            if not module.startswith(package.__name__ + "."):
                continue
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name] = (module, alias.name)
        namespace["_lazy_names"] = names
    return names


def _make_lazy(name: str) -> None:
    """Put package *name* in ``sys.modules`` as a :class:`LazyPackage` (its parent is
    imported, or lazy, already)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not a package", name=name)
    package = importlib.util.module_from_spec(spec)
    package.__class__ = LazyPackage
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, package)


def make_lazy(*packages: str) -> None:
    """Make each of *packages* not imported yet a :class:`LazyPackage` (parents first)."""
    with _LOCK:
        for package in sorted(packages, key=lambda dotted: dotted.count(".")):
            if package not in sys.modules:
                _make_lazy(package)


def import_alone(name: str, *, lazy: tuple[str, ...]) -> types.ModuleType:
    """Module *name*, imported without running the ``__init__`` of the packages in *lazy*
    (its own packages or those of modules it imports) that are not imported yet.

    ``import_alone("holidays.countries.vietnam", lazy=("holidays", "holidays.groups"))``
    """
    make_lazy(*lazy)
    return importlib.import_module(name)
