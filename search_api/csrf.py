"""Cross-site request forgery guard for the cookie-authenticated control-room page.

SameSite=Strict stops other sites, but not another page of the same site (another port on the
host, another intranet application of the city): a `<form>` there, submitted while a user is
logged in, arrives with the session cookie. A form cannot set a custom header and a script on
another origin cannot either without a CORS preflight, which this API never grants. So a
request that changes state and would be authenticated by the cookie must carry
`X-Requested-With` (the page's `api()` sends it on every call); clients that send
`Authorization: Bearer` are not affected, since no browser adds that header by itself.
"""

from __future__ import annotations

from flask import request

from search_api.errors import ApiError
from search_api.tokens import COOKIE_NAME

CSRF_HEADER = "X-Requested-With"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Login reads no cookie (it takes a JSON body, which a form cannot send) and issues a new one.
NOT_COOKIE_AUTHENTICATED = frozenset({"auth.login"})


def check_csrf() -> None:
    """Raise 403 for a state-changing request that rides on the cookie without the header."""
    if request.method in SAFE_METHODS or COOKIE_NAME not in request.cookies:
        return
    if request.endpoint in NOT_COOKIE_AUTHENTICATED:
        return
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return
    if request.headers.get(CSRF_HEADER, "").strip():
        return
    raise ApiError(
        403,
        "csrf",
        f"a request that changes state with the session cookie must send the {CSRF_HEADER} header",
    )
