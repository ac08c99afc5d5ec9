"""Signing in and out, sessions, sign-in links, CSRF and the security headers."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

from ade.api.admin import revoke_api_key
from ade.api.web.security import SESSION_COOKIE
from ade.api.web.sessions import create_sign_in_token, hash_secret
from ade.db.models import ApiKey, SignInToken, WebSession
from tests.api.conftest import Api
from tests.web.conftest import csrf_of, sign_in


def _set_cookie(reply: httpx.Response, name: str) -> str:
    found = [h for h in reply.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, reply.headers
    return found[0]


def test_pages_ask_to_sign_in_first(web: Api) -> None:
    reply = web.client.get("/w/tenant-a/documents?q=x", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/sign-in?next=%2Fw%2Ftenant-a%2Fdocuments%3Fq%3Dx"
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_signing_in_opens_a_strict_httponly_session_stored_hashed(web: Api) -> None:
    client = web.client
    client.follow_redirects = False
    reply = sign_in(client, web.a)
    assert reply.headers["location"] == "/w/tenant-a/documents"
    cookie = _set_cookie(reply, SESSION_COOKIE)
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/", "max-age=43200"} <= attributes
    assert "secure" not in attributes  # plain HTTP here; see the HTTPS test
    secret = cookie.split(";")[0].split("=", 1)[1]
    with web.session() as session:
        stored = session.query(WebSession).one()
        assert stored.token_hash == hash_secret(secret)
    page = client.get("/w/tenant-a/documents")
    assert page.status_code == 200 and "Tenant A" in page.text


def test_cookies_are_secure_over_https(web: Api) -> None:
    with TestClient(web.client.app, base_url="https://ade.example") as client:
        form = client.get("/sign-in")
        assert "secure" in _set_cookie(form, "ade_presession").lower()
        reply = client.post(
            "/sign-in",
            data={"api_key": web.a.key, "csrf_token": csrf_of(form)},
            follow_redirects=False,
        )
        assert "; secure" in _set_cookie(reply, SESSION_COOKIE).lower()


def test_a_wrong_or_revoked_key_is_refused_with_the_reason(web: Api) -> None:
    client = web.client
    form = client.get("/sign-in")
    wrong = client.post("/sign-in", data={"api_key": "ade_nope", "csrf_token": csrf_of(form)})
    assert wrong.status_code == 401 and "invalid API key" in wrong.text
    with web.session() as session:
        revoke_api_key(session, web.b.prefix)
        session.commit()
    revoked = client.post("/sign-in", data={"api_key": web.b.key, "csrf_token": csrf_of(form)})
    assert revoked.status_code == 401 and "revoked" in revoked.text
    assert SESSION_COOKIE not in client.cookies


def test_revoking_the_key_ends_its_sessions_at_once(browser_client: httpx.Client, web: Api) -> None:
    assert browser_client.get("/w/tenant-a/documents").status_code == 200
    with web.session() as session:
        revoke_api_key(session, web.a.prefix)
        session.commit()
    reply = browser_client.get("/w/tenant-a/documents")
    assert reply.status_code == 303 and reply.headers["location"].startswith("/sign-in")


def test_sign_out_ends_the_session_even_for_a_copied_cookie(
    browser_client: httpx.Client, web: Api
) -> None:
    stolen = browser_client.cookies[SESSION_COOKIE]
    page = browser_client.get("/w/tenant-a/documents")
    out = browser_client.post("/sign-out", data={"csrf_token": csrf_of(page)})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in?notice=signed-out"
    assert SESSION_COOKIE not in browser_client.cookies
    with web.session() as session:
        assert session.query(WebSession).count() == 0
    replay = web.client.get(
        "/w/tenant-a/documents", cookies={SESSION_COOKIE: stolen}, follow_redirects=False
    )
    assert replay.status_code == 303


def test_posts_without_a_valid_csrf_token_change_nothing(
    browser_client: httpx.Client, web: Api
) -> None:
    document = web.upload(web.a).json()["document"]["id"]
    delete = f"/w/tenant-a/documents/{document}/delete"
    assert browser_client.post(delete, data={}).status_code == 403
    assert browser_client.post(delete, data={"csrf_token": "0" * 64}).status_code == 403
    out = browser_client.post("/sign-out", data={})
    assert out.status_code == 403 and "expired" in out.text
    token = csrf_of(browser_client.get("/w/tenant-a/documents"))
    huge = browser_client.post(delete, data={"csrf_token": token, "x": "y" * 2**21})
    assert huge.status_code == 413  # refused before the body is parsed
    upload = browser_client.post(
        "/w/tenant-a/documents/upload?filename=x.csv", content=b"a,b\n1,2\n"
    )
    assert upload.status_code == 403
    listed = web.client.get(web.a.url("/documents"), headers=web.a.headers).json()["items"]
    assert [d["id"] for d in listed] == [document]  # neither deleted nor a second upload


def test_security_headers_on_pages_and_assets(browser_client: httpx.Client) -> None:
    for path in ("/sign-in", "/w/tenant-a/documents", "/w/tenant-b/documents"):
        headers = browser_client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"
    page = browser_client.get("/w/tenant-a/documents").text
    script = re.search(r'<script type="module" src="([^"]+)"', page)
    assert script and "?v=" in script.group(1)
    asset = browser_client.get(script.group(1))
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert "<script>" not in page and " on" + "click=" not in page  # no inline script
    # The JSON API keeps its own headers (JSON only; /api/docs is a page and has the CSP).
    assert "content-security-policy" not in browser_client.get("/health").headers


def test_another_workspaces_pages_are_404(browser_client: httpx.Client, web: Api) -> None:
    document = web.upload(web.b, process=True).json()
    run = document["run"]["id"]
    for path in (
        "/w/tenant-b/documents",
        f"/w/tenant-a/runs/{run}",
        f"/w/tenant-b/runs/{run}",
        f"/w/tenant-a/runs/{run}/download/workbook",
        "/w/tenant-a/runs/not-a-uuid",
    ):
        reply = browser_client.get(path)
        assert reply.status_code == 404, path
        assert "Not found" in reply.text
    deleted = browser_client.post(
        f"/w/tenant-a/documents/{document['document']['id']}/delete",
        data={"csrf_token": csrf_of(browser_client.get("/w/tenant-a/documents"))},
    )
    assert deleted.status_code == 404
    assert web.client.get(web.b.url("/documents"), headers=web.b.headers).json()["items"]


def test_pages_stay_out_of_the_openapi_schema(web: Api) -> None:
    paths = web.client.get("/api/openapi.json").json()["paths"]
    assert paths and all(path.startswith(("/api/", "/health", "/ready")) for path in paths)


def _token(web: Api, lifetime: timedelta = timedelta(minutes=15)) -> str:
    with web.session() as session:
        key = session.query(ApiKey).filter_by(prefix=web.a.prefix).one()
        token = create_sign_in_token(session, key.id, lifetime)
        session.commit()
    return token


def test_a_sign_in_link_works_once_and_is_stored_hashed(web: Api) -> None:
    token = _token(web)
    client = web.client
    client.follow_redirects = False
    page = client.get(f"/sign-in/link?token={token}")
    assert page.status_code == 200  # opening the link alone uses nothing up
    reply = client.post("/sign-in/link", data={"token": token, "csrf_token": csrf_of(page)})
    assert reply.status_code == 303 and SESSION_COOKIE in client.cookies
    assert client.get("/w/tenant-a/documents").status_code == 200
    with web.session() as session:
        assert session.query(SignInToken).one().token_hash == hash_secret(token)
    client.cookies.clear()
    page = client.get(f"/sign-in/link?token={token}")
    again = client.post("/sign-in/link", data={"token": token, "csrf_token": csrf_of(page)})
    assert again.status_code == 401 and "already been used" in again.text
    assert SESSION_COOKIE not in client.cookies


def test_expired_unknown_and_revoked_sign_in_links_are_refused(web: Api) -> None:
    client = web.client
    page = client.get("/sign-in/link?token=x")
    csrf = csrf_of(page)
    expired = _token(web, timedelta(seconds=-1))
    reply = client.post("/sign-in/link", data={"token": expired, "csrf_token": csrf})
    assert reply.status_code == 401 and "expired" in reply.text
    reply = client.post("/sign-in/link", data={"token": "made-up", "csrf_token": csrf})
    assert reply.status_code == 401 and "not valid" in reply.text
    fresh = _token(web)
    with web.session() as session:
        revoke_api_key(session, web.a.prefix)
        session.commit()
    reply = client.post("/sign-in/link", data={"token": fresh, "csrf_token": csrf})
    assert reply.status_code == 401 and "revoked" in reply.text


def test_next_is_followed_only_within_the_site(web: Api) -> None:
    client = web.client
    client.follow_redirects = False
    form = client.get("/sign-in?next=//evil.example/x")
    assert "evil" not in form.text
    reply = client.post(
        "/sign-in",
        data={"api_key": web.a.key, "csrf_token": csrf_of(form), "next": "https://evil.example"},
    )
    assert reply.headers["location"] == "/w/tenant-a/documents"
