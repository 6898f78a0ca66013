"""Bad input to the people API is a 400 naming the field, like every other endpoint's."""

from __future__ import annotations

from flask import Flask

from tests.alerts_delivery.conftest import bearer


def test_people_events_camera_filter_takes_camera_ids_only(pe_app: Flask, pe_tokens: dict[str, str]) -> None:
    operator = bearer(pe_tokens, "operator")
    with pe_app.test_client() as client:
        for bad in ("P01 OR 1=1", "x" * 41, "P01/../x"):
            got = client.get("/api/v1/people/events", query_string={"camera_id": bad}, headers=operator)
            assert got.status_code == 400, bad
            assert [f["field"] for f in got.get_json()["fields"]] == ["camera_id.0"], bad
        fine = client.get(
            "/api/v1/people/events", query_string={"camera_id": ["P01", "SIM1"]}, headers=operator
        )
        assert fine.status_code == 200
