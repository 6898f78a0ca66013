"""Flask application factory for the search API."""

from __future__ import annotations

from flask import Flask, jsonify

from anpr_core.settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["ANPR_SETTINGS"] = settings

    @app.get("/health")
    def health() -> tuple[object, int]:
        return jsonify(status="ok"), 200

    return app
