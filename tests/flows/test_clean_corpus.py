"""The clean-corpus flow end to end: real files in, real Parquet out, read back with pyarrow and DuckDB."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from flows.batch import RAW_SUFFIXES
from flows.clean_corpus import clean_corpus
from flows.storage import DOCUMENT_SCHEMA, QUARANTINE_SCHEMA
from tests.conftest import RAW_SAMPLE


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """The shipped sample plus one file for every quarantine reason."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW_SAMPLE, raw)
    bad = raw / "2026-11-23"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "undecodable.txt").write_bytes(bytes((i * 97 + 13) % 128 + 128 for i in range(3000)))
    (bad / "huge.txt").write_bytes("很长的文件。".encode("utf-8") * 200_000)  # 3.6 MB
    (bad / "chrome_only.html").write_text("<html><body><nav>首页 登录</nav></body></html>", encoding="utf-8")
    (bad / "ignored.pdf").write_bytes(b"%PDF-1.4")  # not a raw suffix (nor is raw/README.md): never looked at
    return raw


def _table(out: Path, name: str):
    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table()


def test_flow_writes_documents_and_quarantine_and_accounts_for_every_file(prefect_harness, raw_dir, tmp_path):
    out = tmp_path / "out"
    summary = clean_corpus(raw=str(raw_dir), out=str(out), batch_files=4, max_file_bytes=2 * 1024 * 1024)

    docs = _table(out, "documents")
    quarantine = _table(out, "quarantine")
    assert docs.schema.remove(docs.schema.get_field_index("date")) == DOCUMENT_SCHEMA
    assert quarantine.schema.remove(quarantine.schema.get_field_index("date")) == QUARANTINE_SCHEMA

    files = {p.relative_to(raw_dir).as_posix() for p in raw_dir.rglob("*") if p.is_file() and p.suffix in RAW_SUFFIXES}
    with_docs = set(docs.column("source_path").to_pylist())
    quarantined = quarantine.column("source_path").to_pylist()
    assert len(quarantined) == len(set(quarantined))  # exactly one row per quarantined file
    assert with_docs | set(quarantined) == files and not with_docs & set(quarantined)
    assert summary["files"] == len(files) and summary["quarantined"] == len(quarantined)

    reasons = dict(zip(quarantined, quarantine.column("reason").to_pylist()))
    assert reasons["2026-11-23/empty.txt"] == "empty"
    assert reasons["2026-11-23/undecodable.txt"].startswith("undecodable")
    assert reasons["2026-11-23/huge.txt"].startswith("oversize")
    assert reasons["2026-11-23/chrome_only.html"].startswith("no_content")
    assert reasons["2026-11-22/scan_upload.txt"] == "binary: pdf"

    rows = {(r["source_path"], r["part_index"]): r for r in docs.to_pylist()}
    big5 = rows[("2026-11-21/tw_speech.big5.txt", 0)]
    assert big5["encoding"] == "cp950" and "各位同仁" in big5["text"]
    html = rows[("2026-11-22/gongxun_000.html", 0)]
    assert html["site"] == "gongxun.example" and html["encoding"] == "gb18030"
    assert any(r["rule"].startswith("html:") for r in html["removed"])
    assert rows[("2026-11-20/000_50c214c9408719a2.txt", 0)]["site"] is None  # date folders are not sites
    assert all(r["n_chars"] == len(r["text"]) and len(r["raw_sha256"]) == 64 for r in rows.values())


def test_rerun_processes_nothing_new_and_duckdb_reads_the_dataset(prefect_harness, raw_dir, tmp_path):
    out = tmp_path / "out"
    first = clean_corpus(raw=str(raw_dir), out=str(out))
    second = clean_corpus(raw=str(raw_dir), out=str(out))
    assert second["skipped"] == first["files"]  # documents and quarantined files alike are done
    assert second["documents"] == second["quarantined"] == 0

    count, sources = duckdb.sql(
        f"SELECT count(*), count(DISTINCT source_path) FROM read_parquet('{out}/documents/**/*.parquet', "
        "hive_partitioning = true)").fetchall()[0]
    assert count == first["documents"]
    assert sources == first["files_with_documents"]


def test_output_folder_holds_no_temporary_files_after_a_run(prefect_harness, raw_dir, tmp_path):
    out = tmp_path / "out"
    clean_corpus(raw=str(raw_dir), out=str(out), batch_files=3)
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]
    assert leftovers == []
