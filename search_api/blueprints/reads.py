"""Reads search and crop images."""

from __future__ import annotations

from elasticsearch import NotFoundError
from flask import Blueprint, Response, jsonify, send_file

from anpr_core.elastic.indices import reads_alias
from search_api.blueprints.evidence import crop_path
from search_api.context import services, set_result_count
from search_api.errors import ApiError
from search_api.registry import endpoint
from search_api.roles import SEARCHERS
from search_api.schemas import CropQuery, ReadSearchQuery
from search_api.search import search_reads

bp = Blueprint("reads", __name__, url_prefix="/api/v1")


@endpoint(
    bp, "/reads", roles=SEARCHERS, query=ReadSearchQuery,
    summary="search reads: exact, prefix, suffix, wildcard or fuzzy plate; time, cameras, geo; paged",
)  # fmt: skip
def search(q: ReadSearchQuery) -> Response:
    ctx = services()
    page = search_reads(ctx.es, ctx.prefix, q, ctx.confusion)
    set_result_count(len(page.hits))
    body = {
        "hits": page.hits,
        "total": page.total,
        "total_is_exact": page.total_is_exact,
        "next": page.next_token,
    }
    if page.candidates is not None:
        body["candidates"] = page.candidates
    return jsonify(body)


@endpoint(
    bp, "/reads/<read_id>/crop", roles=SEARCHERS, query=CropQuery, produces=("image/jpeg", "image/png"),
    summary="the plate crop image of one read",
    path_params={"read_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,80}$"}},
)  # fmt: skip
def crop(read_id: str, q: CropQuery) -> Response:
    ctx = services()
    try:
        result = ctx.es.search(
            index=reads_alias(ctx.prefix), query={"ids": {"values": [read_id]}}, size=1, source=["crop_ref"],
            ignore_unavailable=True, allow_no_indices=True,
        )  # fmt: skip
    except NotFoundError:
        raise ApiError(404, "not_found", "no such read") from None
    hits = result["hits"]["hits"]
    if not hits or not hits[0]["_source"].get("crop_ref"):
        raise ApiError(404, "not_found", "no crop for this read")
    path = crop_path(hits[0]["_source"]["crop_ref"])
    set_result_count(1)
    response = send_file(path, max_age=0)
    response.headers["Cache-Control"] = "no-store, private"
    return response
