"""Control-plane routes for Email to Salesforce and the mail catcher."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from salesync.sandbox.e2s_state import MATCH_MODES, E2sUser
from salesync.sandbox.email_to_salesforce import E2S_ADDRESS_FIELD, send_email_default_type
from salesync.sandbox.http import ApiResponse, Router, json_response

if TYPE_CHECKING:
    from salesync.sandbox.control import ControlCall

#: JSON key -> E2sSettings attribute, with the type the value must have.
_SETTING_KEYS: dict[str, tuple[str, type]] = {
    "active": ("active", bool),
    "matchMode": ("match_mode", str),
    "logToOpportunities": ("log_to_opportunities", bool),
    "createUnresolvedTasks": ("create_unresolved_tasks", bool),
    "sendEmailDefaultType": ("send_email_default_type", str),
    "exposeAddressField": ("expose_address_field", bool),
}


def register(router: Router[ControlCall], prefix: str) -> None:
    router.add("GET DELETE", prefix + r"/mail", mail)
    router.add("GET", prefix + r"/mail/(?P<id>\d+)", mail_message)
    router.add("GET PUT", prefix + r"/email-to-salesforce", org_settings)
    router.add("GET PUT", prefix + r"/users/(?P<username>[^/]+)/email-to-salesforce", user_state)


def mail(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    catcher = call.org.mail
    if call.request.method == "DELETE":
        return json_response(200, {"deleted": catcher.clear()})
    caught = catcher.messages(recipient=call.request.query.get("to"))
    return json_response(200, [message.to_json() for message in caught])


def mail_message(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    caught = call.org.mail.get(int(params["id"]))
    if caught is None:
        raise KeyError(f"no caught message {params['id']}")
    return json_response(200, caught.to_json(with_raw=True))


def _settings_json(call: ControlCall) -> dict[str, Any]:
    org = call.org
    settings = org.e2s.settings
    body: dict[str, Any] = {
        key: getattr(settings, name) for key, (name, _) in _SETTING_KEYS.items()
    }
    body.update(
        domain=org.e2s.domain,
        effectiveTaskType=send_email_default_type(org),
        addressField=f"User.{E2S_ADDRESS_FIELD}" if settings.expose_address_field else None,
        smtp=org.mail.listening_on,
    )
    return body


def _checked(body: Mapping[str, Any], key: str, kind: type) -> Any:
    value = body[key]
    if key == "sendEmailDefaultType" and value is None:
        return None
    if not isinstance(value, kind):
        raise ValueError(f"{key} must be a {kind.__name__}")
    if key == "matchMode" and value not in MATCH_MODES:
        raise ValueError(f"matchMode is one of {', '.join(MATCH_MODES)}")
    return value


def org_settings(call: ControlCall, _: dict[str, str]) -> ApiResponse:
    """PUT merges: only the keys given change."""
    if call.request.method == "PUT":
        body = call.body()
        unknown = set(body) - set(_SETTING_KEYS)
        if unknown:
            raise ValueError(f"unknown Email to Salesforce keys: {sorted(unknown)}")
        values = {_SETTING_KEYS[k][0]: _checked(body, k, _SETTING_KEYS[k][1]) for k in body}
        for name, value in values.items():
            setattr(call.org.e2s.settings, name, value)
        call.org.publish_e2s_addresses()
    return json_response(200, _settings_json(call))


def _user_json(username: str, entry: E2sUser) -> dict[str, Any]:
    return {
        "userId": entry.user_id,
        "username": username,
        "address": entry.address,
        "active": entry.active,
        "acceptableSenders": list(entry.acceptable_senders),
    }


def user_state(call: ControlCall, params: dict[str, str]) -> ApiResponse:
    """PUT merges ``active`` and replaces ``acceptableSenders``; the address never changes."""
    username = params["username"]
    entry = call.org.e2s.user(call.org.user_id(username))
    if call.request.method == "PUT":
        body = call.body()
        unknown = set(body) - {"active", "acceptableSenders"}
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        if "active" in body:
            entry.active = bool(_checked(body, "active", bool))
        if "acceptableSenders" in body:
            entry.acceptable_senders = _senders(body["acceptableSenders"])
        call.org.publish_e2s_addresses()
    return json_response(200, _user_json(username, entry))


def _senders(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and "@" in v for v in value):
        raise ValueError("acceptableSenders is a list of email addresses")
    return [v.strip() for v in value]
