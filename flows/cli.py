"""`corpus-clean`: the command line over the flows.

Prefect settings that make the embedded local server usable from a fresh
machine are set before Prefect is imported: a longer start-up limit (the
first start runs database migrations) and no telemetry. A run on that
embedded server goes without flow-run heartbeats (`embedded_run_settings`).
"""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from typing import Iterator

from flows.runners import RUNNER_KINDS

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


# Where a user sets the flow-run heartbeat frequency (the second is its legacy name).
HEARTBEAT_FREQUENCY_ENV = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")
DEFAULT_CRON = "0 * * * *"  # hourly, on the hour
EXIT_LOCKED = 3  # another run holds the output folder
# A served run (scheduled, or a backfill from the UI) that meets another run waits for it rather than fail.
SERVE_LOCK_WAIT = 3600.0


def _prefect_env() -> None:
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)


@contextmanager
def embedded_run_settings() -> Iterator[None]:
    """Flow runs of the block send no heartbeats when they report to the embedded server.

    Prefect 3.8's synchronous flow engine sends a heartbeat event every 180 s
    from a thread that sleeps a second at a time, and joins that thread as the
    run ends: every run waited up to a second after its work was done (a run of
    nothing took 1.09 s, 0.10 s without). Heartbeats let an automation on a
    server mark a run whose process died as crashed; the embedded server is
    this process's child and dies with it, so nothing could act on them. A run
    that reports to a server of its own (`PREFECT_API_URL`), and a heartbeat
    frequency the user set, keep Prefect's behaviour.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

    if get_current_settings().api.url or any(name in os.environ for name in HEARTBEAT_FREQUENCY_ENV):
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _add_run_args(parser: argparse.ArgumentParser) -> None:
    """What every command that runs the pipeline takes: folders, batch size, task runner."""
    parser.add_argument("--raw", default="raw", help="folder of raw pages (default: raw)")
    parser.add_argument("--out", default="parquet", help="output folder or pyarrow URI (default: parquet)")
    parser.add_argument("--batch-files", type=int, default=None, help="files per task")
    parser.add_argument("--max-file-mb", type=float, default=None, help="quarantine files larger than this")
    parser.add_argument("--task-runner", choices=RUNNER_KINDS, default="sequential",
                        help="where batches are cleaned (default: sequential, in the flow's own thread)")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel workers of a thread, process or local Dask runner (default: CPU count)")
    parser.add_argument("--dask-address", default=None,
                        help="tcp://HOST:PORT of an existing Dask scheduler (default: start a local cluster)")
    parser.add_argument("--lock-wait", type=float, default=None, metavar="SECONDS",
                        help="wait this long for another run on the same output folder to finish "
                             f"(default: 0, fail at once; serve: {SERVE_LOCK_WAIT:.0f})")


def _flow_params(args: argparse.Namespace) -> dict:
    params = {"raw": args.raw, "out": args.out, "task_runner": args.task_runner,
              "workers": args.workers or (1 if args.task_runner == "sequential" else os.cpu_count() or 1)}
    if args.dask_address:
        params["dask_address"] = args.dask_address
    lock_wait = args.lock_wait if args.lock_wait is not None else (SERVE_LOCK_WAIT if args.command == "serve" else 0)
    if lock_wait:
        params["lock_wait_seconds"] = lock_wait
    if args.batch_files:
        params["batch_files"] = args.batch_files
    if args.max_file_mb:
        params["max_file_bytes"] = int(args.max_file_mb * 1024 * 1024)
    return params


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="corpus-clean", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="clean every new file under the raw folder into Parquet")
    _add_run_args(run)
    run.add_argument("--rehash", action="store_true",
                     help="check every file's content, not only size and mtime, for what is done")
    backfill = sub.add_parser("backfill", help="clean again the raw files chosen by date and pattern")
    _add_run_args(backfill)
    backfill.add_argument("--since", help="first day (YYYY-MM-DD) or moment (ISO) of a file's date folder or mtime")
    backfill.add_argument("--until", help="last day (inclusive) or moment (exclusive) of a file's date")
    backfill.add_argument("--glob", help="shell pattern on the path under the raw folder (* also matches /)")
    backfill.add_argument("--force", action="store_true",
                          help="re-process matched files even if this pipeline version did; their rows are replaced")
    serve = sub.add_parser("serve", help="serve the clean-corpus (scheduled) and backfill-corpus deployments")
    _add_run_args(serve)
    serve.add_argument("--cron", default=DEFAULT_CRON, help=f"schedule of clean-corpus (default: '{DEFAULT_CRON}')")
    serve.add_argument("--timezone", default="UTC", help="time zone of the cron schedule (default: UTC)")
    report = sub.add_parser("report", help="write one self-contained HTML report of what the pipeline did")
    report.add_argument("--out", default="parquet", help="the dataset's output folder or URI (default: parquet)")
    report.add_argument("--to", default="report.html", help="HTML file to write (default: report.html)")
    report.add_argument("--raw", default="raw", help="raw folder, for the before view of samples (default: raw)")
    report.add_argument("--samples", type=int, default=6, help="source files shown before and after (default: 6)")
    explain = sub.add_parser("explain", help="show what cleaning removes and repairs in a file, in page order")
    explain.add_argument("files", nargs="+", metavar="FILE", help="raw page(s) to clean and explain")
    explain.add_argument("--raw", default="raw", help="raw folder the site is taken from, as in a run (default: raw)")
    explain.add_argument("--no-color", action="store_true", help="plain marks instead of colour")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _prefect_env()
    if args.command in ("run", "backfill"):
        from flows import progress
        from flows.locking import OutputLocked

        params = _flow_params(args)
        if args.command == "run":
            from flows.clean_corpus import clean_corpus as run_flow

            params["rehash"] = args.rehash
        else:
            from flows.backfill import Selection, backfill_corpus as run_flow

            try:
                Selection.parse(args.since, args.until, args.glob)
            except ValueError as exc:
                build_parser().error(str(exc))
            params.update(since=args.since, until=args.until, glob=args.glob, force=args.force)
        try:
            with progress.shown_on(sys.stderr), embedded_run_settings():
                summary = run_flow(**params)
        except OutputLocked as exc:
            print(f"corpus-clean {args.command}: {exc}", file=sys.stderr)
            return EXIT_LOCKED
        print(f"{run_flow.name}: " + " ".join(f"{k}={summary[k]}" for k in
                                             ("files", "skipped", "documents", "quarantined", "duplicates")) +
              f" MB={summary['bytes_read'] / 1e6:.2f} seconds={summary['seconds']:.2f}"
              f" MB/s={summary['mb_per_s']:.2f} out={args.out}")
    elif args.command == "serve":
        from flows.serve import serve_corpus

        params = _flow_params(args)
        serve_corpus(params, cron=args.cron, timezone=args.timezone)
    elif args.command == "report":
        from flows.report import write_report

        print(f"report: {write_report(args.out, args.to, args.raw, args.samples)}")
    elif args.command == "explain":
        from flows.explain import explain_file

        color = sys.stdout.isatty() and not args.no_color and not os.environ.get("NO_COLOR")
        for path in args.files:
            if not os.path.isfile(path):
                print(f"explain: no such file: {path}", file=sys.stderr)
                return 2
            sys.stdout.write(explain_file(path, args.raw, color))
    return 0


if __name__ == "__main__":
    sys.exit(main())
