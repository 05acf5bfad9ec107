"""The seams in mypack.libraries: each private name of a library that mypack leans on is
still there and still does what mypack needs. A failure here names the library
release that changed it; the seam's docstring says what mypack would lose."""

from __future__ import annotations

import flask_limiter
import flask_login
import flask_smorest
from flask_login import current_user

from mypack.extensions import limiter


def test_flask_limiter_hook_is_the_one_mypack_drops(make_app):
    # Without app-wide limits, the per-request check is gone; with them, it stays.
    assert hasattr(flask_limiter.Limiter, "_check_request_limit"), flask_limiter.__version__
    plain = make_app()
    assert limiter._check_request_limit not in plain.before_request_funcs.get(None, [])
    limited = make_app(RATELIMIT_DEFAULT="1000/minute")
    assert limiter._check_request_limit in limited.before_request_funcs.get(None, [])


def test_flask_login_keeps_the_loaded_user_where_the_seam_reads_it(site):
    from mypack.auth import service
    from mypack.libraries import loaded_user

    with site.app_context():
        service.register("seam@example.com", "Seam", "a long enough password 1")
    with site.test_request_context(headers={"Authorization": _basic("seam@example.com",
                                                                    "a long enough password 1")}):
        assert loaded_user() is None  # nothing loaded yet: the seam must not load
        user = current_user._get_current_object()
        assert user.is_authenticated, flask_login.__version__
        assert loaded_user() is user


def test_flask_smorest_registers_no_error_handler_of_its_own(make_app):
    assert hasattr(flask_smorest.Api, "_register_error_handlers"), flask_smorest.__version__
    client = make_app().test_client()
    # A 404 inside the API and a 405 have mypack's shape, not flask-smorest's.
    for response in (client.get("/api/v1/nothing-here"), client.put("/api/v1/items")):
        assert set(response.json) == {"error"}, response.json
        assert set(response.json["error"]) == {"status", "code", "message", "fields"}


def test_flask_url_adapter_seam_binds_a_refused_host(make_app):
    app = make_app(TRUSTED_HOSTS=["good.example"])
    response = app.test_client().get("/", headers={"Host": "evil.example"})
    # The error page built its links (url_for) through the seam's adapter.
    assert response.status_code == 400
    assert b'href="/"' in response.data


def _basic(email: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()
