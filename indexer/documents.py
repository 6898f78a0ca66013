"""A journal record (a `PlateRead`) → the Elasticsearch document and its monthly index."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType

from anpr_core.elastic.indices import reads_index
from anpr_core.plates import parse_plate, plate_search_fields
from anpr_core.reads import PlateRead
from indexer.bulk import IndexAction


def read_action(read: PlateRead, prefix: str) -> IndexAction:
    """A bulk `index` action: `_id` = read id, so replaying a read overwrites itself."""
    document = read.model_dump(mode="json", exclude_none=True)
    document.update(_search_fields(read.plate))
    return IndexAction(_read_index(prefix, read.best_seen.date()), read.read_id, document)


# Both are pure and called for every read; plates and months repeat, so they are computed once.
@lru_cache(maxsize=65_536)
def _search_fields(plate: str) -> Mapping[str, str]:
    return MappingProxyType(plate_search_fields(parse_plate(plate)))


@lru_cache(maxsize=1024)
def _read_index(prefix: str, day: date) -> str:
    return reads_index(prefix, day)
