"""The CSV reader both imports share: bounds, line ends, header checks and row numbering."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from core.csv_import import (
    MAX_CELL_CHARS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ProblemLog,
    RowProblem,
    read_csv,
)
from core.errors import InvalidInput


class Row(BaseModel):
    name: str
    count: int = 0


def read(data: bytes | str) -> list[tuple[int, Row] | RowProblem]:
    """Every valid row and every problem, in file order."""
    table = read_csv(
        data.encode() if isinstance(data, str) else data,
        columns=("name", "count"),
        required=("name",),
    )
    found: list[tuple[int, Row] | RowProblem] = []
    for batch in table.batches(Row, size=2):
        found.extend(batch.rows)
        found.extend(batch.problems)
    return sorted(found, key=lambda item: item.row if isinstance(item, RowProblem) else item[0])


def refused(data: bytes | str) -> str:
    with pytest.raises(InvalidInput) as caught:
        read(data)
    assert [problem.field for problem in caught.value.problems] == ["file"]
    return caught.value.detail


class TestBounds:
    def test_a_file_over_the_byte_limit_is_refused_naming_the_limit(self) -> None:
        data = b"name\n" + b"x" * MAX_IMPORT_BYTES
        assert f"{MAX_IMPORT_BYTES // (1024 * 1024)} MiB" in refused(data)

    def test_a_file_over_the_row_limit_is_refused_naming_the_limit(self) -> None:
        assert f"{MAX_IMPORT_ROWS:,} rows" in refused("name\n" + "a\n" * (MAX_IMPORT_ROWS + 1))

    def test_a_file_at_the_row_limit_is_read(self) -> None:
        table = read_csv(
            ("name\n" + "a\n" * MAX_IMPORT_ROWS).encode(), columns=("name",), required=()
        )
        assert table.rows == MAX_IMPORT_ROWS

    def test_a_cell_over_the_limit_is_its_rows_problem_and_one_at_it_is_read(self) -> None:
        data = f"name\n{'x' * (MAX_CELL_CHARS + 1)}\n{'y' * MAX_CELL_CHARS}\n"
        assert read(data) == [
            RowProblem(2, "name", f"is longer than {MAX_CELL_CHARS:,} characters"),
            (3, Row(name="y" * MAX_CELL_CHARS)),
        ]

    def test_the_answer_keeps_the_first_problems_and_counts_every_skipped_row(self) -> None:
        log = ProblemLog(limit=3)
        log.add([RowProblem(3, "a", "m"), RowProblem(2, "a", "m"), RowProblem(2, "b", "m")])
        log.add([RowProblem(4, "a", "m"), RowProblem(5, "a", "m")])
        assert log.skipped_rows == 4
        assert [(p.row, p.field) for p in log.reported] == [(2, "a"), (2, "b"), (3, "a")]


class TestText:
    @pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
    def test_every_line_end_reads_the_same_rows(self, end: str) -> None:
        assert read(end.join(["name,count", "a,1", '"b', 'c",2', ""])) == [
            (2, Row(name="a", count=1)),
            (3, Row(name=f"b{end}c", count=2)),
        ]

    def test_a_byte_order_mark_is_not_part_of_the_first_column(self) -> None:
        assert read("\ufeffname\na\n".encode()) == [(2, Row(name="a"))]

    def test_a_file_that_is_not_utf8_is_refused(self) -> None:
        assert "UTF-8" in refused(b"name\n\xe9t\xe9\n")

    def test_a_nul_is_its_rows_problem(self) -> None:
        assert read("name\na\x00b\nc\n") == [
            RowProblem(2, "name", "contains a NUL character, which cannot be stored"),
            (3, Row(name="c")),
        ]

    def test_rows_are_numbered_as_a_spreadsheet_shows_them(self) -> None:
        # A blank line is a row of its own; empty cells are no value.
        rows = read('name,count\n\n"multi\nline",\nlast,x\n')
        assert [item.row if isinstance(item, RowProblem) else item[0] for item in rows] == [3, 4]
        assert rows[0] == (3, Row(name="multi\nline"))
        assert isinstance(rows[1], RowProblem) and rows[1].field == "count"

    def test_an_unclosed_quote_runs_to_the_end_of_the_file(self) -> None:
        assert read('name\n"open\nx\n') == [(2, Row(name="open\nx"))]

    def test_a_formula_quote_put_on_by_an_export_comes_off(self) -> None:
        assert read("name\n'=SUM(A1)\n'plain\n") == [
            (2, Row(name="=SUM(A1)")),
            (3, Row(name="'plain")),
        ]


class TestHeader:
    def test_unknown_repeated_unnamed_and_missing_columns_are_each_named(self) -> None:
        detail = refused("count,count,colour,\n1,2,3,4\n")
        assert "unknown column(s): colour" in detail
        assert "repeated column(s): count" in detail
        assert "without a name: 4" in detail
        assert "missing column(s): name" in detail

    def test_a_header_of_many_long_names_makes_a_short_answer(self) -> None:
        header = ",".join(f"{'c' * 100_000}{i}" for i in range(500))
        detail = refused(f"name,{header}\n")
        assert len(detail) < 1000
        assert "and 490 more" in detail

    def test_an_empty_file_has_no_header(self) -> None:
        assert "header" in refused(b"")
        assert "header" in refused("\n\n")

    def test_a_row_longer_than_the_header_is_its_rows_problem(self) -> None:
        problem, row = read("name\na,b\nc\n")
        assert problem == RowProblem(2, "row", "has 2 cells; the header names 1")
        assert row == (3, Row(name="c"))
