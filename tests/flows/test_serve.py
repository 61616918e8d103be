"""`corpus-clean serve` against a real Prefect server: deployments registered with their schedule, and
runs started with parameters (as from the UI or `prefect deployment run`) complete and publish artifacts."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.flows.operations import PREFECT, document_rows, generate_corpus, prefect_server, read_table, start_cli

CRON = "17 3 * * *"


def _prefect(*args: str, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([PREFECT, *args], env=env, capture_output=True, text=True, timeout=timeout)


def _deployment_ready(name: str, env: dict, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while _prefect("deployment", "inspect", name, env=env).returncode != 0:
        assert server.poll() is None, server.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"{name} was not registered"
        time.sleep(0.5)


@pytest.fixture
def served(tmp_path):
    """`corpus-clean serve` running for the test, with a schedule that will not fire during it."""
    env = prefect_server()
    raw, out = generate_corpus(tmp_path / "raw", files=30), tmp_path / "out"
    server = start_cli("serve", "--raw", str(tmp_path / "default-raw"), "--out", str(tmp_path / "default-out"),
                       "--cron", CRON, env=env)
    try:
        _deployment_ready("clean-corpus/scheduled", env, server)
        _deployment_ready("backfill-corpus/backfill", env, server)
        yield env, raw, out
    finally:
        server.terminate()
        server.wait(timeout=30)


def _artifacts(env: dict, flow_run_id: str) -> dict[str, str]:
    """{artifact type: key} of one flow run, read with the Prefect client."""
    code = ("import asyncio, sys\n"
            "from prefect.client.orchestration import get_client\n"
            "from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId\n"
            "async def main():\n"
            "    async with get_client() as client:\n"
            "        found = await client.read_artifacts(artifact_filter=ArtifactFilter(\n"
            f"            flow_run_id=ArtifactFilterFlowRunId(any_=['{flow_run_id}'])))\n"
            "        for a in found: print(a.type, a.key)\n"
            "asyncio.run(main())\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(line.split(" ", 1) for line in done.stdout.split("\n") if line)


def _flow_run_id(output: str) -> str:
    for line in output.splitlines():
        if "UUID:" in line:
            return line.split("UUID:", 1)[1].strip()
    raise AssertionError(f"no flow run id in:\n{output}")


def test_served_deployments_run_with_parameters_and_complete(served):
    env, raw, out = served
    schedule = _prefect("deployment", "inspect", "clean-corpus/scheduled", env=env)
    assert CRON in schedule.stdout

    scheduled = _prefect("deployment", "run", "clean-corpus/scheduled", "--param", f"raw={raw}",
                         "--param", f"out={out}", "--param", "batch_files=8", "--watch", env=env)
    assert scheduled.returncode == 0 and "Completed" in scheduled.stdout, scheduled.stdout[-3000:]
    rows = document_rows(out)
    files = {p.relative_to(raw).as_posix() for p in raw.rglob("page*")}
    assert {s for s, _, _ in rows} | set(read_table(out, "quarantine").column("source_path").to_pylist()) == files
    artifacts = _artifacts(env, _flow_run_id(scheduled.stdout))
    assert artifacts == {"table": "clean-corpus-table", "markdown": "clean-corpus-summary"}

    before = set(read_table(out, "documents").column("run_id").to_pylist())
    backfill = _prefect("deployment", "run", "backfill-corpus/backfill", "--param", f"raw={raw}",
                        "--param", f"out={out}", "--param", "glob=2026-11-01/*", "--param", "force=true",
                        "--watch", env=env)
    assert backfill.returncode == 0 and "Completed" in backfill.stdout, backfill.stdout[-3000:]
    docs = read_table(out, "documents")
    replaced = {s for s, r in zip(docs.column("source_path").to_pylist(), docs.column("run_id").to_pylist())
                if r not in before}
    assert replaced and all(s.startswith("2026-11-01/") for s in replaced)
    assert document_rows(out) == rows
