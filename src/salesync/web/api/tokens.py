"""The caller's API tokens: list, create (from a signed-in browser only) and revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response

from salesync.store.tables import ApiToken
from salesync.web import team_accounts
from salesync.web.deps import BrowserUser, CurrentUser, RuntimeDep
from salesync.web.schemas import IdPath, TokenCreate, TokenCreated, TokenPublic

router = APIRouter(prefix="/tokens", tags=["account"])


@router.get("", response_model=list[TokenPublic])
def list_tokens(runtime: RuntimeDep, user: CurrentUser) -> list[ApiToken]:
    return team_accounts.list_tokens(runtime, user)


@router.post("", response_model=TokenCreated, status_code=201)
def create_token(runtime: RuntimeDep, user: BrowserUser, body: TokenCreate) -> TokenCreated:
    """Create a token; a leaked token cannot mint more, so this needs the browser session."""
    created = team_accounts.create_token(runtime, user, body.name)
    public = TokenPublic.model_validate(created.record)
    return TokenCreated(**public.model_dump(), token=created.secret)


@router.delete("/{token_id}", status_code=204)
def revoke_token(runtime: RuntimeDep, user: CurrentUser, token_id: IdPath) -> Response:
    team_accounts.revoke_token(runtime, user, token_id)
    return Response(status_code=204)
