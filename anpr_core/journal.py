"""The durable hand-off between camera workers and the indexer.

A journal is a directory of append-only segment files. Each record is one line:
``<crc32 hex> <json>\\n``. ``append`` returns only after the line is fsync'd, so a read counts
as accepted only once it is on disk. Consumers keep their position (segment, byte offset) in
a small file replaced atomically (write, fsync, rename) and move it only after they have
handled a batch, so a crash replays at most the last batch; downstream idempotency (the read
id is the document id) turns the replay into a no-op.

A torn final line (the writer crashed mid-write) or a line whose checksum or JSON is wrong is
moved to ``quarantine.jsonl`` with its reason and counted; it never blocks the records behind it.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

SEGMENT_PREFIX = "seg-"
SEGMENT_SUFFIX = ".jsonl"
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024


def _segment_name(number: int) -> str:
    return f"{SEGMENT_PREFIX}{number:012d}{SEGMENT_SUFFIX}"


def _segments(directory: Path) -> list[int]:
    return sorted(
        int(p.name[len(SEGMENT_PREFIX) : -len(SEGMENT_SUFFIX)])
        for p in directory.glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}")
    )


def encode_record(payload: str) -> bytes:
    data = payload.encode("utf-8")
    return f"{zlib.crc32(data):08x} ".encode() + data + b"\n"


# Reads are personal data: only the service user may open the journal (issue 22).
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def private_directory(directory: Path) -> None:
    """Create `directory` (and missing parents) for the service user only; tighten it if it exists."""
    directory.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(directory, PRIVATE_DIR)


def _open_private(path: Path, mode: str) -> Any:
    flags = os.O_CREAT | (os.O_RDWR if "+" in mode else os.O_WRONLY) | os.O_APPEND
    return os.fdopen(os.open(path, flags, PRIVATE_FILE), mode)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ReadJournal:
    """Appends records durably. Safe across threads and processes sharing the directory."""

    def __init__(self, directory: Path, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        private_directory(directory)
        self._lock = threading.Lock()
        self._lock_file = _open_private(directory / ".append.lock", "a+b")

    def append(self, record: Any) -> None:
        """Write one record (a pydantic model or a JSON-able dict) and fsync it."""
        self.append_many([record])

    def append_many(self, records: list[Any]) -> None:
        """Group commit: one fsync for several records; all are durable when this returns."""
        payload = b"".join(encode_record(_to_json(r)) for r in records)
        with self._lock:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                segments = _segments(self.directory)
                number = segments[-1] if segments else 0
                path = self.directory / _segment_name(number)
                if path.exists() and path.stat().st_size + len(payload) > self.segment_bytes:
                    number += 1
                    path = self.directory / _segment_name(number)
                created = not path.exists()
                with _open_private(path, "ab") as f:
                    f.write(payload)
                    f.flush()
                    os.fsync(f.fileno())
                if created:
                    _fsync_directory(self.directory)
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def close(self) -> None:
        self._lock_file.close()


def _to_json(record: Any) -> str:
    if hasattr(record, "model_dump_json"):
        return str(record.model_dump_json())
    return json.dumps(record, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Position:
    segment: int
    offset: int


@dataclass
class Batch:
    records: list[dict[str, Any]]
    end: Position
    quarantined: int = 0
    ids: list[str] = field(default_factory=list)


class JournalReader:
    """Reads records after a consumer's committed position; `commit` moves the position."""

    def __init__(self, directory: Path, consumer: str = "indexer") -> None:
        self.directory = directory
        private_directory(directory)
        self.position_file = directory / f"{consumer}.position"
        self.quarantine_file = directory / "quarantine.jsonl"
        self.quarantined_total = 0
        self._set_aside_at: set[tuple[int, int]] = set()  # (segment, end offset) already quarantined

    def position(self) -> Position:
        if self.position_file.is_file():
            raw = json.loads(self.position_file.read_text())
            return Position(raw["segment"], raw["offset"])
        segments = _segments(self.directory)
        return Position(segments[0] if segments else 0, 0)

    def read_batch(
        self, max_records: int = 5000, max_wait_s: float = 0.2, start: Position | None = None
    ) -> Batch:
        """Up to `max_records` records after `start` (default: the committed position); waits up
        to `max_wait_s` for the first one to arrive.

        A consumer that pipelines passes the end of the batch still in flight as `start`; it must
        still commit batches in order, so the committed position never skips an unacknowledged one.
        """
        deadline = time.monotonic() + max_wait_s
        while True:
            batch = self._read(max_records, start or self.position())
            if batch.records or batch.quarantined or time.monotonic() >= deadline:
                return batch
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    def _read(self, max_records: int, position: Position) -> Batch:
        records: list[dict[str, Any]] = []
        quarantined = 0
        segment, offset = position.segment, position.offset
        segments = [s for s in _segments(self.directory) if s >= segment]
        for number in segments:
            if number != segment:
                segment, offset = number, 0
            path = self.directory / _segment_name(number)
            is_last = number == segments[-1]
            with open(path, "rb") as f:
                f.seek(offset)
                for line in _lines(f):
                    if not line.endswith(b"\n"):
                        if is_last:
                            break  # the writer may still be finishing this line
                        offset += len(line)
                        quarantined += self._set_aside(
                            line, "torn record (writer crashed mid-write)", segment, offset
                        )
                        continue
                    offset += len(line)
                    record, reason = _decode(line)
                    if record is None:
                        quarantined += self._set_aside(line, reason, segment, offset)
                        continue
                    records.append(record)
                    if len(records) >= max_records:
                        return Batch(records, Position(segment, offset), quarantined)
        return Batch(records, Position(segment, offset), quarantined)

    def _set_aside(self, line: bytes, reason: str, segment: int, end: int) -> int:
        """Quarantine a bad journal line once, although an uncommitted batch is read again."""
        if (segment, end) in self._set_aside_at:
            return 0
        self._set_aside_at.add((segment, end))
        self.quarantine(line, reason)
        return 1

    def quarantine(self, line: bytes, reason: str) -> None:
        self.quarantined_total += 1
        entry = {"reason": reason, "record": line.decode("utf-8", "replace").rstrip("\n")}
        with _open_private(self.quarantine_file, "a") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def commit(self, batch: Batch) -> None:
        tmp = self.position_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps({"segment": batch.end.segment, "offset": batch.end.offset}))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.position_file)
        _fsync_directory(self.directory)
        # Lines behind the committed position are never read again: forget them (a reader lives
        # as long as its consumer, months for the indexer).
        done = (batch.end.segment, batch.end.offset)
        self._set_aside_at = {at for at in self._set_aside_at if at > done}

    def lag_bytes(self) -> int:
        position = self.position()
        total = 0
        for number in _segments(self.directory):
            size = (self.directory / _segment_name(number)).stat().st_size
            if number > position.segment:
                total += size
            elif number == position.segment:
                total += max(0, size - position.offset)
        return total

    def prune(self) -> list[Path]:
        """Delete segments this consumer has fully read (never the newest, still written)."""
        position = self.position()
        removed = []
        for number in _segments(self.directory)[:-1]:
            if number < position.segment:
                path = self.directory / _segment_name(number)
                path.unlink()
                removed.append(path)
        return removed


def _lines(f: Any) -> Iterator[bytes]:
    while True:
        line = f.readline()
        if not line:
            return
        yield line


def _decode(line: bytes) -> tuple[dict[str, Any] | None, str]:
    head, _, body = line.rstrip(b"\n").partition(b" ")
    try:
        expected = int(head, 16)
    except ValueError:
        return None, "no checksum"
    if zlib.crc32(body) != expected:
        return None, "checksum mismatch"
    try:
        record = orjson.loads(body)
    except ValueError as exc:
        return None, f"invalid JSON: {exc}"
    if not isinstance(record, dict):
        return None, "record is not a JSON object"
    return record, ""
