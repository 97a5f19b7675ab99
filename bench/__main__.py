"""Every DESIGN §5 figure in one run, printed as one table: ``python -m bench [--quick]``.

Each logging figure runs against a Salesforce stand-in (the sandbox) in its own process, at
0 ms and at 50 ms added per API call, with salesync's workers in their own processes timed
from "worker started". The multi-worker figure needs PostgreSQL: set
SALESYNC_BENCH_POSTGRES_URL to a database the bench may own (created when missing, emptied
on every run), e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/salesync_bench``.

``--quick`` runs every figure at a smaller size (a few minutes); the table says which sizes.
Timings depend on the machine and on what else runs on it; call counts do not.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import ingest_bench, task_sync_bench
from bench.standin import stand_in
from bench.support import (
    POSTGRES_VARIABLE,
    SystemClock,
    bench_postgres_url,
    bench_runtime,
    fresh_postgres,
    runtime_at,
)
from bench.throughput import Run, prepare, run_naive, run_workers


@dataclass(frozen=True)
class Sizes:
    small: int
    large: int
    naive_large: bool
    reps: int
    per_rep: int
    idle_reps: tuple[int, ...]
    tasks: int
    ingest: int


FULL = Sizes(1000, 10_000, True, 200, 20, (1, 200, 1000), 100_000, 1000)
QUICK = Sizes(200, 2000, True, 40, 20, (1, 20, 100), 10_000, 300)


@dataclass
class Row:
    figure: str
    salesync: str
    other: str = ""
    ratio: str = ""
    bar: str = ""
    verdict: str = ""


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _salesync_run(folder: Path, emails: int, latency_ms: int) -> Run:
    run_folder = Path(tempfile.mkdtemp(dir=folder))
    with stand_in(folder, reps=1, per_rep=emails) as standin:
        with bench_runtime(run_folder, standin.base_url, SystemClock()) as runtime:
            prepare(runtime, standin, 1, emails)
            url = str(runtime.engine.url)
        standin.set_latency(latency_ms)
        return run_workers(url, run_folder, standin, 1, emails)


def _naive_run(folder: Path, emails: int, latency_ms: int) -> tuple[int, float]:
    with stand_in(folder, reps=1, per_rep=emails) as standin:
        standin.set_latency(latency_ms)
        return run_naive(standin, emails)


def logging_rows(folder: Path, sizes: Sizes) -> tuple[list[Row], dict[int, Run]]:
    rows: list[Row] = []
    zero_ms: dict[int, Run] = {}
    for emails, latency in ((sizes.small, 0), (sizes.large, 0), (sizes.small, 50)):
        _log(f"logging {emails} emails at {latency} ms: salesync")
        ours = _salesync_run(folder, emails, latency)
        if latency == 0:
            zero_ms[emails] = ours
        naive: tuple[int, float] | None = None
        if emails == sizes.small or sizes.naive_large:
            _log(f"logging {emails} emails at {latency} ms: naive script")
            naive = _naive_run(folder, emails, latency)
        label = f"log {emails:,} emails of one rep, {latency} ms/call"
        rows.append(
            Row(
                f"{label}: API calls",
                f"{ours.calls}",
                f"{naive[0]}" if naive else "",
                f"{naive[0] / max(ours.calls, 1):.0f}x fewer" if naive else "",
                f"<= {3 * -(-emails // 1000)}",
                _verdict(ours.calls <= 3 * -(-emails // 1000) + 1),
            )
        )
        speedup = naive[1] / ours.seconds if naive else None
        rows.append(
            Row(
                f"{label}: seconds",
                f"{ours.seconds:.2f}",
                f"{naive[1]:.2f}" if naive else "",
                f"{speedup:.1f}x faster" if speedup else "",
                ">= 20x faster" if speedup else "",
                _verdict(speedup >= 20) if speedup else "",
            )
        )
    small, large = zero_ms[sizes.small], zero_ms[sizes.large]
    growth = large.seconds / small.seconds
    factor = sizes.large / sizes.small
    rows.append(
        Row(
            f"time for {sizes.large:,} vs {sizes.small:,} emails, 0 ms/call",
            f"{growth:.1f}x",
            bar=f"<= {1.1 * factor:.0f}x",
            verdict=_verdict(growth <= 1.1 * factor),
        )
    )
    rows.append(
        Row(
            f"CPU while logging {sizes.large:,} emails, 0 ms/call",
            f"worker {large.cpu:.1f} s",
            f"stand-in {large.standin_cpu:.1f} s",
            f"wall {large.seconds:.1f} s",
        )
    )
    cpu = large.cpu / large.emails * 1000
    rows.append(
        Row(
            "worker CPU per 1,000 logged emails (after start-up)",
            f"{cpu:.2f} s",
            bar="<= 0.25 s",
            verdict=_verdict(cpu <= 0.25),
        )
    )
    rows.append(
        Row(
            "worker start-up (process start to ready)",
            f"{large.startup_seconds:.2f} s",
            bar="< 1 s",
            verdict=_verdict(large.startup_seconds < 1),
        )
    )
    _log("start-up of salesync worker")
    cli = cli_worker_startup(folder)
    rows.append(
        Row(
            "salesync worker, as run: process start to 'started'",
            f"{cli:.2f} s",
            "median of 3; migrations checked",
            bar="< 1 s",
            verdict=_verdict(cli < 1),
        )
    )
    return rows, zero_ms


def cli_worker_startup(folder: Path, runs: int = 3) -> float:
    """Seconds from launching ``salesync worker`` to its "started" line (median of ``runs``),
    on a SQLite database already at the latest migration, as every start but the first is."""
    import statistics

    data = Path(tempfile.mkdtemp(dir=folder))
    environment = {**os.environ, "SALESYNC_DATA_DIR": str(data), "SALESYNC_LOG_FORMAT": "json"}
    command = [sys.executable, "-m", "salesync", "worker"]
    times: list[float] = []
    for run in range(runs + 1):  # the first start creates and migrates the database
        launched = time.perf_counter()
        process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            if "started" in line:
                break
        if run:
            times.append(time.perf_counter() - launched)
        process.terminate()
        process.wait(timeout=60)
    return statistics.median(times)


def ingest_rows(sizes: Sizes) -> list[Row]:
    _log(f"ingest: {sizes.ingest} emails through the API")
    figures = ingest_bench.measure(sizes.ingest)
    best = max(figures.one_by_one, figures.parallel)
    return [
        Row(
            "ingest: POST /api/v1/emails, one connection (SQLite, SMTP to memory)",
            f"{figures.one_by_one:.0f}/s",
            f"web process CPU {figures.cpu_ms_one_by_one:.1f} ms an email",
        ),
        Row(
            f"ingest: POST /api/v1/emails, {figures.connections} connections at once",
            f"{figures.parallel:.0f}/s",
            f"web process CPU {figures.cpu_ms_parallel:.1f} ms an email",
            bar=">= 200/s",
            verdict=_verdict(best >= 200),
        ),
        Row("ingest: POST /api/v1/emails/logged, 1,000 a request", f"{figures.bulk:.0f}/s"),
    ]


def workers_rows(folder: Path, sizes: Sizes) -> list[Row]:
    url = bench_postgres_url()
    label = f"{sizes.reps} reps x {sizes.per_rep} emails, 80 ms/call, PostgreSQL"
    if url is None:
        return [Row(f"{label}: 1/2/4 workers", f"not run: set {POSTGRES_VARIABLE}")]
    rows: list[Row] = []
    first: Run | None = None
    cores = os.cpu_count() or 1
    for workers in (1, 2, 4):
        _log(f"{label}: {workers} worker(s)")
        fresh_postgres(url)
        with stand_in(folder, reps=sizes.reps, per_rep=sizes.per_rep) as standin:
            runtime = runtime_at(url, folder, standin.base_url, SystemClock())
            prepare(runtime, standin, sizes.reps, sizes.per_rep)
            runtime.engine.dispose()
            standin.set_latency(80)
            run = run_workers(url, folder, standin, workers, sizes.reps * sizes.per_rep)
        first = first or run
        rate = run.emails / run.seconds
        gain = first.seconds / run.seconds
        rows.append(
            Row(
                f"{label}: {workers} worker(s)",
                f"{run.seconds:.1f} s, {rate:.0f} emails/s, {run.calls} calls",
                # The wall time this machine allows at best: every process's CPU spread
                # evenly over its cores (PostgreSQL's own CPU not even counted).
                f"CPU: workers {run.cpu:.1f} s, stand-in {run.standin_cpu:.1f} s; "
                f"floor on {cores} cores {(run.cpu + run.standin_cpu) / cores:.1f} s",
                ratio=f"{gain:.1f}x of 1 worker",
                bar=">= 3x of 1 worker" if workers == 4 else "",
                verdict=_verdict(gain >= 3) if workers == 4 else "",
            )
        )
    return rows


def idle_rows(sizes: Sizes) -> list[Row]:
    rows = []
    for reps in sizes.idle_reps:
        _log(f"idle poll: {reps} reps")
        calls = task_sync_bench.idle_cycle_calls(reps, team_connection=True)
        rows.append(
            Row(
                f"idle poll cycle, {reps} reps, team sync connection: API calls",
                str(calls),
                bar="1",
                verdict=_verdict(calls == 1),
            )
        )
    return rows


def memory_rows(sizes: Sizes) -> list[Row]:
    _log(f"memory: importing {sizes.tasks} Tasks")
    output = subprocess.run(
        [sys.executable, "-m", "bench.memory_bench", str(sizes.tasks)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    imported, seconds, _, peak, _ = output.strip().splitlines()[-1].split()
    return [
        Row(
            f"peak RSS importing {int(imported):,} Tasks ({float(seconds):.0f} s)",
            f"{float(peak):.0f} MB",
            bar="< 300 MB",
            verdict=_verdict(float(peak) < 300),
        )
    ]


def print_table(rows: list[Row]) -> None:
    headers = Row("figure", "salesync", "naive script / other", "ratio", "bar", "")
    widths = [max(len(getattr(r, f)) for r in [headers, *rows]) for f in Row.__annotations__]
    for row in [headers, *rows]:
        cells = [getattr(row, f).ljust(w) for f, w in zip(Row.__annotations__, widths, strict=True)]
        print(" | ".join(cells).rstrip(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        parts: list[Callable[[], list[Row]]] = [
            lambda: logging_rows(Path(folder), sizes)[0],
            lambda: ingest_rows(sizes),
            lambda: workers_rows(Path(folder), sizes),
            lambda: idle_rows(sizes),
            lambda: memory_rows(sizes),
        ]
        for part in parts:
            measured = part()
            for row in measured:  # kept in the log should a later part fail or be stopped
                _log(f"{row.figure}: {row.salesync} {row.other} {row.ratio} {row.verdict}")
            rows.extend(measured)
    print(f"salesync bench{' --quick' if args.quick else ''}: every DESIGN §5 figure, one run")
    print_table(rows)
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
