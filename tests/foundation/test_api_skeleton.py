from elasticsearch import Elasticsearch

from anpr_core.settings import Settings
from search_api.app import create_app


def test_health_answers_without_login(es_settings: Settings, es_client: Elasticsearch) -> None:
    # es_client: the app creates indices under the test prefix; the fixture removes them afterwards.
    client = create_app(es_settings, es=es_client).test_client()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
