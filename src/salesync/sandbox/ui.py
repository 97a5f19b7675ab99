"""The org's web pages, served at the sandbox's root: ``/`` (home), ``/lightning/o/<Object>/list``,
``/lightning/r/<Object>/<id>/view`` (Salesforce's own URL shapes) and ``/lightning/setup/...``.

Server-rendered HTML and plain forms, no JavaScript. The pages reach the org only through the
control plane (see ui_client); they share no code with salesync's Salesforce client.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesync.sandbox import ui_pages, ui_setup, ui_tasks
from salesync.sandbox.control import ControlPlane
from salesync.sandbox.http import ApiRequest, ApiResponse, Router
from salesync.sandbox.ui_client import OrgConsole

PREFIX = "/lightning/"
#: Objects with list views and record pages; their ``/<id>`` URLs redirect to the record page.
PAGED_OBJECTS = frozenset(ui_pages.VIEWS)
_OBJECTS = "|".join(ui_pages.VIEWS)
_ID = r"(?P<id>[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?)"


@dataclass
class UiCall:
    console: OrgConsole
    request: ApiRequest


def is_page(path: str) -> bool:
    return path in ("", "/") or path.startswith(PREFIX)


def _home(call: UiCall, _: dict[str, str]) -> ApiResponse:
    return ui_pages.home(call.console)


def _list(call: UiCall, params: dict[str, str]) -> ApiResponse:
    query = call.request.query
    sobject = params["sobject"]
    return ui_pages.list_view(
        call.console, sobject, query.get("q", ""), query.get("view", "open"), _notice(query)
    )


def _record(call: UiCall, params: dict[str, str]) -> ApiResponse:
    return ui_pages.record_view(
        call.console, params["sobject"], params["id"], _notice(call.request.query)
    )


def _notice(query: dict[str, str]) -> str:
    """The line saying what the last form did (``?saved=1``, ``?deleted=1``…)."""
    return next((text for key, text in ui_tasks.NOTICES.items() if key in query), "")


def _edit(call: UiCall, params: dict[str, str]) -> ApiResponse:
    if call.request.method == "POST":
        return ui_tasks.save_task(call.console, params["id"], call.request.form())
    return ui_tasks.task_form(call.console, params["id"])


def _new_task(call: UiCall, _: dict[str, str]) -> ApiResponse:
    if call.request.method == "POST":
        return ui_tasks.create_task(call.console, call.request.form())
    return ui_tasks.new_task_form(call.console, call.request.query.get("about", ""))


def _complete(call: UiCall, params: dict[str, str]) -> ApiResponse:
    return ui_tasks.complete_task(call.console, params["id"])


def _delete(call: UiCall, params: dict[str, str]) -> ApiResponse:
    return ui_tasks.delete_task(call.console, params["id"])


def _api_calls(call: UiCall, _: dict[str, str]) -> ApiResponse:
    return ui_setup.api_calls(call.console)


def _faults(call: UiCall, _: dict[str, str]) -> ApiResponse:
    if call.request.method == "POST":
        return ui_setup.change_faults(call.console, call.request.form())
    return ui_setup.faults(call.console)


def build_router() -> Router[UiCall]:
    router: Router[UiCall] = Router()
    router.add("GET", r"", _home)
    router.add("GET", rf"/lightning/o/(?P<sobject>{_OBJECTS})/list", _list)
    router.add("GET POST", r"/lightning/o/Task/new", _new_task)
    router.add("GET", rf"/lightning/r/(?P<sobject>{_OBJECTS})/{_ID}/view", _record)
    router.add("GET POST", rf"/lightning/r/Task/{_ID}/edit", _edit)
    router.add("POST", rf"/lightning/r/Task/{_ID}/complete", _complete)
    router.add("POST", rf"/lightning/r/Task/{_ID}/delete", _delete)
    router.add("GET", r"/lightning/setup/api-calls", _api_calls)
    router.add("GET POST", r"/lightning/setup/faults", _faults)
    return router


class OrgPages:
    """Serves the pages for one org through its control plane."""

    def __init__(self, control: ControlPlane) -> None:
        self.control = control
        self.router = build_router()

    def handle(self, request: ApiRequest) -> ApiResponse:
        console = OrgConsole(self.control, request.base_url)
        return self.router.dispatch(UiCall(console, request), request.method, request.path)
