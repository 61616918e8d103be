"""Shared set-up of the operations tests: a real Prefect server, a generated corpus, the real CLI.

The server is started once per test session, however many test modules use
it (a module-level singleton rather than a fixture, because a session fixture
imported into several modules would start one server per module).
"""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from tests.conftest import FIXTURES

VENV_BIN = Path(sys.executable).parent
CLI = str(VENV_BIN / "corpus-clean")
PREFECT = str(VENV_BIN / "prefect")
SERVER_START_SECONDS = 180

_server: dict[str, object] = {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(home: str) -> dict[str, str]:
    """A quiet, telemetry-free Prefect environment with its own PREFECT_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=home, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_LOGGING_LEVEL="WARNING", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
    return env


def prefect_server() -> dict[str, str]:
    """Environment of clients of the session's Prefect server (127.0.0.1, SQLite, temporary home)."""
    if "env" not in _server:
        home = tempfile.mkdtemp(prefix="prefect-home-")
        port = _free_port()
        env = base_env(home)
        log = open(Path(home) / "server.log", "w")
        process = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)

        def stop() -> None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            shutil.rmtree(home, ignore_errors=True)

        atexit.register(stop)
        url = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prefect server did not start:\n{(Path(home) / 'server.log').read_text()[-3000:]}")
            time.sleep(0.3)
        _server["env"] = {**env, "PREFECT_API_URL": url}
    return dict(_server["env"])


def cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `corpus-clean ARGS` to completion."""
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


def start_cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _paragraphs() -> list[str]:
    lines: list[str] = []
    for path in sorted((FIXTURES / "clean").glob("*.txt")):
        lines += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 30]
    return lines


def generate_corpus(root: Path, files: int = 120) -> Path:
    """A deterministic raw folder: `files` pages over date folders and sites, in UTF-8, GB18030 and HTML.

    Every page is a distinct excerpt of the clean reports (with its own numbered line) so that no
    two are duplicates; one in forty is empty, which gives quarantine rows too.
    """
    paragraphs = _paragraphs()
    for n in range(files):
        folder = root / f"2026-11-{1 + n % 4:02d}" / f"site{n % 3}.example"
        folder.mkdir(parents=True, exist_ok=True)
        start = (n * 7) % (len(paragraphs) - 6)
        body = [f"第{n}号文件：关于{n}项工作的说明"] + paragraphs[start:start + 3 + n % 4]
        if n % 40 == 39:
            (folder / f"page{n:04d}.txt").write_bytes(b"")
        elif n % 5 == 0:
            html = "".join(f"<p>{line}</p>" for line in body)
            (folder / f"page{n:04d}.html").write_text(
                f"<html><head><title>{body[0]}</title></head><body><h1>{body[0]}</h1>{html}</body></html>",
                encoding="utf-8")
        elif n % 5 == 1:
            (folder / f"page{n:04d}.txt").write_bytes("\n".join(body).encode("gb18030"))
        else:
            (folder / f"page{n:04d}.txt").write_text("\n".join(body), encoding="utf-8")
    return root


def read_table(out: Path, name: str) -> pa.Table:
    folder = out / name
    if not folder.exists():
        return pa.table({"source_path": pa.array([], pa.string())})
    return ds.dataset(folder, format="parquet", partitioning="hive").to_table()


def document_rows(out: Path) -> list[tuple[str, int, str]]:
    """(source_path, part_index, text) of every document row, sorted, duplicates kept."""
    table = read_table(out, "documents")
    return sorted(zip(*(table.column(c).to_pylist() for c in ("source_path", "part_index", "text"))))


def quarantine_rows(out: Path) -> list[tuple[str, str]]:
    table = read_table(out, "quarantine")
    if not table.num_rows:
        return []
    return sorted(zip(table.column("source_path").to_pylist(), table.column("reason").to_pylist()))


def temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def reference_run(batch_files: int = 5) -> tuple[Path, Path]:
    """(raw, out) of one uninterrupted sequential run over the generated corpus, made once per session."""
    if "reference" not in _server:
        root = Path(tempfile.mkdtemp(prefix="corpus-reference-"))
        atexit.register(shutil.rmtree, root, True)
        raw, out = generate_corpus(root / "raw"), root / "out"
        done = cli("run", "--raw", str(raw), "--out", str(out), "--batch-files", str(batch_files),
                   env=prefect_server())
        assert done.returncode == 0, done.stderr[-3000:]
        _server["reference"] = (raw, out)
    return _server["reference"]
