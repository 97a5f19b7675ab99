"""The identity URL (`/id/<orgId>/<userId>`) and OpenID userinfo for a bearer token."""

from __future__ import annotations

from typing import Any

from salesync.sandbox.http import ApiResponse, Router, json_response
from salesync.sandbox.ids import normalize_id
from salesync.sandbox.oauth import OAuthCall, identity_url
from salesync.sandbox.records import Record
from salesync.sandbox.rest_misc import NEWEST_VERSION
from salesync.sandbox.timefmt import format_datetime


def register(router: Router[OAuthCall]) -> None:
    router.add("GET POST", r"/services/oauth2/userinfo", get_userinfo)
    router.add("GET POST", r"/id/(?P<org_id>\w+)/(?P<user_id>\w+)", get_identity)


def _bad_token() -> ApiResponse:
    # The identity service answers a bad token with 403 "Bad_OAuth_Token".
    return ApiResponse(403, raw=b"Bad_OAuth_Token", content_type="text/plain;charset=UTF-8")


def _caller(call: OAuthCall) -> Record | None:
    header = call.request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in ("bearer", "oauth"):
        token = call.request.query.get("oauth_token", "")
    with call.org.lock:
        user_id = call.org.authenticate(token.strip())
        return call.org.user(user_id) if user_id else None


def _urls(call: OAuthCall, user_id: str) -> dict[str, str]:
    base = call.request.base_url
    rest = f"{base}/services/data/v{{version}}/"
    org_id = call.org.org_id
    return {
        "enterprise": f"{base}/services/Soap/c/{{version}}/{org_id}",
        "metadata": f"{base}/services/Soap/m/{{version}}/{org_id}",
        "partner": f"{base}/services/Soap/u/{{version}}/{org_id}",
        "rest": rest,
        "sobjects": f"{rest}sobjects/",
        "search": f"{rest}search/",
        "query": f"{rest}query/",
        "recent": f"{rest}recent/",
        "tooling_soap": f"{base}/services/Soap/T/{{version}}/{org_id}",
        "tooling_rest": f"{rest}tooling/",
        "profile": f"{base}/{user_id}",
        "feeds": f"{rest}chatter/feeds",
        "groups": f"{rest}chatter/groups",
        "users": f"{rest}chatter/users",
        "feed_items": f"{rest}chatter/feed-items",
        "feed_elements": f"{rest}chatter/feed-elements",
        "custom_domain": base,
    }


def identity_body(call: OAuthCall, user: Record) -> dict[str, Any]:
    user_id = str(user["Id"])
    return {
        "id": identity_url(call, user_id),
        "asserted_user": True,
        "user_id": user_id,
        "organization_id": call.org.org_id,
        "username": user["Username"],
        "nick_name": str(user["Username"]).split("@")[0],
        "display_name": user["Name"],
        "email": user["Email"],
        "email_verified": True,
        "first_name": user["FirstName"],
        "last_name": user["LastName"],
        "timezone": user["TimeZoneSidKey"],
        "photos": {},
        "active": user["IsActive"],
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "last_modified_date": format_datetime(user["LastModifiedDate"]),
        "is_app_installed": True,
        "urls": _urls(call, user_id),
        "api_version": f"{NEWEST_VERSION}.0",
    }


def get_identity(call: OAuthCall, params: dict[str, str]) -> ApiResponse:
    user = _caller(call)
    if user is None:
        return _bad_token()
    if normalize_id(params["user_id"]) != user["Id"] or normalize_id(
        params["org_id"]
    ) != normalize_id(call.org.org_id):
        return ApiResponse(403, raw=b"Bad_Id", content_type="text/plain;charset=UTF-8")
    return json_response(200, identity_body(call, user))


def get_userinfo(call: OAuthCall, params: dict[str, str]) -> ApiResponse:
    user = _caller(call)
    if user is None:
        return _bad_token()
    body = identity_body(call, user)
    return json_response(
        200,
        {
            "sub": body["id"],
            "user_id": body["user_id"],
            "organization_id": body["organization_id"],
            "preferred_username": body["username"],
            "nickname": body["nick_name"],
            "name": body["display_name"],
            "email": body["email"],
            "email_verified": True,
            "given_name": body["first_name"],
            "family_name": body["last_name"],
            "zoneinfo": body["timezone"],
            "active": body["active"],
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "updated_at": body["last_modified_date"],
            "urls": body["urls"],
        },
    )
