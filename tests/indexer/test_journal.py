"""The read journal: durable appends, resumable positions, and bad records set aside."""

from __future__ import annotations

import json
from pathlib import Path

from anpr_core.journal import JournalReader, ReadJournal, encode_record


def drain(reader: JournalReader) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    while True:
        batch = reader.read_batch(max_records=7, max_wait_s=0)
        if not batch.records and not batch.quarantined:
            return out
        out += batch.records
        reader.commit(batch)


def test_records_come_back_in_order_across_segments_and_a_restart(tmp_path: Path) -> None:
    journal = ReadJournal(tmp_path, segment_bytes=300)
    for i in range(25):
        journal.append({"read_id": f"r{i:03d}"})
    assert len(list(tmp_path.glob("seg-*.jsonl"))) > 1
    reader = JournalReader(tmp_path)
    first = reader.read_batch(max_records=10, max_wait_s=0)
    reader.commit(first)
    # A new reader (the indexer restarted) resumes after the committed position.
    rest = drain(JournalReader(tmp_path))
    assert [r["read_id"] for r in first.records + rest] == [f"r{i:03d}" for i in range(25)]


def test_an_uncommitted_batch_is_read_again(tmp_path: Path) -> None:
    ReadJournal(tmp_path).append_many([{"n": 1}, {"n": 2}])
    reader = JournalReader(tmp_path)
    assert [r["n"] for r in reader.read_batch(max_wait_s=0).records] == [1, 2]
    assert [r["n"] for r in JournalReader(tmp_path).read_batch(max_wait_s=0).records] == [1, 2]


def test_corrupt_and_torn_records_are_quarantined_without_blocking_the_rest(tmp_path: Path) -> None:
    journal = ReadJournal(tmp_path, segment_bytes=10_000)
    journal.append({"n": 1})
    segment = next(tmp_path.glob("seg-*.jsonl"))
    with open(segment, "ab") as f:
        f.write(b'deadbeef {"n": 99}\n')  # checksum mismatch
        f.write(encode_record("not json"))  # valid checksum, invalid JSON
        f.write(b"0000")  # torn: the writer crashed mid-line
    # The next append starts a new segment, so the torn line is final in the old one.
    ReadJournal(tmp_path, segment_bytes=1).append({"n": 2})
    reader = JournalReader(tmp_path)
    assert [r["n"] for r in drain(reader)] == [1, 2]
    reasons = [json.loads(line)["reason"] for line in reader.quarantine_file.read_text().splitlines()]
    assert reasons[0] == "checksum mismatch"
    assert reasons[1].startswith("invalid JSON")
    assert reasons[2].startswith("torn record")


def test_a_partial_line_at_the_end_of_the_newest_segment_waits_for_the_writer(tmp_path: Path) -> None:
    ReadJournal(tmp_path).append({"n": 1})
    segment = next(tmp_path.glob("seg-*.jsonl"))
    line = encode_record('{"n": 2}')
    with open(segment, "ab") as f:
        f.write(line[:5])
    reader = JournalReader(tmp_path)
    assert [r["n"] for r in drain(reader)] == [1]
    with open(segment, "ab") as f:
        f.write(line[5:])
    assert [r["n"] for r in drain(reader)] == [2]
    assert not reader.quarantine_file.exists()


def test_consumed_segments_are_pruned_but_never_the_newest(tmp_path: Path) -> None:
    journal = ReadJournal(tmp_path, segment_bytes=50)
    for i in range(6):
        journal.append({"n": i})
    reader = JournalReader(tmp_path)
    drain(reader)
    before = sorted(tmp_path.glob("seg-*.jsonl"))
    removed = reader.prune()
    assert removed and before[-1].exists()
    assert all(not p.exists() for p in removed)


def test_a_bad_record_in_an_uncommitted_batch_is_quarantined_once(tmp_path: Path) -> None:
    journal = ReadJournal(tmp_path)
    journal.append({"n": 1})
    with open(next(tmp_path.glob("seg-*.jsonl")), "ab") as f:
        f.write(b"deadbeef {}\n")
    reader = JournalReader(tmp_path)
    first = reader.read_batch(max_wait_s=0)
    again = reader.read_batch(max_wait_s=0)  # Elasticsearch was down: nothing was committed
    assert (first.quarantined, again.quarantined) == (1, 0)
    assert [r["n"] for r in again.records] == [1]
    assert len(reader.quarantine_file.read_text().splitlines()) == 1


def test_what_was_set_aside_is_forgotten_once_committed_past(tmp_path: Path) -> None:
    """A reader lives as long as the indexer: it remembers a bad line only until the committed
    position has passed it (it is never read again), not for the life of the process."""
    journal = ReadJournal(tmp_path)
    journal.append({"n": 1})
    segment = next(tmp_path.glob("seg-*.jsonl"))
    with open(segment, "ab") as f:
        f.write(b"deadbeef {}\n")
    reader = JournalReader(tmp_path)
    first = reader.read_batch(max_records=1, max_wait_s=0)  # {"n": 1}: the bad line not reached
    reader.commit(first)
    bad = reader.read_batch(max_wait_s=0)
    assert bad.quarantined == 1 and len(reader._set_aside_at) == 1
    journal.append({"n": 2})
    with open(segment, "ab") as f:
        f.write(b"deadbeef {}\n")  # a second bad line, after the first, not yet committed past
    ahead = reader.read_batch(max_wait_s=0)
    reader.commit(bad)
    assert len(reader._set_aside_at) == 1  # the one ahead of the position is still needed
    reader.commit(ahead)
    assert reader._set_aside_at == set()
