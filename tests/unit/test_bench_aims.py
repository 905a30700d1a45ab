"""The benchmarks' aim lines and the summary `make bench` ends with (loadtests/aims.py)."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from loadtests import aims, bench_api, bench_discovery

ROOT = Path(__file__).resolve().parents[2]


class TestAimLines:
    def test_a_ratio_over_its_target_is_met(self) -> None:
        aim = aims.judge("outreach-vs-bare-smtp", 0.6213, at_least=0.5)
        assert aim.line == "aim outreach-vs-bare-smtp: 0.62x (target >= 0.5x) met"
        assert aim.met

    def test_a_ratio_under_its_target_is_not_met(self) -> None:
        aim = aims.judge("walk-vs-bare", 0.074, at_least=0.5)
        assert aim.line == "aim walk-vs-bare: 0.07x (target >= 0.5x) not met"
        assert not aim.met

    def test_a_bound_is_inclusive(self) -> None:
        assert aims.judge("serve", 1.0, at_least=1.0).line == (
            "aim serve: 1.00x (target >= 1x) met"
        )

    def test_a_range_names_both_bounds_and_holds_at_both(self) -> None:
        inside = aims.judge("rate", 0.926, at_least=0.9, at_most=1.0, digits=3)
        above = aims.judge("rate", 1.004, at_least=0.9, at_most=1.0, digits=3)
        assert inside.line == "aim rate: 0.926x (target >= 0.9x and <= 1x) met"
        assert above.line == "aim rate: 1.004x (target >= 0.9x and <= 1x) not met"

    def test_a_count_with_its_own_unit(self) -> None:
        assert aims.judge("peak", 21, at_most=20.0, unit=" req/s", digits=0).line == (
            "aim peak: 21 req/s (target <= 20 req/s) not met"
        )

    @pytest.mark.parametrize("value", [None, float("nan")])
    def test_an_aim_the_run_could_not_measure_shows_so_and_is_not_met(
        self, value: float | None
    ) -> None:
        aim = aims.judge("serve", value, at_least=1.0)
        assert aim.line == "aim serve: not measured (target >= 1x) not met"
        assert aim.value is None

    def test_an_aim_needs_a_bound(self) -> None:
        with pytest.raises(ValueError, match="at_least"):
            aims.judge("nothing", 1.0)


class TestReport:
    def test_prints_its_lines_and_appends_them_to_the_results_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        results = tmp_path / "aims.jsonl"
        results.write_text(aims.judge("earlier", 2.0, at_least=1.0).to_json() + "\n")
        monkeypatch.setenv(aims.ENV_FILE, str(results))
        out = io.StringIO()
        first = aims.judge("a", 0.62, at_least=0.5)
        second = aims.judge("b", None, at_most=20, unit=" req/s", digits=0)

        aims.report([first, second], stream=out)

        assert out.getvalue().splitlines()[-2:] == [first.line, second.line]
        found, problems = aims.read(results)
        assert [aim.name for aim in found] == ["earlier", "a", "b"]
        assert found[1:] == [first, second]
        assert problems == []

    def test_without_the_variable_only_prints(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv(aims.ENV_FILE, raising=False)
        monkeypatch.chdir(tmp_path)
        out = io.StringIO()
        aims.report([aims.judge("a", 0.62, at_least=0.5)], stream=out)
        assert "aim a: 0.62x (target >= 0.5x) met" in out.getvalue()
        assert list(tmp_path.iterdir()) == []


class TestSummary:
    def test_lists_every_aim_of_the_file_in_order_and_exits_0_when_some_are_not_met(
        self, tmp_path: Path
    ) -> None:
        results = tmp_path / "aims.jsonl"
        lines = [
            aims.judge("serve-haproxy-2-vs-uvicorn-list-db", 1.08, at_least=1.0),
            aims.judge("discovery-walk-vs-bare-502s-0", 0.07, at_least=0.5),
            aims.judge("outreach-vs-bare-smtp", None, at_least=0.5),
        ]
        results.write_text("".join(aim.to_json() + "\n" for aim in lines))

        done = subprocess.run(
            [sys.executable, "-m", "loadtests.aims", "summary", str(results)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "== aims ==",
            "aim serve-haproxy-2-vs-uvicorn-list-db: 1.08x (target >= 1x) met",
            "aim discovery-walk-vs-bare-502s-0: 0.07x (target >= 0.5x) not met",
            "aim outreach-vs-bare-smtp: not measured (target >= 0.5x) not met",
        ]

    def test_an_empty_file_says_no_aim_was_recorded(self, tmp_path: Path) -> None:
        results = tmp_path / "aims.jsonl"
        results.write_text("")
        out = io.StringIO()
        assert aims.summary(results, stream=out) == 0
        assert out.getvalue().splitlines() == ["== aims ==", "no aims were recorded"]

    def test_a_line_that_is_not_an_aim_is_named_and_fails_the_summary(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        results = tmp_path / "aims.jsonl"
        good = aims.judge("a", 0.62, at_least=0.5)
        results.write_text(good.to_json() + '\n{"name": "b"}\nnot json\n')
        out = io.StringIO()
        assert aims.summary(results, stream=out) == 1
        assert out.getvalue().splitlines() == ["== aims ==", good.line]
        errors = capsys.readouterr().err
        assert f"{results}:2: not an aim" in errors
        assert f"{results}:3: not an aim" in errors

    def test_a_missing_file_is_an_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert aims.summary(tmp_path / "nothing.jsonl", stream=io.StringIO()) == 2
        assert "cannot read" in capsys.readouterr().err


class TestBenchAims:
    """Each bench declares its aims whatever the run reached, so none drops out of the summary."""

    def test_api_aim_is_serve_2_replicas_over_uvicorns_mean_on_list_db(self) -> None:
        def measured(rps: float) -> bench_api.Measurement:
            return bench_api.Measurement(requests=int(rps * 10), seconds=10.0)

        bench = bench_api.Bench(args=argparse.Namespace(), work=Path("."), settings=None)
        bench.rows = [
            bench_api.Row("uvicorn", "list-db", measured(200)),
            bench_api.Row("uvicorn", "create", measured(50)),
            bench_api.Row("serve-haproxy-2", "list-db", measured(270)),
            bench_api.Row("serve-haproxy-2", "create", measured(10)),
            bench_api.Row("uvicorn-end", "list-db", measured(300)),
        ]
        assert [aim.line for aim in bench_api.aims_of(bench)] == [
            "aim serve-haproxy-2-vs-uvicorn-list-db: 1.08x (target >= 1x) met"
        ]

    def test_api_aim_is_not_measured_when_the_run_never_started(self) -> None:
        assert [aim.line for aim in bench_api.aims_of(None)] == [
            "aim serve-haproxy-2-vs-uvicorn-list-db: not measured (target >= 1x) not met"
        ]

    def test_discovery_aims_cover_every_step_also_those_that_did_not_run(self) -> None:
        args = argparse.Namespace(error_rates=[0.0, 0.02], limit=20.0, scale_artists=50_000)
        bench = bench_discovery.Bench(args=args)
        log = [
            bench_discovery.Request("api", 100.0, "/users/1", 200),
            bench_discovery.Request("api", 102.0, "/users/2", 200),
        ]
        run = bench_discovery.JobRun(
            "ingest", "completed", 5.0, 4.0, {"kept": 400}, None, log, 99.0, cpu_seconds=2.0
        )
        bare = bench_discovery.Contender("bare", 0.2, 2, Counter({200: 2}), 1.0)
        alone = bench_discovery.Contender("alone", 2.6, 2, Counter(), 1.0, cpu_seconds=0.4)
        case = bench_discovery.IngestCase(0.0, site=None, run=run, baselines=[bare], alone=alone)  # type: ignore[arg-type]
        bench.cases = [case]
        bench.paces = [bench_discovery.Pace("api", 500, 0, 20, 26.0, 18.52)]
        samples = [(1.0, {"kept": 0}), (2.0, {"kept": 100}), (12.0, {"kept": 5_100})]
        samples += [(100.0, {"kept": 45_000}), (112.0, {"kept": 50_000})]
        scale = bench_discovery.JobRun(
            "scale", "completed", 112.0, 111.0, {"kept": 50_000}, None, [], 0.0,
            cpu_seconds=150.0, samples=samples,
        )  # fmt: skip
        bench.scale = bench_discovery.ScaleRun(scale)
        bench.scale.measure(50_000)
        # The jobs counted 350 requests, the site saw 370 in the window (0.925 of 20/s for
        # 20 s): each job gets its part of what the site saw.
        bench.shared = bench_discovery.ShareRun(
            ["cancelled"] * 2, 20.0, [180, 170], 20.0, site_api_requests=370
        )

        assert [aim.line for aim in bench_discovery.aims_of(bench)] == [
            "aim discovery-walk-vs-bare-502s-0: 0.10x (target >= 0.5x) not met",
            "aim discovery-walk-vs-bare-502s-0.02: not measured (target >= 0.5x) not met",
            "aim discovery-job-vs-scrapers-alone: 0.65x (target >= 0.6x) met",
            # The scale job's 3 s per 1,000 artists against twice the scrapers' 1 s.
            "aim discovery-cpu-s-per-1000-artists: 3.0 s (target <= 2 s) not met",
            # 5,000 kept in 10 s at first (100 -> 5,100), 5,000 in 12 s at the end.
            "aim discovery-50k-last-vs-first-tenth: 0.83x (target >= 0.8x) met",
            "aim discovery-limit-rate-api: 0.926x (target >= 0.9x and <= 1x) met",
            "aim discovery-limit-peak-api: 20 req/s (target <= 20 req/s) met",
            "aim discovery-two-jobs-share-first: 0.48x (target >= 0.4x and <= 0.6x) met",
            "aim discovery-two-jobs-share-second: 0.45x (target >= 0.4x and <= 0.6x) met",
        ]
