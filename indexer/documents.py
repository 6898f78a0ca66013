"""A journal record (a `PlateRead`) → the Elasticsearch document and its daily index."""

from __future__ import annotations

from typing import Any

from anpr_core.elastic.indices import reads_index
from anpr_core.plates import parse_plate, plate_search_fields
from anpr_core.reads import PlateRead


def read_action(read: PlateRead, prefix: str) -> dict[str, Any]:
    """A bulk `index` action: `_id` = read id, so replaying a read overwrites itself."""
    document = read.model_dump(mode="json", exclude_none=True)
    document.update(plate_search_fields(parse_plate(read.plate)))
    return {
        "_op_type": "index",
        "_index": reads_index(prefix, read.best_seen.date()),
        "_id": read.read_id,
        "_source": document,
    }
