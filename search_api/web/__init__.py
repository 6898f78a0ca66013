"""The control-room web page: one HTML shell plus plain ES modules, served by the API's own Flask app.

Nothing is fetched from outside at run time (closed control-room networks): the page talks only to
/api/v1 on the same origin, authenticated by the HttpOnly session cookie that /auth/login sets.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

web_blueprint = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/ui/static",
)


@web_blueprint.get("/")
@web_blueprint.get("/ui")
@web_blueprint.get("/ui/")
def page() -> Response:
    response = Response(render_template("index.html"), mimetype="text/html")
    # The page holds personal data once rendered: never cache it, never frame it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'"
    )
    return response
