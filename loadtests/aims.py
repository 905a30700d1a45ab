"""The aims of the benchmarks: one line each, in one form, and one summary for `make bench`.

Every bench ends its output with its aims, one line each::

    aim outreach-vs-bare-smtp: 0.62x (target >= 0.5x) met

An aim is a figure measured in the run (usually a ratio against a baseline measured in the same
run), the target it is held to, and whether this run met it. Aims are reported, never enforced:
a bench's exit status says whether it ran properly, not whether it met its aims.

Using it from a bench (build the aims once, from what the run measured, and report them last,
also when a step failed, so that an aim that could not be measured still shows)::

    from loadtests import aims

    aims.report(
        [
            aims.judge("outreach-vs-bare-smtp", ratio, at_least=0.5),  # 0.62x (target >= 0.5x)
            aims.judge("pace-vs-limit", rate, at_least=0.9, at_most=1.0, digits=3),
            aims.judge("peak", 20, at_most=20, unit=" req/s", digits=0),  # 20 req/s
        ]
    )

- ``judge(name, value, *, at_least=None, at_most=None, unit="x", digits=2) -> Aim``: the
  value shown with ``digits`` decimals and ``unit`` after it; the target text from the bounds
  (``>= 0.5x``, ``>= 0.9x and <= 1x``); met when every bound holds. A value of ``None`` (or
  NaN) is an aim the run could not measure: shown as ``not measured``, never met.
- ``Aim(name, value, shown, target, met)``: the record itself, for an aim ``judge`` cannot
  express; ``Aim.line`` is its line.
- ``report(aims)``: prints the lines (after a blank line) and, when the environment variable
  ``CM_BENCH_AIMS_FILE`` names a file, appends each aim to it as one JSON line (the fields of
  ``Aim``).

``python -m loadtests.aims summary FILE`` prints ``== aims ==`` and then every aim in FILE, in
order, as the benches printed them; it exits 0 whether or not they were met (1 when a line of
FILE cannot be read, 2 when FILE cannot be opened).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

ENV_FILE = "CM_BENCH_AIMS_FILE"
HEADER = "== aims =="
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Aim:
    """One aim of one run: ``shown`` is ``value`` as printed, ``target`` the bound as text."""

    name: str
    value: float | None
    shown: str
    target: str
    met: bool

    @property
    def line(self) -> str:
        return f"aim {self.name}: {self.shown} (target {self.target}) {_verdict(self.met)}"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Aim:
        """The aim of one JSON line; ValueError when it is not one."""
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        value = data.get("value")
        fields = (data.get("name"), data.get("shown"), data.get("target"))
        if (
            not all(isinstance(field, str) for field in fields)
            or not isinstance(data.get("met"), bool)
            or isinstance(value, bool)
            or not (value is None or isinstance(value, int | float))
        ):
            raise ValueError("needs name, shown and target (text), met (true/false), value")
        return cls(
            name=data["name"],
            value=None if value is None else float(value),
            shown=data["shown"],
            target=data["target"],
            met=data["met"],
        )


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def _bound(number: float, unit: str) -> str:
    return f"{number:g}{unit}"


def judge(
    name: str,
    value: float | None,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    unit: str = "x",
    digits: int = 2,
) -> Aim:
    """The aim ``name`` for ``value`` held to ``at_least`` and/or ``at_most`` (inclusive)."""
    if at_least is None and at_most is None:
        raise ValueError(f"aim {name}: give at_least, at_most or both")
    bounds = []
    if at_least is not None:
        bounds.append(f">= {_bound(at_least, unit)}")
    if at_most is not None:
        bounds.append(f"<= {_bound(at_most, unit)}")
    target = " and ".join(bounds)
    if value is None or not math.isfinite(value):
        return Aim(name, None, NOT_MEASURED, target, met=False)
    met = (at_least is None or value >= at_least) and (at_most is None or value <= at_most)
    return Aim(name, float(value), f"{value:.{digits}f}{unit}", target, met)


def report(aims: Sequence[Aim], *, stream: TextIO | None = None) -> None:
    """Print the aims' lines; append them to ``$CM_BENCH_AIMS_FILE`` when it is set."""
    if not aims:
        return
    out = stream or sys.stdout
    print(file=out)
    for aim in aims:
        print(aim.line, file=out)
    out.flush()
    path = os.environ.get(ENV_FILE)
    if path:
        with open(path, "a", encoding="utf-8") as results:
            results.write("".join(aim.to_json() + "\n" for aim in aims))


def read(path: Path) -> tuple[list[Aim], list[str]]:
    """The aims in a results file, in order, and a note for each line that is not one."""
    aims: list[Aim] = []
    problems: list[str] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            aims.append(Aim.from_json(text))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            problems.append(f"{path}:{number}: not an aim ({exc})")
    return aims, problems


def summary(path: Path, *, stream: TextIO | None = None) -> int:
    """Print the summary of a results file; the exit status (0 whether aims are met or not)."""
    out = stream or sys.stdout
    try:
        aims, problems = read(path)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"aims: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    print(HEADER, file=out)
    for aim in aims:
        print(aim.line, file=out)
    if not aims:
        print("no aims were recorded", file=out)
    for problem in problems:
        print(f"aims: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.aims", description="The benchmarks' aims, in one list."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser(
        "summary", help=f"print every aim of a results file (what {ENV_FILE} collected)"
    )
    show.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    return summary(args.file)


if __name__ == "__main__":
    sys.exit(main())
