"""Bulk import and export of wards, calendars, accounts, placements, devices and checks.

``reader`` reads XLSX and CSV files; one module per kind of data (``wards``,
``accounts``, ``devices``) says how its rows are found and saved through the services;
``importer`` runs a file (dry run or all-or-nothing import); ``exporter`` writes exports
and templates. The web page and the CLI are thin entry points over these.
"""

from . import reader
from .exporter import FORMATS, export, template
from .importer import CHANGED, CREATED, FAILED, UNCHANGED, Outcome, import_file
from .registry import BY_KEY, KINDS

__all__ = ["BY_KEY", "CHANGED", "CREATED", "FAILED", "FORMATS", "KINDS", "UNCHANGED",
           "Outcome", "export", "import_file", "template"]
