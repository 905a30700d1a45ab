"""Pass or fail a Locust run from its CSV statistics (``make loadtest`` runs it after Locust).

    python loadtests/loadtest_gate.py loadtests/reports/locust_stats.csv \\
        --max-error-rate 0.01 --p95-ms 1500

It reads the ``Aggregated`` row of ``<prefix>_stats.csv`` (what ``locust --csv <prefix>``
writes) and fails (exit 1) when failed requests are more than ``--max-error-rate`` of all
requests, when the aggregated 95th percentile is above ``--p95-ms``, when no request was made,
or when the locustfile itself raised (``<prefix>_exceptions.csv`` has rows: a broken scenario
measures nothing). A file it cannot read is exit 2. It prints one line per check, then the
verdict. It imports nothing from the project or from Locust: it only reads the files.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

AGGREGATED = "Aggregated"
DEFAULT_MAX_ERROR_RATE = 0.01


class ReportError(Exception):
    """The statistics file is missing or is not what ``locust --csv`` writes."""


@dataclass(frozen=True)
class Aggregate:
    """The totals of a run: requests, failed requests, and the 95th percentile in ms (None
    when Locust had no response time to report)."""

    requests: int
    failures: int
    p95_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def _number(row: dict[str, str], column: str, path: Path) -> float | None:
    raw = (row.get(column) or "").strip()
    if raw in {"", "N/A"}:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ReportError(f"{path}: column {column!r} is {raw!r}, not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ReportError(f"{path}: column {column!r} is {raw!r}")
    return value


def read_aggregate(path: Path) -> Aggregate:
    """The ``Aggregated`` row of a Locust ``*_stats.csv`` file.

    Raises:
        ReportError: the file is missing, or has no such row or columns.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise ReportError(f"{path}: {error.strerror or error}") from None
    aggregated = [row for row in rows if (row.get("Name") or "").strip() == AGGREGATED]
    if not aggregated:
        raise ReportError(f"{path}: no {AGGREGATED!r} row (is this a locust --csv stats file?)")
    row = aggregated[-1]
    requests = _number(row, "Request Count", path)
    failures = _number(row, "Failure Count", path)
    if requests is None or failures is None:
        raise ReportError(f"{path}: the {AGGREGATED!r} row has no request or failure count")
    return Aggregate(int(requests), int(failures), _number(row, "95%", path))


def read_exceptions(path: Path) -> list[str]:
    """The messages in a Locust ``*_exceptions.csv`` file (empty when it has no rows or does
    not exist: Locust writes one only with ``--csv``)."""
    if not path.exists():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [(row.get("Message") or "").strip() for row in csv.DictReader(handle)]
    except OSError as error:
        raise ReportError(f"{path}: {error.strerror or error}") from None


def evaluate(
    aggregate: Aggregate,
    *,
    max_error_rate: float,
    p95_budget_ms: float,
    exceptions: Sequence[str] = (),
) -> list[Check]:
    """Every check of the gate, passed or not."""
    checks = [
        Check(
            "requests",
            aggregate.requests > 0,
            f"{aggregate.requests} requests" if aggregate.requests else "no request was made",
        ),
        Check(
            "errors",
            aggregate.error_rate <= max_error_rate,
            f"{aggregate.failures} failed, {aggregate.error_rate:.2%} (limit {max_error_rate:.2%})",
        ),
    ]
    if aggregate.p95_ms is None:
        checks.append(Check("p95", False, f"no 95th percentile (budget {p95_budget_ms:g} ms)"))
    else:
        checks.append(
            Check(
                "p95",
                aggregate.p95_ms <= p95_budget_ms,
                f"{aggregate.p95_ms:g} ms (budget {p95_budget_ms:g} ms)",
            )
        )
    raised = list(exceptions)
    checks.append(
        Check(
            "locustfile",
            not raised,
            "raised nothing"
            if not raised
            else f"raised {len(raised)} kind(s) of exception, first: {raised[0][:160]}",
        )
    )
    return checks


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be a fraction between 0 and 1, e.g. 0.01")
    return value


def _milliseconds(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError("must be a positive number of milliseconds")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loadtest_gate",
        description="Fail a Locust run whose error rate or aggregated p95 is over its budget.",
    )
    parser.add_argument("stats", type=Path, help="the <prefix>_stats.csv that locust --csv wrote")
    parser.add_argument(
        "--max-error-rate",
        type=_rate,
        default=DEFAULT_MAX_ERROR_RATE,
        help="largest share of failed requests that passes (default 0.01)",
    )
    parser.add_argument(
        "--p95-ms",
        type=_milliseconds,
        required=True,
        help="largest aggregated 95th percentile, in milliseconds, that passes",
    )
    parser.add_argument(
        "--exceptions",
        type=Path,
        default=None,
        help="the run's <prefix>_exceptions.csv (default: next to the stats file)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    stats: Path = options.stats
    exceptions_path: Path = options.exceptions or stats.with_name(
        stats.name.removesuffix("_stats.csv") + "_exceptions.csv"
    )
    try:
        aggregate = read_aggregate(stats)
        exceptions = read_exceptions(exceptions_path)
    except ReportError as error:
        print(f"loadtest gate: {error}", file=sys.stderr)
        return 2
    checks = evaluate(
        aggregate,
        max_error_rate=options.max_error_rate,
        p95_budget_ms=options.p95_ms,
        exceptions=exceptions,
    )
    for check in checks:
        print(f"loadtest gate: {'ok  ' if check.passed else 'FAIL'} {check.name}: {check.detail}")
    failed = [check.name for check in checks if not check.passed]
    print(f"loadtest gate: {'failed (' + ', '.join(failed) + ')' if failed else 'passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
