"""The Parquet dataset under the output folder, and the commit protocol that keeps it whole.

Layout (all under OUT, any pyarrow filesystem URI or local path):

    documents/date=YYYY-MM-DD/<batch_id>.parquet   one row per document
    quarantine/date=YYYY-MM-DD/<batch_id>.parquet  one row per rejected file
    _state/manifest/<batch_id>.parquet             what each committed batch processed
    _state/<name>/<batch_id>.parquet               cross-run state a batch adds (dedup signatures,
                                                   site line evidence), committed with the batch
    _state/lock/<token>.json                       the run that holds the folder (flows.locking)

The dataset holds, for every source file, the rows of its latest processing
only. A batch that processes a file again (new content, a new pipeline
version, a forced backfill) supersedes its old rows: the data file that holds
them is rewritten without them and *with the new rows in their place*, and the
rewrite replaces it by one rename. Because a file's old and new rows live in
the same data file, a reader sees a file's old rows or its new rows, never
both and never neither (per source file; a reader that lists the folder while
a batch commits may see some files of that batch new and others still old).
The `date=` folder is the day a data file was first written; `processed_at`
says when each row was made.

A batch is committed in three steps. (1) Every file it writes (new data
files, rewrites of older ones, state tables) is written under a hidden
temporary name `.<name>.<batch_id>.tmp` beside its final name; dataset readers
(pyarrow, DuckDB `**/*.parquet`, Spark) skip them. (2) Its manifest, which
lists those (temporary, final) pairs in its Parquet metadata, is written and
renamed into place: the commit point. (3) The temporary files are renamed over
their final names. `recover()` at the start of every run renames the
temporaries of committed batches (their manifest exists and lists them) and
deletes every other temporary (a batch that never committed, a failed attempt
of a retried one). A run killed at any moment therefore leaves readers the
old consistent state, and after the next run neither a duplicate row nor a
lost file. Recovery and commits assume one writer at a time: `OutputStore.lock`.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyarrow import fs as pafs

from flows.locking import OutputLock

DOCUMENTS = "documents"
QUARANTINE = "quarantine"
STATE = "_state"
MANIFEST = f"{STATE}/manifest"
TMP_SUFFIX = ".tmp"
SQL_VARIABLES = 500  # source paths asked of the manifest index per query, well under SQLite's limit
# Parquet key-value metadata of a manifest file: JSON list of [temporary, final] paths relative to OUT.
STAGED_KEY = b"corpus_clean.staged"

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

# What a batch knows about each file it processed (`batch_output`) ...
MANIFEST_RECORD_SCHEMA = pa.schema([
    ("raw_sha256", pa.string()),  # "" when the file could not be read
    ("source_path", pa.string()),
    ("pipeline_version", pa.string()),
    ("n_docs", pa.int32()),
    ("quarantined", pa.bool_()),
    ("batch_id", pa.string()),
    ("run_id", pa.string()),
    ("size", pa.int64()),
    ("mtime", pa.float64()),  # st_mtime when read: with size, the cheap "unchanged since" check
])
# ... and what the commit adds: order, and where the file's rows now live (paths relative to OUT).
MANIFEST_SCHEMA = pa.schema([
    *MANIFEST_RECORD_SCHEMA,
    ("commit_seq", pa.int64()),
    ("documents_file", pa.string()),
    ("quarantine_file", pa.string()),
    ("data_files", pa.list_(pa.string())),
])


@dataclass(frozen=True, slots=True)
class Processed:
    """The latest committed processing of one source file."""

    raw_sha256: str
    pipeline_version: str
    size: int | None
    mtime: float | None
    documents_file: str | None
    quarantine_file: str | None

    def done_under(self, pipeline_version: str) -> bool:
        """Whether `pipeline_version` made the file's current rows (an unread file has no raw_sha256)."""
        return bool(self.raw_sha256) and self.pipeline_version == pipeline_version


