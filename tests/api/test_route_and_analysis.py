"""An investigator follows a plate across cameras, and checks for clones and convoys."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.api.conftest import PURPOSE, auth

DAY_ONE = {"from": "2026-05-01T00:00:00Z", "to": "2026-05-01T23:59:59Z"}


def get(
    client: FlaskClient, tokens: dict[str, str], path: str, role: str = "investigator", **params: Any
) -> Any:
    response = client.get(path, query_string={**PURPOSE, **params}, headers=auth(tokens, role))
    assert response.status_code == 200, response.get_json()
    return response


def test_route_is_chronological_with_gaps_and_speeds(client: FlaskClient, tokens: dict[str, str]) -> None:
    route = get(client, tokens, "/api/v1/plates/12가3456/route", **DAY_ONE).get_json()
    assert [s["camera_id"] for s in route["sightings"]] == ["cam-01", "cam-02", "cam-03", "cam-04"]
    assert route["first_seen"].startswith("2026-05-01T09:00:00")
    assert route["last_seen"].startswith("2026-05-01T09:15:00")
    first, second = route["sightings"][:2]
    assert first["gap_s"] is None and first["camera_name"] == "세종대로 북"
    assert second["gap_s"] == 60.0
    assert abs(second["distance_m"] - 1000.8) < 5  # 0.009° of latitude
    assert abs(second["speed_kmh"] - 60.0) < 0.5


def test_route_as_geojson_linestring(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = get(client, tokens, "/api/v1/plates/12가3456/route", format="geojson", **DAY_ONE)
    assert response.mimetype == "application/geo+json"
    line = response.get_json()["features"][0]
    assert line["geometry"]["type"] == "LineString"
    assert line["geometry"]["coordinates"][0] == [126.9769, 37.57]
    assert len(line["geometry"]["coordinates"]) == 4


def test_invalid_plate_in_path_is_400(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.get("/api/v1/plates/hello/route", query_string=PURPOSE, headers=auth(tokens, "analyst"))
    assert response.status_code == 400
    assert response.get_json()["fields"][0]["field"] == "plate"


def test_cloned_plate_seen_in_seoul_and_busan_ten_minutes_apart(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    clone = get(client, tokens, "/api/v1/plates/77마7777/clones").get_json()
    assert clone["suspected_clone"] is True
    move = clone["impossible_moves"][0]
    assert (move["from"]["camera_id"], move["to"]["camera_id"]) == ("cam-01", "cam-05")
    assert move["implied_speed_kmh"] > 1500
    honest = get(client, tokens, "/api/v1/plates/12가3456/clones").get_json()
    assert honest["suspected_clone"] is False and honest["sightings"] == 5


def test_convoy_finds_the_companion_not_the_passer_by(client: FlaskClient, tokens: dict[str, str]) -> None:
    convoy = get(client, tokens, "/api/v1/plates/12가3456/convoy", window_s=30, min_passes=2).get_json()
    companions = {row["plate"]: row for row in convoy["companions"]}
    assert set(companions) == {"34다5678"}
    assert companions["34다5678"]["shared_passes"] == 3
    assert companions["34다5678"]["cameras"] == ["cam-01", "cam-02", "cam-03"]
    assert abs(companions["34다5678"]["mean_gap_s"] - 19.8) < 0.5
    # With a window shorter than the 20 s gap there is no convoy.
    tight = get(client, tokens, "/api/v1/plates/12가3456/convoy", window_s=10, min_passes=2).get_json()
    assert tight["companions"] == []


def test_crop_images_only_for_authorised_roles(client: FlaskClient, tokens: dict[str, str]) -> None:
    route = get(client, tokens, "/api/v1/plates/12가3456/route", **DAY_ONE).get_json()
    read_id = route["sightings"][0]["read_id"]
    assert route["sightings"][0]["has_crop"] is True
    image = get(client, tokens, f"/api/v1/reads/{read_id}/crop")
    assert image.data[:4] == b"\x89PNG"
    assert image.headers["Cache-Control"] == "no-store, private"
    denied = client.get(
        f"/api/v1/reads/{read_id}/crop", query_string=PURPOSE, headers=auth(tokens, "operator")
    )
    assert denied.status_code == 403
    assert client.get(f"/api/v1/reads/{read_id}/crop", query_string=PURPOSE).status_code == 401


def test_a_plate_never_seen_has_an_empty_route(client: FlaskClient, tokens: dict[str, str]) -> None:
    route = get(client, tokens, "/api/v1/plates/88바8888/route").get_json()
    assert route == {"plate": "88바8888", "count": 0, "first_seen": None, "last_seen": None, "cameras": [],
                     "sightings": []}  # fmt: skip
