"""`corpus-clean serve`: serve the pipeline's deployments from this process.

Two deployments, run by this process (Prefect's `serve`) as soon as the
Prefect server schedules them:

- `clean-corpus/scheduled`: every new file, on a cron schedule (hourly by
  default). At most one run at a time; a run due while one is still going
  waits for it (the output lock would refuse it anyway).
- `backfill-corpus/backfill`: no schedule; started from the UI or with
  `prefect deployment run backfill-corpus/backfill --param since=… --param force=true`.

Both take the folders and runner given on the command line as their default
parameters; a run may override any of them. Serving needs a Prefect server
(`prefect server start`) and `PREFECT_API_URL` pointing at it: the schedule
lives in the server, and the UI is where scheduled runs are watched. Teams
that run workers use `prefect.yaml` instead.
"""
from __future__ import annotations

import sys

SCHEDULED = "scheduled"
BACKFILL = "backfill"


def deployments(params: dict, cron: str, timezone: str = "UTC") -> list:
    """The two deployments, with `params` as their default parameters."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from flows.backfill import backfill_corpus
    from flows.clean_corpus import clean_corpus

    # Module entry points: a run starts from the installed package, whatever the working directory.
    return [
        clean_corpus.to_deployment(
            name=SCHEDULED, schedules=[Cron(cron, timezone=timezone)], parameters=params, concurrency_limit=1,
            description="Clean every new raw file into the Parquet dataset.",
            entrypoint_type=EntrypointType.MODULE_PATH),
        backfill_corpus.to_deployment(
            name=BACKFILL, parameters=params,
            description="Clean again the raw files chosen by since/until/glob; force replaces their rows.",
            entrypoint_type=EntrypointType.MODULE_PATH),
    ]


def serve_corpus(params: dict, cron: str, timezone: str = "UTC") -> None:
    """Register the deployments and run their flow runs until interrupted (Ctrl-C)."""
    from prefect import serve
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        sys.exit("corpus-clean serve: no Prefect server. Start one (`prefect server start`) and set "
                 "PREFECT_API_URL (e.g. export PREFECT_API_URL=http://127.0.0.1:4200/api).")
    serve(*deployments(params, cron, timezone))
