"""The gate `make loadtest` runs on Locust's CSV statistics: it fails a run over its error or p95
budget, and a run it cannot judge."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.loadtest_gate import Aggregate, ReportError, evaluate, main, read_aggregate

# The header and rows exactly as Locust 2.47 writes them with --csv.
HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)
EXCEPTIONS_HEADER = "Count,Message,Traceback,Nodes"


def row(name: str, requests: int, failures: int, p95: str, *, kind: str = "GET") -> str:
    return (
        f"{kind},{name},{requests},{failures},21,29.6,9.1,277.4,1108.7,10.4,0.0,"
        f"21,26,30,33,45,{p95},130,220,280,280,280"
    )


def write_run(
    folder: Path, *rows: str, exceptions: tuple[str, ...] = (), prefix: str = "locust"
) -> Path:
    stats = folder / f"{prefix}_stats.csv"
    stats.write_text("\n".join([HEADER, *rows]) + "\n")
    (folder / f"{prefix}_exceptions.csv").write_text(
        "\n".join([EXCEPTIONS_HEADER, *exceptions]) + "\n"
    )
    return stats


class TestReadingTheStatistics:
    def test_it_takes_the_aggregated_row_not_a_single_request_type(self, tmp_path: Path) -> None:
        stats = write_run(
            tmp_path,
            row("/api/v1/campaigns", 100, 0, "40"),
            row("/api/v1/ws", 10, 5, "900", kind="WS"),
            row("Aggregated", 110, 5, "65", kind=""),
        )

        assert read_aggregate(stats) == Aggregate(requests=110, failures=5, p95_ms=65.0)

    def test_a_run_without_requests_has_no_percentile(self, tmp_path: Path) -> None:
        stats = write_run(
            tmp_path,
            ",Aggregated,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A",
        )

        assert read_aggregate(stats) == Aggregate(requests=0, failures=0, p95_ms=None)

    def test_a_file_that_is_not_locust_statistics_is_refused(self, tmp_path: Path) -> None:
        other = tmp_path / "other.csv"
        other.write_text("a,b\n1,2\n")

        with pytest.raises(ReportError, match="no 'Aggregated' row"):
            read_aggregate(other)
        with pytest.raises(ReportError, match="No such file"):
            read_aggregate(tmp_path / "missing_stats.csv")


class TestVerdict:
    def verdict(self, aggregate: Aggregate, **kwargs: object) -> dict[str, bool]:
        checks = evaluate(
            aggregate,
            max_error_rate=0.01,
            p95_budget_ms=500,
            **kwargs,  # type: ignore[arg-type]
        )
        return {check.name: check.passed for check in checks}

    def test_errors_up_to_one_percent_pass_and_above_fail(self) -> None:
        assert self.verdict(Aggregate(1000, 10, 100))["errors"] is True
        assert self.verdict(Aggregate(1000, 11, 100))["errors"] is False

    def test_p95_up_to_the_budget_passes_and_above_fails(self) -> None:
        assert self.verdict(Aggregate(1000, 0, 500))["p95"] is True
        assert self.verdict(Aggregate(1000, 0, 510))["p95"] is False

    def test_a_run_that_made_no_request_fails(self) -> None:
        verdict = self.verdict(Aggregate(0, 0, None))

        assert verdict["requests"] is False
        assert verdict["p95"] is False

    def test_a_locustfile_that_raised_fails_the_run(self) -> None:
        verdict = self.verdict(Aggregate(1000, 0, 100), exceptions=["KeyError('items')"])

        assert verdict["locustfile"] is False


class TestCommandLine:
    def test_a_run_within_budget_exits_0_and_says_so(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stats = write_run(tmp_path, row("Aggregated", 2000, 3, "480", kind=""))

        assert main([str(stats), "--p95-ms", "500"]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "loadtest gate: passed"

    def test_a_run_over_budget_exits_1_naming_what_failed(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stats = write_run(tmp_path, row("Aggregated", 2000, 40, "900", kind=""))

        assert main([str(stats), "--p95-ms", "500", "--max-error-rate", "0.01"]) == 1
        out = capsys.readouterr().out
        assert "FAIL errors: 40 failed, 2.00% (limit 1.00%)" in out
        assert "FAIL p95: 900 ms (budget 500 ms)" in out
        assert out.splitlines()[-1] == "loadtest gate: failed (errors, p95)"

    def test_exceptions_next_to_the_stats_file_fail_the_run(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stats = write_run(
            tmp_path,
            row("Aggregated", 2000, 0, "100", kind=""),
            exceptions=('3,"KeyError: \'items\'","Traceback ...",local',),
            prefix="run1",
        )

        assert main([str(stats), "--p95-ms", "500"]) == 1
        assert "FAIL locustfile: raised 1 kind(s) of exception, first: KeyError" in (
            capsys.readouterr().out
        )

    def test_a_missing_file_is_exit_2_with_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main([str(tmp_path / "none_stats.csv"), "--p95-ms", "500"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert "none_stats.csv" in err[0]

    @pytest.mark.parametrize(
        "bad", [["--p95-ms", "0"], ["--p95-ms", "100", "--max-error-rate", "5"]]
    )
    def test_a_bad_budget_is_refused_naming_the_option(
        self, tmp_path: Path, bad: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        stats = write_run(tmp_path, row("Aggregated", 10, 0, "10", kind=""))

        with pytest.raises(SystemExit) as exited:
            main([str(stats), *bad])

        assert exited.value.code == 2
        assert bad[-2] in capsys.readouterr().err
