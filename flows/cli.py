"""`corpus-clean`: the command line over the flows.

Prefect settings that make the embedded local server usable from a fresh
machine are set before Prefect is imported: a longer start-up limit (the
first start runs database migrations) and no telemetry.
"""
from __future__ import annotations

import argparse
import os
import sys

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def _prefect_env() -> None:
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="corpus-clean", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="clean every new file under the raw folder into Parquet")
    run.add_argument("--raw", default="raw", help="folder of raw pages (default: raw)")
    run.add_argument("--out", default="parquet", help="output folder or pyarrow URI (default: parquet)")
    run.add_argument("--batch-files", type=int, default=None, help="files per task")
    run.add_argument("--max-file-mb", type=float, default=None, help="quarantine files larger than this")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _prefect_env()
    if args.command == "run":
        from flows.clean_corpus import clean_corpus

        params = {"raw": args.raw, "out": args.out}
        if args.batch_files:
            params["batch_files"] = args.batch_files
        if args.max_file_mb:
            params["max_file_bytes"] = int(args.max_file_mb * 1024 * 1024)
        summary = clean_corpus(**params)
        print("clean-corpus: " + " ".join(f"{k}={summary[k]}" for k in
                                          ("files", "skipped", "documents", "quarantined")) +
              f" MB={summary['bytes_read'] / 1e6:.2f} seconds={summary['seconds']:.2f}"
              f" MB/s={summary['mb_per_s']:.2f} out={args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
