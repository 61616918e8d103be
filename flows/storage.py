"""The Parquet dataset under the output folder, and the commit protocol that keeps it whole.

Layout (all under OUT, any pyarrow filesystem URI or local path):

    documents/date=YYYY-MM-DD/<batch_id>.parquet   one row per document
    quarantine/date=YYYY-MM-DD/<batch_id>.parquet  one row per rejected file
    _state/manifest/<batch_id>.parquet             what each committed batch processed
    _state/<name>/<batch_id>.parquet               cross-run state a batch adds (dedup signatures,
                                                   site line evidence), committed with the batch

A batch is committed in three steps: its data files are written under hidden
temporary names (`.<batch_id>.parquet.tmp`, which dataset readers skip), then
its manifest is written (temp name, rename: the commit point), then the data
files are renamed into place. `recover()` at the start of every run finishes
committed batches whose renames did not happen and deletes the temporary
files of batches that never committed. A run killed at any moment therefore
leaves no half file visible and, after the next run, neither a duplicate
row nor a lost file.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyarrow import fs as pafs

DOCUMENTS = "documents"
QUARANTINE = "quarantine"
STATE = "_state"
MANIFEST = f"{STATE}/manifest"
TMP_SUFFIX = ".tmp"

REMOVED_TYPE = pa.list_(pa.struct([("text", pa.string()), ("rule", pa.string())]))
REPAIRS_TYPE = pa.list_(pa.struct([("from", pa.string()), ("to", pa.string()), ("count", pa.int32())]))

DOCUMENT_SCHEMA = pa.schema([
    ("doc_id", pa.string()),
    ("source_path", pa.string()),
    ("part_index", pa.int32()),
    ("title", pa.string()),
    ("text", pa.string()),
    ("n_chars", pa.int32()),
    ("encoding", pa.string()),
    ("encoding_confidence", pa.float32()),
    ("site", pa.string()),
    ("raw_sha256", pa.string()),
    ("removed", REMOVED_TYPE),
    ("repairs", REPAIRS_TYPE),
    ("duplicate_of", pa.string()),
    ("pipeline_version", pa.string()),
    ("run_id", pa.string()),
    ("processed_at", pa.timestamp("us", tz="UTC")),
])

QUARANTINE_SCHEMA = pa.schema([
    ("source_path", pa.string()),
    ("raw_sha256", pa.string()),
    ("size", pa.int64()),
    ("reason", pa.string()),
    ("run_id", pa.string()),
    ("pipeline_version", pa.string()),
    ("processed_at", pa.timestamp("us", tz="UTC")),
])

MANIFEST_SCHEMA = pa.schema([
    ("raw_sha256", pa.string()),
    ("source_path", pa.string()),
    ("pipeline_version", pa.string()),
    ("n_docs", pa.int32()),
    ("quarantined", pa.bool_()),
    ("batch_id", pa.string()),
    ("run_id", pa.string()),
    ("data_files", pa.list_(pa.string())),
])


class OutputStore:
    """Reads and writes the dataset under one output folder through pyarrow's filesystem layer."""

    def __init__(self, out: str):
        self.fs, root = pafs.FileSystem.from_uri(out) if "://" in out else (pafs.LocalFileSystem(), out)
        self.root = root.rstrip("/")

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def _list(self, folder: str) -> list[pafs.FileInfo]:
        if not self.exists(self.path(folder)):
            return []
        selector = pafs.FileSelector(self.path(folder), recursive=True)
        return [i for i in self.fs.get_file_info(selector) if i.type == pafs.FileType.File]

    def write_table_atomic(self, table: pa.Table, final_path: str) -> str:
        """Write to a hidden temporary name beside `final_path`; return that name (not yet renamed)."""
        folder, name = final_path.rsplit("/", 1)
        self.fs.create_dir(folder, recursive=True)
        tmp = f"{folder}/.{name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"
        with self.fs.open_output_stream(tmp) as sink:
            pq.write_table(table, sink, compression="zstd")
        return tmp

    def commit_batch(self, batch: "BatchOutput") -> None:
        """Write a batch's tables and manifest so that it is visible whole or not at all."""
        staged: list[tuple[str, str]] = []
        for table, folder in ((batch.documents, DOCUMENTS), (batch.quarantine, QUARANTINE)):
            if table.num_rows:
                final = self.path(folder, f"date={batch.date}", f"{batch.batch_id}.parquet")
                staged.append((self.write_table_atomic(table, final), final))
        for name, table in batch.state.items():
            final = self.path(STATE, name, f"{batch.batch_id}.parquet")
            staged.append((self.write_table_atomic(table, final), final))
        manifest = batch.manifest.append_column(
            "data_files", pa.array([[f for _, f in staged]] * batch.manifest.num_rows, pa.list_(pa.string())))
        final = self.path(MANIFEST, f"{batch.batch_id}.parquet")
        self.fs.move(self.write_table_atomic(manifest, final), final)  # the commit point
        for tmp, final_data in staged:
            self.fs.move(tmp, final_data)

    def recover(self) -> dict[str, int]:
        """Finish committed batches and drop uncommitted temporaries left by a killed run."""
        committed: dict[str, str] = {}
        for info in self._list(MANIFEST):
            if info.base_name.endswith(".parquet") and not info.base_name.startswith("."):
                table = pq.read_table(info.path, columns=["data_files"], filesystem=self.fs)
                for files in table.column("data_files").to_pylist()[:1]:
                    for final in files:
                        committed[final] = info.path
        finished = dropped = 0
        for folder in (DOCUMENTS, QUARANTINE, STATE):
            for info in self._list(folder):
                if not info.base_name.endswith(TMP_SUFFIX):
                    continue
                name = info.base_name[1:].rsplit(".", 2)[0]  # ".<name>.<rand>.tmp" -> "<name>"
                final = f"{info.path.rsplit('/', 1)[0]}/{name}"
                if final in committed and not self.exists(final):
                    self.fs.move(info.path, final)
                    finished += 1
                else:
                    self.fs.delete_file(info.path)
                    dropped += 1
        return {"finished": finished, "dropped": dropped}

    def read(self, folder: str, columns: list[str] | None = None) -> pa.Table:
        """Every committed row of one table (documents, quarantine or a state table)."""
        files = [i.path for i in self._list(folder)
                 if i.base_name.endswith(".parquet") and not i.base_name.startswith((".", "_"))]
        if not files:
            return pa.table({})
        dataset = ds.dataset(files, format="parquet", filesystem=self.fs)
        return dataset.to_table(columns=columns)

    def read_state(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """The rows of one cross-run state table (`_state/<name>/`), committed batches only."""
        return self.read(f"{STATE}/{name}", columns)

    def processed(self, pipeline_version: str) -> set[str]:
        """raw_sha256 of every file a committed batch processed under `pipeline_version`."""
        table = self.read(MANIFEST, ["raw_sha256", "pipeline_version"])
        if not table.num_rows:
            return set()
        return {sha for sha, version in zip(table.column("raw_sha256").to_pylist(),
                                            table.column("pipeline_version").to_pylist())
                if version == pipeline_version}


@dataclass
class BatchOutput:
    """Everything one batch adds to the dataset, ready to commit."""

    batch_id: str
    date: str
    documents: pa.Table
    quarantine: pa.Table
    manifest: pa.Table  # MANIFEST_SCHEMA without data_files
    state: dict[str, pa.Table] = field(default_factory=dict)  # name -> rows for _state/<name>/


def batch_output(records, *, batch_id: str, run_id: str, pipeline_version: str, processed_at,
                 duplicate_of: dict[str, str] | None = None) -> BatchOutput:
    """Arrow tables for a batch of `flows.batch.FileRecord`s, one of which becomes its manifest."""
    duplicate_of = duplicate_of or {}
    docs: dict[str, list] = {name: [] for name in DOCUMENT_SCHEMA.names}
    quarantine: dict[str, list] = {name: [] for name in QUARANTINE_SCHEMA.names}
    manifest: dict[str, list] = {name: [] for name in MANIFEST_SCHEMA.names if name != "data_files"}
    for record in records:
        outcome, source = record.outcome, record.file.source_path
        if outcome.quarantine_reason:
            for name, value in (("source_path", source), ("raw_sha256", record.raw_sha256),
                                ("size", record.file.size), ("reason", outcome.quarantine_reason),
                                ("run_id", run_id), ("pipeline_version", pipeline_version),
                                ("processed_at", processed_at)):
                quarantine[name].append(value)
        else:
            for doc in outcome.docs:
                doc_id = doc.doc_id(source)
                row = {
                    "doc_id": doc_id, "source_path": source, "part_index": doc.part_index,
                    "title": doc.title, "text": doc.text, "n_chars": len(doc.text),
                    "encoding": outcome.encoding, "encoding_confidence": outcome.encoding_confidence,
                    "site": outcome.site, "raw_sha256": record.raw_sha256,
                    "removed": [{"text": r.text, "rule": r.rule} for r in doc.removed],
                    "repairs": [{"from": w, "to": r, "count": n} for w, r, n in doc.repairs],
                    "duplicate_of": duplicate_of.get(doc_id), "pipeline_version": pipeline_version,
                    "run_id": run_id, "processed_at": processed_at,
                }
                for name in DOCUMENT_SCHEMA.names:
                    docs[name].append(row[name])
        if record.raw_sha256:
            for name, value in (("raw_sha256", record.raw_sha256), ("source_path", source),
                                ("pipeline_version", pipeline_version), ("n_docs", len(outcome.docs)
                                                                          if not outcome.quarantine_reason else 0),
                                ("quarantined", bool(outcome.quarantine_reason)), ("batch_id", batch_id),
                                ("run_id", run_id)):
                manifest[name].append(value)
    manifest_schema = pa.schema([f for f in MANIFEST_SCHEMA if f.name != "data_files"])
    return BatchOutput(
        batch_id=batch_id,
        date=processed_at.strftime("%Y-%m-%d"),
        documents=pa.table(docs, schema=DOCUMENT_SCHEMA),
        quarantine=pa.table(quarantine, schema=QUARANTINE_SCHEMA),
        manifest=pa.table(manifest, schema=manifest_schema),
    )
