"""An admin maintains the watchlist, one entry at a time or from a CSV file."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.conftest import auth

ENTRY = {
    "plate": "12가3456",
    "reason": "stolen",
    "priority": "high",
    "note": "도난 신고",
    "case_number": "C-1",
}


def test_create_read_update_delete(client: FlaskClient, tokens: dict[str, str]) -> None:
    admin = auth(tokens, "admin")
    created = client.post("/api/v1/watchlist", json=ENTRY, headers=admin)
    assert created.status_code == 201
    entry = created.get_json()
    assert entry["created_by"] == "admin" and entry["pattern_kind"] == "exact"
    url = f"/api/v1/watchlist/{entry['id']}"
    assert client.get(url, headers=admin).get_json()["note"] == "도난 신고"
    updated = client.put(url, json={**ENTRY, "plate": "*3456", "priority": "low"}, headers=admin).get_json()
    assert updated["plate"] == "*3456" and updated["pattern_kind"] == "suffix"
    assert updated["created_at"] == entry["created_at"]
    listed = client.get("/api/v1/watchlist", query_string={"plate": "*3456"}, headers=admin).get_json()[
        "entries"
    ]
    assert [e["id"] for e in listed] == [entry["id"]]
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url, headers=admin).status_code == 404


def test_invalid_entry_names_the_field(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/watchlist", json={**ENTRY, "reason": "dislike"}, headers=auth(tokens, "admin")
    )
    assert response.status_code == 400
    assert response.get_json()["fields"][0]["field"] == "reason"
    not_json = client.post("/api/v1/watchlist", data="plate=1", headers=auth(tokens, "admin"))
    assert not_json.status_code == 400 and not_json.get_json()["fields"][0]["field"] == "body"


def test_only_admins_touch_the_watchlist(client: FlaskClient, tokens: dict[str, str]) -> None:
    assert (
        client.post("/api/v1/watchlist", json=ENTRY, headers=auth(tokens, "investigator")).status_code == 403
    )


def test_csv_import_keeps_good_rows_and_reports_bad_ones(client: FlaskClient, tokens: dict[str, str]) -> None:
    csv_text = (
        "plate,reason,priority,expires_at,note\n"
        "34다5678,wanted,high,2027-01-01T00:00:00Z,수배\n"
        "not-a-plate,stolen,low,,\n"
        "55라1234,stolen,urgent,,\n"
        "*7777,cloned,medium,,\n"
    )
    response = client.post(
        "/api/v1/watchlist/import",
        data=csv_text.encode(),
        content_type="text/csv",
        headers=auth(tokens, "admin"),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["imported"] == 2 and body["rejected"] == 2
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "plate"), (4, "priority")]
    listed = client.get(
        "/api/v1/watchlist", query_string={"plate": "34다5678"}, headers=auth(tokens, "admin")
    )
    assert listed.get_json()["entries"][0]["note"] == "수배"


def test_csv_without_required_columns_is_rejected(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/watchlist/import",
        data=b"number\n1\n",
        content_type="text/csv",
        headers=auth(tokens, "admin"),
    )
    assert response.status_code == 400
    assert response.get_json()["fields"][0]["field"] == "file"
