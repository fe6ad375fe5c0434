"""The shared export writer: cells a spreadsheet would run are made inert."""

from __future__ import annotations

import csv
import io

import pytest

from helpdesk_core import exports


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-1+2",
                                  "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_cells_get_a_leading_quote(cell):
    assert exports.inert_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Máy in", "P2", "10/03/2026 09:00", "", 3, -4, 1.5, None])
def test_other_cells_are_left_alone(cell):
    assert exports.inert_cell(cell) == cell


def test_csv_chunks_write_a_bom_and_inert_cells_in_header_and_rows():
    text = "".join(exports.csv_chunks(["=Số"], [["=1+1", 2]] * 3, chunk_rows=2))
    assert text.startswith(exports.BOM)
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["'=Số"]] + [["'=1+1", "2"]] * 3


def test_started_fetches_the_first_row_now_and_keeps_every_row():
    fetched = []

    def rows():
        for i in range(3):
            fetched.append(i)
            yield i

    it = exports.started(rows())
    assert fetched == [0]
    assert list(it) == [0, 1, 2]
    assert list(exports.started(iter(()))) == []
