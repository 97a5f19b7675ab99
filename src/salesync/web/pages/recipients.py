"""The email form's To and Cc fields: people found by name or address.

``GET /command-center/recipients?q=…`` answers the type-ahead (a little vanilla JavaScript in
recipients.js) with the team's people whose name, email or company holds ``q``. Without
JavaScript the form still works: each comma-separated entry is an address (``ann@x.com`` or
``Ann Archer <ann@x.com>``) or the name of one of the team's people.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import JSONResponse

from salesync.domain.wording import tr
from salesync.errors import InvalidInput
from salesync.runtime import Runtime
from salesync.services import activities, people
from salesync.store.tables import User
from salesync.web.deps import CurrentUser, RuntimeDep
from salesync.web.pages.activity import display_name

router = APIRouter(prefix="/command-center")

#: People the type-ahead suggests at most.
SUGGESTIONS = 8
#: People a name is compared with (those whose name holds its longest word).
NAME_CANDIDATES = 50

_ENTRY_SEPARATORS = re.compile(r"[,;\n]+")
_NAMED_ADDRESS = re.compile(r"(?P<name>.*?)<(?P<address>[^<>\s]+@[^<>\s]+)>")


@router.get("/recipients")
def suggest(
    runtime: RuntimeDep,
    user: CurrentUser,
    q: Annotated[str, Query(max_length=200)] = "",
) -> JSONResponse:
    term = q.strip()
    if not term:
        return JSONResponse({"people": []})
    page = people.list_people(runtime, user, people.PeopleQuery(search=term, limit=SUGGESTIONS))
    found = [
        {"name": display_name(p), "email": p.email, "company": p.company or ""}
        for p in page.items
        if p.email
    ]
    return JSONResponse({"people": found})


def parse_recipients(
    runtime: Runtime, user: User, text: str, field: str
) -> list[activities.RecipientRef]:
    """Addresses and names, separated by commas; a name must be one person of the team's."""
    refs = []
    for raw in _ENTRY_SEPARATORS.split(text):
        entry = raw.strip()
        if not entry:
            continue
        named = _NAMED_ADDRESS.fullmatch(entry)
        if named:
            refs.append(activities.RecipientRef(email=named.group("address")))
        elif "@" in entry:
            refs += [activities.RecipientRef(email=part) for part in entry.split()]
        else:
            refs.append(
                activities.RecipientRef(person_id=_person_named(runtime, user, entry, field))
            )
    return refs


def _person_named(runtime: Runtime, user: User, name: str, field: str) -> int:
    words = name.split()
    longest = max(words, key=len)
    query = people.PeopleQuery(search=longest, limit=NAME_CANDIDATES)
    candidates = [p for p in people.list_people(runtime, user, query).items if p.email]
    wanted = " ".join(words).lower()
    exact = [p for p in candidates if display_name(p).lower() == wanted]
    close = exact or [p for p in candidates if wanted in display_name(p).lower()]
    if len(close) == 1:
        return close[0].id
    if not close:
        raise InvalidInput(
            tr("nobody in your people is named “{name}”: type their email address", name=name),
            field=field,
        )
    shown = ", ".join(f"{display_name(p)} <{p.email}>" for p in close[:3])
    raise InvalidInput(
        tr(
            "several people match “{name}” ({shown}): choose one by email address",
            name=name,
            shown=shown,
        ),
        field=field,
    )