class ManifestIndex:
    """The latest processing of every source file, from the manifest: what is done and where it lives.

    One row per source file ever processed, so it grows with the dataset: it is
    kept in a private temporary SQLite database (on disk, deleted when the index
    goes; SQLite caches a few MB of it), not in Python objects (about 250 bytes a
    file), so that a run's memory does not grow with the number of files. A
    row replaces the one of its source only if its commit is not older, so
    manifest files may be recorded in any order.
    """

    def __init__(self) -> None:
        self.next_seq = 0
        self._lock = threading.Lock()  # one connection; the flow's commits and plans may run on other threads
        self._db = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE latest (source_path TEXT PRIMARY KEY, raw_sha256 TEXT, pipeline_version TEXT,"
                         " size INTEGER, mtime REAL, documents_file TEXT, quarantine_file TEXT, commit_seq INTEGER)"
                         " WITHOUT ROWID")

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM latest").fetchone()[0]

    def record(self, manifest: pa.Table) -> None:
        """Take each manifest row as its source file's latest processing unless a later commit is recorded.

        Rows of one commit (or without `commit_seq`, written before it existed) are taken in table order.
        """
        columns = [manifest.column(name).to_pylist() for name in
                   ("source_path", "raw_sha256", "pipeline_version", "size", "mtime", "documents_file",
                    "quarantine_file")]
        seqs = (manifest.column("commit_seq").to_pylist() if "commit_seq" in manifest.column_names
                else [None] * manifest.num_rows)
        rows = zip(*columns, (-1 if seq is None else seq for seq in seqs))
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO latest VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_path) DO UPDATE SET"
                " raw_sha256 = excluded.raw_sha256, pipeline_version = excluded.pipeline_version,"
                " size = excluded.size, mtime = excluded.mtime, documents_file = excluded.documents_file,"
                " quarantine_file = excluded.quarantine_file, commit_seq = excluded.commit_seq"
                " WHERE excluded.commit_seq >= latest.commit_seq", rows)
            self._db.execute("COMMIT")
        if seqs:
            self.next_seq = max(self.next_seq, max((seq for seq in seqs if seq is not None), default=-1) + 1)

    def latest(self, sources: Iterable[str]) -> dict[str, Processed]:
        """The latest processing of each of `sources` that was processed."""
        found: dict[str, Processed] = {}
        sources = list(sources)
        with self._lock:
            for start in range(0, len(sources), SQL_VARIABLES):
                part = sources[start:start + SQL_VARIABLES]
                query = ("SELECT source_path, raw_sha256, pipeline_version, size, mtime, documents_file,"
                         f" quarantine_file FROM latest WHERE source_path IN ({','.join('?' * len(part))})")
                found.update((row[0], Processed(*row[1:])) for row in self._db.execute(query, part))
        return found

    def get(self, source_path: str) -> Processed | None:
        return self.latest([source_path]).get(source_path)

    def done(self, sources: Iterable[str], pipeline_version: str) -> dict[str, str]:
        """{source: raw_sha256} of those of `sources` whose current rows `pipeline_version` made."""
        return {source: p.raw_sha256 for source, p in self.latest(sources).items() if p.done_under(pipeline_version)}

    def unchanged(self, source_path: str, size: int, mtime: float, pipeline_version: str) -> bool:
        """True if the file was processed under `pipeline_version` and its size and mtime are the same.

        A cheap pre-check, so a scheduled run need not hash the whole raw folder; a file rewritten
        in place with the same size and mtime escapes it (use a content check, `rehash`, for that).
        """
        p = self.get(source_path)
        return p is not None and p.done_under(pipeline_version) and p.size == size and p.mtime == mtime


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with exactly `schema`'s columns: missing ones null (an older file), extra ones dropped."""
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


