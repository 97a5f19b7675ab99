"""Control-plane routes for users, permissions, sessions and connected apps."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from salesync.sandbox.http import ApiResponse, Router, json_response
from salesync.sandbox.security import FIELD_ACCESS_LEVELS, ObjectAccess, UserAccess
from salesync.sandbox.tokens import ConnectedApp

if TYPE_CHECKING:
    from salesync.sandbox.control import ControlCall

_APP_KEYS = {
    "clientSecret": "client_secret",
    "name": "name",
    "callbackUrls": "callback_urls",
    "allowAnyLocalhost": "allow_any_localhost",
    "rotateRefreshTokens": "rotate_refresh_tokens",
    "scopes": "scopes",
    "runAsUsername": "run_as_username",
    "requireSecret": "require_secret",
    "jwtPublicKeyPem": "jwt_public_key_pem",
    "jwtApprovedUsernames": "jwt_approved_usernames",
}


def register(router: Router[ControlCall], prefix: str) -> None:
    router.add("POST", prefix + r"/users", create_user)
    router.add("GET PUT", prefix + r"/users/(?P<username>[^/]+)/permissions", permissions)
    router.add("POST", prefix + r"/users/(?P<username>[^/]+)/revoke-refresh-tokens", revoke_refresh)
    router.add("POST", prefix + r"/tokens/expire", expire_tokens)
    router.add("GET POST", prefix + r"/connected-apps", connected_apps)
    router.add("GET PATCH", prefix + r"/connected-apps/(?P<client_id>[^/]+)", connected_app)


def create_user(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    body = call.body()
    access = UserAccess(
        password=str(body.get("password", "sandbox")),
        api_enabled=bool(body.get("apiEnabled", True)),
    )
    user_id = call.org.add_user(
        str(body["username"]),
        first_name=str(body.get("firstName", "")),
        last_name=str(body.get("lastName", "User")),
        email=str(body.get("email", body["username"])),
        active=bool(body.get("active", True)),
        access=access,
    )
    return json_response(201, {"id": user_id, "username": body["username"]})


def _permissions_json(call: ControlCall, user_id: str) -> dict[str, Any]:
    access = call.org.access_of(user_id)
    user = call.org.user(user_id) or {}
    return {
        "userId": user_id,
        "active": user.get("IsActive"),
        "apiEnabled": access.api_enabled,
        "objects": {name: asdict(rights) for name, rights in access.objects.items()},
        "fields": dict(access.fields),
        "readOnlyRecords": sorted(access.read_only_records),
    }


def permissions(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    """PUT merges: ``objects`` and ``fields`` entries replace or (with null) remove entries."""
    user_id = call.org.user_id(params["username"])
    if call.request.method == "PUT":
        body = call.body()
        access = call.org.access_of(user_id)
        if "apiEnabled" in body:
            access.api_enabled = bool(body["apiEnabled"])
        if "active" in body:
            call.org.set_user_active(user_id, bool(body["active"]))
        for sobject, rights in (body.get("objects") or {}).items():
            if rights is None:
                access.objects.pop(sobject, None)
            else:
                access.objects[sobject] = ObjectAccess(**rights)
        if "readOnlyRecords" in body:
            access.read_only_records = {str(i) for i in body["readOnlyRecords"] or ()}
        for key, level in (body.get("fields") or {}).items():
            if level is None:
                access.fields.pop(key, None)
            elif level in FIELD_ACCESS_LEVELS and "." in key:
                access.fields[key] = level
            else:
                raise ValueError(f"field access is Object.Field: hidden|read|edit, got {key}")
    return json_response(200, _permissions_json(call, user_id))


def revoke_refresh(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    user_id = call.org.user_id(params["username"])
    return json_response(200, {"revoked": call.org.tokens.revoke_user_refresh(user_id)})


def expire_tokens(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    body = call.body()
    user_id = call.org.user_id(str(body["username"])) if body.get("username") else None
    expired = call.org.tokens.expire_access(call.org.clock.now(), user_id)
    return json_response(200, {"expired": expired})


def _app_json(app: ConnectedApp) -> dict[str, Any]:
    return {"clientId": app.client_id, **{k: getattr(app, v) for k, v in _APP_KEYS.items()}}


def _app_values(body: Any) -> dict[str, Any]:
    unknown = set(body) - set(_APP_KEYS) - {"clientId"}
    if unknown:
        raise ValueError(f"unknown connected app keys: {sorted(unknown)}")
    values = {_APP_KEYS[k]: v for k, v in body.items() if k in _APP_KEYS}
    for key in ("callback_urls", "scopes", "jwt_approved_usernames"):
        if key in values:
            values[key] = tuple(values[key])
    return values


def connected_apps(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    apps = call.org.tokens.apps
    if call.request.method == "POST":
        body = call.body()
        app = ConnectedApp(client_id=str(body["clientId"]), **_app_values(body))
        apps[app.client_id] = app
        return json_response(201, _app_json(app))
    return json_response(200, [_app_json(a) for a in apps.values()])


def connected_app(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    app = call.org.tokens.apps[params["client_id"]]
    if call.request.method == "PATCH":
        for key, value in _app_values(call.body()).items():
            setattr(app, key, value)
    return json_response(200, _app_json(app))
