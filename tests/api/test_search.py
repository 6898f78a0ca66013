"""An investigator searches reads by whole or partial plate, fuzzily, by time, camera and place."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.api.conftest import PURPOSE, auth


def search(client: FlaskClient, tokens: dict[str, str], **params: Any) -> Any:
    response = client.get(
        "/api/v1/reads", query_string={**PURPOSE, **params}, headers=auth(tokens, "investigator")
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def plates(body: dict[str, Any]) -> list[str]:
    return [hit["plate"] for hit in body["hits"]]


def test_exact_plate_finds_every_sighting_newest_first(client: FlaskClient, tokens: dict[str, str]) -> None:
    body = search(client, tokens, plate="12가 3456")  # spacing is normalised
    assert set(plates(body)) == {"12가3456"} and body["total"] == 5
    seen = [hit["best_seen"] for hit in body["hits"]]
    assert seen == sorted(seen, reverse=True)


def test_prefix_suffix_and_wildcard(client: FlaskClient, tokens: dict[str, str]) -> None:
    assert set(plates(search(client, tokens, plate="12가*"))) == {"12가3456", "12가3458"}
    assert set(plates(search(client, tokens, plate="*3456"))) == {"12가3456", "72가3456", "99하3456"}
    assert set(plates(search(client, tokens, plate="12가34??"))) == {"12가3456", "12가3458"}
    assert set(plates(search(client, tokens, plate="1?가*"))) == {"12가3456", "12가3458"}


def test_fuzzy_search_ranks_by_ocr_confusion_cost(client: FlaskClient, tokens: dict[str, str]) -> None:
    body = search(client, tokens, plate="12가3456", mode="fuzzy", max_cost=0.5, size=20)
    found = plates(body)
    assert set(found) == {"12가3456", "72가3456", "12가3458"}
    costs = [hit["confusion_cost"] for hit in body["hits"]]
    assert costs == sorted(costs)  # exact first, then 72가3456 (7/1 look alike), then 12가3458
    assert found.index("72가3456") < found.index("12가3458")
    assert {"plate": "12가3456", "cost": 0.0} in body["candidates"]


def test_time_range_camera_and_geo_filters(client: FlaskClient, tokens: dict[str, str]) -> None:
    day_one = {"from": "2026-05-01T00:00:00+09:00", "to": "2026-05-02T00:00:00+09:00"}
    assert search(client, tokens, plate="12가3456", **day_one)["total"] == 4
    assert set(h["camera_id"] for h in search(client, tokens, camera="cam-02,cam-03")["hits"]) == {
        "cam-02",
        "cam-03",
    }
    gangnam = search(client, tokens, bbox="127.0,37.49,127.05,37.51")
    assert {h["camera_id"] for h in gangnam["hits"]} == {"cam-04"}
    busan = search(client, tokens, near="35.1631,129.1635", radius_m=1000)
    assert plates(busan) == ["77마7777"]


def test_search_after_pages_through_everything_once(client: FlaskClient, tokens: dict[str, str]) -> None:
    everything = search(client, tokens, size=500, sort="time_asc")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"size": 4, "sort": "time_asc"}
        if cursor:
            params["search_after"] = cursor
        page = search(client, tokens, **params)
        seen += [hit["read_id"] for hit in page["hits"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [hit["read_id"] for hit in everything["hits"]]
    assert len(seen) == len(set(seen)) == 15


def bad(client: FlaskClient, tokens: dict[str, str], **params: Any) -> list[dict[str, str]]:
    response = client.get(
        "/api/v1/reads", query_string={**PURPOSE, **params}, headers=auth(tokens, "analyst")
    )
    assert response.status_code == 400, response.get_json()
    return response.get_json()["fields"]


def test_every_invalid_parameter_is_a_400_naming_the_field(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    assert bad(client, tokens, plate="?*")[0]["field"] == "plate"
    assert bad(client, tokens, plate="12가*", mode="fuzzy")[0]["field"] == "plate"
    assert bad(client, tokens, size=0)[0]["field"] == "size"
    assert bad(client, tokens, **{"from": "2026-05-01T00:00:00"})[0]["field"] == "from"
    reversed_range = {"from": "2026-05-02T00:00:00Z", "to": "2026-05-01T00:00:00Z"}
    assert bad(client, tokens, **reversed_range)[0]["field"] == "to"
    assert bad(client, tokens, bbox="1,2,3")[0]["field"] == "bbox"
    assert bad(client, tokens, bbox="10,50,5,40")[0]["field"] == "bbox"
    assert bad(client, tokens, search_after="garbage!")[0]["field"] == "search_after"
    assert bad(client, tokens, camara="cam-01")[0] == {
        "field": "camara",
        "reason": "Extra inputs are not permitted",
    }
