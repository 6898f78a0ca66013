"""Bulk indexing with the body built once as NDJSON bytes and two requests in flight.

The client's `helpers.streaming_bulk` serialises every action twice through the standard
library and reads back the full per-item response; at tens of thousands of reads a second that
Python work, not Elasticsearch, is the limit on a small server. Here each chunk is encoded with
orjson while the previous one is being indexed, and the response is filtered to item statuses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
from elasticsearch import Elasticsearch

log = logging.getLogger(__name__)

# Only what is needed to tell which items failed and why: ~20 bytes per item instead of ~200.
_FILTER_PATH = "errors,items.*.status,items.*.error"


def _retryable(status: int) -> bool:
    """429: the node's write queue is full; 5xx: a shard is unavailable (a node restarting).
    Both are transient: send those items again. Any other refusal (400 mapping error) is final."""
    return status == 429 or status >= 500


@dataclass(frozen=True)
class IndexAction:
    index: str
    doc_id: str
    source: dict[str, Any]


@dataclass(frozen=True)
class ItemFailure:
    action: IndexAction
    status: int
    error: Any


class BulkBackpressure(RuntimeError):
    """Elasticsearch kept refusing items with 429 or 5xx after every retry."""


def encode_chunk(actions: Sequence[IndexAction]) -> bytes:
    parts: list[bytes] = []
    for action in actions:
        parts.append(orjson.dumps({"index": {"_index": action.index, "_id": action.doc_id}}))
        parts.append(orjson.dumps(action.source))
    parts.append(b"")
    return b"\n".join(parts)


def _chunks(actions: Sequence[IndexAction], size: int) -> Iterator[Sequence[IndexAction]]:
    for start in range(0, len(actions), size):
        yield actions[start : start + size]


def _send(
    client: Elasticsearch,
    chunk: Sequence[IndexAction],
    max_retries: int,
    initial_backoff_s: float,
    shard_timeout: str,
) -> list[ItemFailure]:
    pending, failures, backoff = chunk, [], initial_backoff_s
    for attempt in range(max_retries + 1):
        response = client.bulk(
            operations=encode_chunk(pending), filter_path=_FILTER_PATH, timeout=shard_timeout
        )
        if not response.get("errors"):
            return failures
        retry: list[IndexAction] = []
        for action, item in zip(pending, response["items"], strict=True):
            result = next(iter(item.values()))
            status = int(result.get("status", 0))
            if status < 300:
                continue
            if _retryable(status) and attempt < max_retries:
                retry.append(action)
            elif _retryable(status):
                # The consumer backs off and reads the whole batch again; nothing is committed.
                raise BulkBackpressure(f"items still refused with {status} after {max_retries} retries")
            else:
                failures.append(ItemFailure(action, status, result.get("error")))
        if not retry:
            return failures
        log.warning("bulk: %d items refused for now (429/5xx), retrying in %.1f s", len(retry), backoff)
        time.sleep(backoff)
        pending, backoff = retry, backoff * 2
    return failures


def bulk_index(
    client: Elasticsearch,
    actions: Sequence[IndexAction],
    *,
    chunk_size: int = 2500,
    in_flight: int = 2,
    max_retries: int = 5,
    initial_backoff_s: float = 0.5,
    shard_timeout: str = "1m",
) -> list[ItemFailure]:
    """Index every action; return the items Elasticsearch rejected for good (e.g. mapping).

    Connection and server errors propagate, so the caller retries the whole batch: every
    document has its own id, so sending one twice overwrites it instead of duplicating it.
    `shard_timeout` is how long Elasticsearch waits for an unavailable primary shard before it
    refuses an item with 503 (retried here, then `BulkBackpressure`).
    """
    if not actions:
        return []
    failures: list[ItemFailure] = []
    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="bulk") as pool:
        futures: list[Future[list[ItemFailure]]] = [
            pool.submit(_send, client, chunk, max_retries, initial_backoff_s, shard_timeout)
            for chunk in _chunks(actions, chunk_size)
        ]
        for future in futures:
            failures.extend(future.result())
    return failures
