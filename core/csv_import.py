"""Reading an uploaded CSV file for an import: its bounds, its header, and its rows as cells.

Both imports (artists, transactions) read files through here, so a file that one of them
accepts the other reads the same way: UTF-8 (a byte-order mark is fine), any of ``\\n``,
``\\r\\n`` or a lone ``\\r`` between rows, a header row naming the columns. Whole-file problems
(too large, not UTF-8, unknown or missing columns) are ``InvalidInput`` naming ``file``; a bad
cell only makes its row a :class:`RowProblem`, and the other rows are imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import FieldProblem, InvalidInput

MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000
# The csv module's own default field limit: files that open in spreadsheets stay under it.
MAX_CELL_CHARS = 131_072
# An answer lists at most this many problems (and counts them all): a file of nothing but bad
# rows must not make an answer as large as itself.
MAX_REPORTED_PROBLEMS = 1000
# What an upload's description tells its callers.
IMPORT_FILE_RULES = (
    f"UTF-8, at most {MAX_IMPORT_BYTES // (1024 * 1024)} MiB and {MAX_IMPORT_ROWS:,} rows, "
    f"a cell at most {MAX_CELL_CHARS:,} characters"
)
# Rows validated and written together: bounds what an import holds in memory at once.
BATCH_ROWS = 2000

# Cells starting with these run as formulas in spreadsheet apps (CSV injection): exports quote
# them with a leading "'", and imports take that quote off again, so files round-trip.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class RowProblem:
    """Why one row of a file was skipped. ``row`` is the row as a spreadsheet shows it (the
    header is row 1); ``field`` is the column, or ``"row"`` for the row as a whole."""

    row: int
    field: str
    message: str


@dataclass
class Batch(Generic[ModelT]):
    """Consecutive rows of a file: the valid ones as models, with their row numbers, and the
    problems of the others."""

    rows: list[tuple[int, ModelT]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class ProblemLog:
    """The problems of a whole import: every skipped row counted, the first few kept."""

    limit: int = MAX_REPORTED_PROBLEMS
    reported: list[RowProblem] = field(default_factory=list)
    skipped_rows: int = 0

    def add(self, problems: Sequence[RowProblem]) -> None:
        """Record one batch's problems; batches must come in file order."""
        ordered = sorted(problems, key=lambda problem: problem.row)
        self.skipped_rows += len({problem.row for problem in ordered})
        self.reported.extend(ordered[: max(self.limit - len(self.reported), 0)])


@dataclass(frozen=True)
class CsvFile:
    """A decoded file whose size, row count and header have been checked."""

    text: str = field(repr=False)
    columns: tuple[str, ...]
    # Data rows; blank lines are not counted.
    rows: int

    def batches(self, model: type[ModelT], size: int = BATCH_ROWS) -> Iterator[Batch[ModelT]]:
        """The data rows, ``size`` at a time, each validated as ``model`` from its non-empty
        cells (an empty cell is no value). Blank lines are skipped."""
        reader = _reader(self.text)
        next(reader)
        batch: Batch[ModelT] = Batch()
        for number, cells in enumerate(reader, start=2):
            if not cells:
                continue
            values, problems = self._cells(number, cells)
            if not problems:
                try:
                    batch.rows.append((number, model.model_validate(values)))
                except ValidationError as exc:
                    problems = validation_problems(number, exc)
            batch.problems.extend(problems)
            if len(batch.rows) + len(batch.problems) >= size:
                yield batch
                batch = Batch()
        if batch.rows or batch.problems:
            yield batch

    def _cells(self, number: int, cells: list[str]) -> tuple[dict[str, str], list[RowProblem]]:
        problems = []
        if len(cells) > len(self.columns):
            problems.append(
                RowProblem(
                    number, "row", f"has {len(cells)} cells; the header names {len(self.columns)}"
                )
            )
        values = {}
        for column, raw in zip(self.columns, cells, strict=False):
            if len(raw) > MAX_CELL_CHARS:
                problems.append(
                    RowProblem(number, column, f"is longer than {MAX_CELL_CHARS:,} characters")
                )
            elif "\x00" in raw:
                problems.append(
                    RowProblem(number, column, "contains a NUL character, which cannot be stored")
                )
            elif value := _unquote(raw.strip()):
                values[column] = value
        return values, problems


def read_csv(data: bytes, *, columns: Collection[str], required: Sequence[str]) -> CsvFile:
    """Check an uploaded file's bounds and header and count its rows, before anything is
    written.

    Raises:
        InvalidInput: naming ``file``: larger than :data:`MAX_IMPORT_BYTES`, not UTF-8, no
            header, a header column that is unknown, repeated or missing (each named), more
            than :data:`MAX_IMPORT_ROWS` data rows.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise _bad_file(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad_file(f"the file is not UTF-8 text (byte {exc.start + 1} is not)") from None
    reader = _reader(text)
    rows = 0
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise _bad_file("the file has no header row")
        names = tuple(cell.strip() for cell in header)
        _check_header(names, columns, required)
        for cells in reader:
            rows += 1 if cells else 0
            if rows > MAX_IMPORT_ROWS:
                raise _bad_file(f"the file has more than {MAX_IMPORT_ROWS:,} rows")
    except csv.Error as exc:
        # Not expected with the reader's settings, but a file the reader cannot follow is the
        # file's problem, never a server error.
        raise _bad_file(f"the file cannot be read as CSV after {rows:,} rows ({exc})") from None
    return CsvFile(text=text, columns=names, rows=rows)


def validation_problems(number: int, exc: ValidationError) -> list[RowProblem]:
    """A row's validation errors, each on the column it names."""
    return [
        RowProblem(number, str(error["loc"][0]) if error["loc"] else "row", error["msg"])
        for error in exc.errors()
    ]


def _check_header(names: Sequence[str], columns: Collection[str], required: Sequence[str]) -> None:
    problems = []
    unnamed = [str(position) for position, name in enumerate(names, start=1) if not name]
    if unnamed:
        problems.append(f"column(s) without a name: {_listed(unnamed)}")
    unknown = [name for name in dict.fromkeys(names) if name and name not in columns]
    if unknown:
        problems.append(f"unknown column(s): {_listed(unknown)} (known: {', '.join(columns)})")
    repeated = [name for name in dict.fromkeys(names) if name and names.count(name) > 1]
    if repeated:
        problems.append(f"repeated column(s): {_listed(repeated)}")
    missing = [name for name in required if name not in names]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if problems:
        raise _bad_file("; ".join(problems))


def _listed(names: Sequence[str], *, most: int = 10, width: int = 50) -> str:
    # Names come from the file: a header of huge or countless cells must not make a huge answer.
    shown = [name if len(name) <= width else f"{name[:width]}..." for name in names[:most]]
    more = f" and {len(names) - most:,} more" if len(names) > most else ""
    return ", ".join(shown) + more


def _reader(text: str) -> Iterator[list[str]]:
    # newline="" lets the reader see every line end as written, so "\r" alone ends a row too
    # (the default would feed it a whole CR-only file as one line and fail). Cells are read
    # whole, however long, so that a long one is reported as its row's problem: the file itself
    # is bounded by MAX_IMPORT_BYTES. The limit is process-wide; nothing else here reads CSV.
    csv.field_size_limit(MAX_IMPORT_BYTES)
    return csv.reader(io.StringIO(text, newline=""), strict=False)


def _unquote(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _bad_file(message: str) -> InvalidInput:
    return InvalidInput(message, [FieldProblem("file", message)])