class OutputStore:
    """Reads and writes the dataset under one output folder through pyarrow's filesystem layer."""

    def __init__(self, out: str, filesystem: pafs.FileSystem | None = None):
        if filesystem is not None:
            self.fs, root = filesystem, out
        elif "://" in out:
            self.fs, root = pafs.FileSystem.from_uri(out)
        else:
            self.fs, root = pafs.LocalFileSystem(), out
        self.root = root.rstrip("/")
        self._index: ManifestIndex | None = None

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def relative(self, path: str) -> str:
        return path[len(self.root) + 1:]

    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def _list(self, folder: str) -> list[pafs.FileInfo]:
        if not self.exists(self.path(folder)):
            return []
        selector = pafs.FileSelector(self.path(folder), recursive=True)
        return [i for i in self.fs.get_file_info(selector) if i.type == pafs.FileType.File]

    def lock(self, run_id: str, **options) -> OutputLock:
        """The lock a run holds while it recovers and commits (see `flows.locking`)."""
        return OutputLock(self.fs, self.root, run_id, **options)

    def write_table_atomic(self, table: pa.Table, final_path: str, tag: str | None = None) -> str:
        """Write to a hidden temporary name beside `final_path`; return that name (not yet renamed).

        `tag` (the committing batch's id) goes into the name so that `recover()` can find the
        manifest that decides the temporary's fate; untagged temporaries are always dropped.
        """
        folder, name = final_path.rsplit("/", 1)
        self.fs.create_dir(folder, recursive=True)
        tmp = f"{folder}/.{name}.{tag or 'untagged'}{TMP_SUFFIX}"
        with self.fs.open_output_stream(tmp) as sink:
            pq.write_table(table, sink, compression="zstd")
        return tmp

    def index(self) -> ManifestIndex:
        """The manifest's latest processing per source file (read once, kept current by commits)."""
        if self._index is None:
            self._index = self._load_index()
        return self._index

    def _load_index(self) -> ManifestIndex:
        """Every committed manifest row, a record batch at a time (the manifest grows with the dataset)."""
        index = ManifestIndex()
        files = self._data_files(MANIFEST)
        if files:
            dataset = ds.dataset(files, format="parquet", filesystem=self.fs, schema=MANIFEST_SCHEMA)
            for batch in dataset.to_batches(columns=[f.name for f in MANIFEST_SCHEMA if f.name != "data_files"]):
                index.record(pa.Table.from_batches([batch]))
        return index

    def _rewrite(self, new_rows: pa.Table, homes: dict[str, str], own_file: str, schema: pa.Schema,
                 sources: set[str]) -> tuple[dict[str, pa.Table], dict[str, str]]:
        """Place a batch's rows of one table: ({final path: full new content}, {source: final path}).

        A source whose old rows live in an existing data file gets its new rows in that file, which
        is rewritten without the old rows of any source of this batch; other sources go to `own_file`.
        """
        targets = {source: home if self.exists(home) else own_file for source, home in homes.items()}
        new_sources = new_rows.column("source_path").to_pylist()
        placed: dict[str, list[int]] = {}
        for row, source in enumerate(new_sources):
            placed.setdefault(targets.get(source, own_file), []).append(row)
        contents: dict[str, pa.Table] = {}
        drop = pa.array(sorted(sources), pa.string())
        for old in sorted({t for t in targets.values() if t != own_file}):
            kept = pq.read_table(old, filesystem=self.fs)
            kept = _conform(kept.filter(pc.invert(pc.is_in(kept.column("source_path"), value_set=drop))), schema)
            contents[old] = pa.concat_tables([kept, new_rows.take(pa.array(placed.get(old, []), pa.int64()))])
        if placed.get(own_file):
            contents[own_file] = new_rows.take(pa.array(placed[own_file], pa.int64()))
        return contents, {source: target for target, rows in placed.items()
                          for source in (new_sources[r] for r in rows)}

    def commit_batch(self, batch: "BatchOutput") -> None:
        """Write a batch's tables and manifest so that it is visible whole or not at all.

        Files the batch processes again have their old rows replaced (see the module docstring).
        Safe to repeat after a failure at any step: the same batch gives the same files.
        """
        index = self.index()
        sources = set(batch.manifest.column("source_path").to_pylist())
        previous = index.latest(sources)
        staged: dict[str, pa.Table] = {}  # final path -> content
        placement: dict[str, dict[str, str]] = {}
        for name, table, schema, home_of in (
                (DOCUMENTS, batch.documents, DOCUMENT_SCHEMA, lambda p: p.documents_file),
                (QUARANTINE, batch.quarantine, QUARANTINE_SCHEMA, lambda p: p.quarantine_file)):
            homes = {s: self.path(home_of(p)) for s, p in previous.items() if home_of(p)}
            own = self.path(name, f"date={batch.date}", f"{batch.batch_id}.parquet")
            contents, placement[name] = self._rewrite(table, homes, own, schema, sources)
            staged.update(contents)
        for name, table in batch.state.items():
            staged[self.path(STATE, name, f"{batch.batch_id}.parquet")] = table
        pairs = [(self.write_table_atomic(table, final, batch.batch_id), final) for final, table in staged.items()]

        def located(name: str) -> pa.Array:
            return pa.array([self.relative(placement[name][s]) if s in placement[name] else None
                             for s in batch.manifest.column("source_path").to_pylist()], pa.string())

        n = batch.manifest.num_rows
        manifest = _conform(batch.manifest, MANIFEST_RECORD_SCHEMA)
        for column, values in (("commit_seq", pa.array([index.next_seq] * n, pa.int64())),
                               ("documents_file", located(DOCUMENTS)),
                               ("quarantine_file", located(QUARANTINE)),
                               ("data_files", pa.array([[self.relative(f) for _, f in pairs]] * n,
                                                       pa.list_(pa.string())))):
            manifest = manifest.append_column(column, values)
        staged_json = json.dumps([[self.relative(t), self.relative(f)] for t, f in pairs]).encode()
        manifest = manifest.replace_schema_metadata({STAGED_KEY: staged_json})
        final = self.path(MANIFEST, f"{batch.batch_id}.parquet")
        self.fs.move(self.write_table_atomic(manifest, final, batch.batch_id), final)  # the commit point
        for tmp, final_data in pairs:
            self.fs.move(tmp, final_data)
        index.record(manifest)

    def _staged_by(self, batch_id: str) -> dict[str, str] | None:
        """{temporary: final} (absolute) that a committed batch's manifest lists; None if not committed."""
        manifest = self.path(MANIFEST, f"{batch_id}.parquet")
        if not self.exists(manifest):
            return None
        with self.fs.open_input_file(manifest) as source:
            metadata = pq.read_schema(source).metadata or {}
        return {self.path(t): self.path(f) for t, f in json.loads(metadata.get(STAGED_KEY, b"[]"))}

    def recover(self) -> dict[str, int]:
        """Finish committed batches and drop every other temporary left by a killed run.

        Only for the holder of the lock: a temporary of a batch being committed by a live run
        would look abandoned.
        """
        self._index = None
        finished = dropped = 0
        committed: dict[str, dict[str, str] | None] = {}
        for folder in (DOCUMENTS, QUARANTINE, STATE):
            for info in self._list(folder):
                if not (info.base_name.startswith(".") and info.base_name.endswith(TMP_SUFFIX)):
                    continue
                batch_id = info.base_name[:-len(TMP_SUFFIX)].rsplit(".", 1)[-1]
                if batch_id not in committed:
                    committed[batch_id] = self._staged_by(batch_id)
                final = (committed[batch_id] or {}).get(info.path)
                if final:
                    self.fs.move(info.path, final)
                    finished += 1
                else:
                    self.fs.delete_file(info.path)
                    dropped += 1
        return {"finished": finished, "dropped": dropped}

    def read(self, folder: str, columns: list[str] | None = None, schema: pa.Schema | None = None) -> pa.Table:
        """Every committed row of one table (documents, quarantine or a state table).

        With `schema`, files written before a column existed read that column as null.
        """
        files = self._data_files(folder)
        if not files:
            return schema.empty_table() if schema is not None else pa.table({})
        dataset = ds.dataset(files, format="parquet", filesystem=self.fs, schema=schema)
        return dataset.to_table(columns=columns)

    def _data_files(self, folder: str) -> list[str]:
        """The committed data files under `folder` (not temporaries, not `_`-prefixed metadata)."""
        return [i.path for i in self._list(folder)
                if i.base_name.endswith(".parquet") and not i.base_name.startswith((".", "_"))]

    def read_state(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """The rows of one cross-run state table (`_state/<name>/`), committed batches only."""
        return self.read(f"{STATE}/{name}", columns)

    def iter_state(self, name: str, columns: list[str], batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
        """The rows of one state table a record batch at a time, file by file in path order.

        For state that grows with the dataset (the dedup signatures): it need not fit in memory
        at once, and two passes see the same rows in the same order.
        """
        files = sorted(self._data_files(f"{STATE}/{name}"))
        if not files:
            return
        dataset = ds.dataset(files, format="parquet", filesystem=self.fs)
        for fragment in dataset.get_fragments():
            yield from fragment.to_batches(schema=dataset.schema, columns=columns, batch_size=batch_rows)


@dataclass
class BatchOutput:
    """Everything one batch adds to the dataset, ready to commit."""

    batch_id: str
    date: str
    documents: pa.Table
    quarantine: pa.Table
    manifest: pa.Table  # MANIFEST_RECORD_SCHEMA: one row per processed file
    state: dict[str, pa.Table] = field(default_factory=dict)  # name -> rows for _state/<name>/


# The document columns `batch_output` fills value by value; "removed" and "repairs" are `ListColumn`s.
SCALAR_DOCUMENT_COLUMNS = tuple(name for name in DOCUMENT_SCHEMA.names if name not in ("removed", "repairs"))


class ListColumn:
    """A column of lists of structs, built from each row's field values as flat arrays and offsets."""

    def __init__(self, type_: pa.ListType):
        self.type = type_
        self.fields: list[list] = [[] for _ in range(type_.value_type.num_fields)]
        self.offsets = [0]

    def add(self, items: Sequence[tuple]) -> None:
        """One row: its list's items, each a tuple of the struct's field values in field order."""
        for column, values in zip(self.fields, zip(*items)):
            column.extend(values)
        self.offsets.append(self.offsets[-1] + len(items))

    def array(self) -> pa.ListArray:
        struct = self.type.value_type
        children = [pa.array(column, struct.field(i).type) for i, column in enumerate(self.fields)]
        return pa.ListArray.from_arrays(pa.array(self.offsets, pa.int32()),
                                        pa.StructArray.from_arrays(children, fields=list(struct)))


def batch_output(records, *, batch_id: str, run_id: str, pipeline_version: str, processed_at,
                 duplicate_of: dict[str, str] | None = None) -> BatchOutput:
    """Arrow tables for a batch of `flows.batch.FileRecord`s, one of which becomes its manifest.

    Every record gets a manifest row, unreadable files too (raw_sha256 ""), so that their
    quarantine row is replaced rather than repeated when a later run tries them again.
    """
    duplicate_of = duplicate_of or {}
    docs: dict[str, list] = {name: [] for name in SCALAR_DOCUMENT_COLUMNS}
    # A document's removals and repairs go into flat columns with offsets: one Python dict per
    # removal, converted by Arrow one by one, cost as much as writing the batch.
    removed = ListColumn(REMOVED_TYPE)
    repairs = ListColumn(REPAIRS_TYPE)
    quarantine: dict[str, list] = {name: [] for name in QUARANTINE_SCHEMA.names}
    manifest: dict[str, list] = {name: [] for name in MANIFEST_RECORD_SCHEMA.names}
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
                    "duplicate_of": duplicate_of.get(doc_id), "pipeline_version": pipeline_version,
                    "run_id": run_id, "processed_at": processed_at,
                }
                for name in SCALAR_DOCUMENT_COLUMNS:
                    docs[name].append(row[name])
                removed.add([(r.text, r.rule) for r in doc.removed])
                repairs.add(doc.repairs)
        for name, value in (("raw_sha256", record.raw_sha256), ("source_path", source),
                            ("pipeline_version", pipeline_version),
                            ("n_docs", 0 if outcome.quarantine_reason else len(outcome.docs)),
                            ("quarantined", bool(outcome.quarantine_reason)), ("batch_id", batch_id),
                            ("run_id", run_id), ("size", record.file.size), ("mtime", record.file.mtime)):
            manifest[name].append(value)
    return BatchOutput(
        batch_id=batch_id,
        date=processed_at.strftime("%Y-%m-%d"),
        documents=pa.table({**docs, "removed": removed.array(), "repairs": repairs.array()}, schema=DOCUMENT_SCHEMA),
        quarantine=pa.table(quarantine, schema=QUARANTINE_SCHEMA),
        manifest=pa.table(manifest, schema=MANIFEST_RECORD_SCHEMA),
    )
