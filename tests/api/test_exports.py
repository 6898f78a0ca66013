"""An analyst exports a search or a route for the case file."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

from flask.testing import FlaskClient

from tests.api.conftest import PURPOSE, auth

ROUTE = "/api/v1/exports/plates/12가3456/route"
DAY_ONE = {"from": "2026-05-01T00:00:00Z", "to": "2026-05-01T23:59:59Z"}


def export(client: FlaskClient, tokens: dict[str, str], path: str, fmt: str, **params: str) -> bytes:
    response = client.get(
        path, query_string={**PURPOSE, "format": fmt, **params}, headers=auth(tokens, "analyst")
    )
    assert response.status_code == 200, response.data[:300]
    assert "attachment" in response.headers["Content-Disposition"]
    return response.data


def test_route_csv(client: FlaskClient, tokens: dict[str, str]) -> None:
    text = export(client, tokens, ROUTE, "csv", **DAY_ONE).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["camera_id"] for r in rows] == ["cam-01", "cam-02", "cam-03", "cam-04"]
    assert rows[1]["speed_kmh"] == "60.0" and rows[0]["plate"] == "12가3456"


def test_search_csv_neutralises_spreadsheet_formulas() -> None:
    from search_api.exports import to_csv

    text = to_csv([{"plate": "=HYPERLINK()", "camera_id": "cam-01"}])
    assert "'=HYPERLINK()" in text


def test_route_geojson_and_kml(client: FlaskClient, tokens: dict[str, str]) -> None:
    geo = json.loads(export(client, tokens, ROUTE, "geojson", **DAY_ONE))
    assert geo["features"][0]["geometry"]["type"] == "LineString"
    assert len([f for f in geo["features"] if f["geometry"]["type"] == "Point"]) == 4
    kml = ET.fromstring(export(client, tokens, ROUTE, "kml", **DAY_ONE))
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(kml.findall(".//k:Placemark/k:Point", ns)) == 4
    assert kml.find(".//k:LineString/k:coordinates", ns) is not None


def test_search_exports(client: FlaskClient, tokens: dict[str, str]) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(
                export(client, tokens, "/api/v1/exports/reads", "csv", plate="*3456").decode("utf-8-sig")
            )
        )
    )
    assert {r["plate"] for r in rows} == {"12가3456", "72가3456", "99하3456"}
    kml = ET.fromstring(export(client, tokens, "/api/v1/exports/reads", "kml", plate="*3456"))
    assert kml.tag.endswith("kml")


def test_pdf_report_has_pages(client: FlaskClient, tokens: dict[str, str]) -> None:
    pdf = export(client, tokens, ROUTE, "pdf", **DAY_ONE)
    assert pdf.startswith(b"%PDF")
    assert b"/Type /Page" in pdf
    assert b"/Subtype /Image" in pdf  # the map (and the crop thumbnail)
    search_pdf = export(client, tokens, "/api/v1/exports/reads", "pdf", plate="12가*")
    assert search_pdf.startswith(b"%PDF")


def test_investigators_cannot_export(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.get(
        ROUTE, query_string={**PURPOSE, "format": "csv"}, headers=auth(tokens, "investigator")
    )
    assert response.status_code == 403
