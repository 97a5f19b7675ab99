"""HTML of the sandbox's OAuth consent page and its error page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;color:#181818}"
    "h1{font-size:1.3rem}label{display:block;margin:.4rem 0}"
    "button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}"
    ".note{color:#555;font-size:.9rem}"
)


def consent_page(
    app_name: str,
    users: Sequence[Mapping[str, Any]],
    hidden: Mapping[str, str],
    preselected: str | None,
) -> str:
    """The page where a person picks a sandbox user and allows (or denies) the app."""
    choices = "\n".join(
        f'<label><input type="radio" name="user_id" value="{escape(str(u["Id"]))}"'
        f"{' checked' if u['Username'] == preselected or (not preselected and i == 0) else ''}>"
        f" {escape(str(u['Name']))} &lt;{escape(str(u['Username']))}&gt;</label>"
        for i, u in enumerate(users)
    )
    fields = "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in hidden.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Allow access?</title>
<style>{_STYLE}</style></head>
<body>
<h1>Allow access?</h1>
<p><strong>{escape(app_name)}</strong> is asking to access this sandbox org as:</p>
<form method="post" action="/services/oauth2/authorize">
{fields}
{choices}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p class="note">Salesync sandbox org: no passwords here, pick any active user.</p>
</body></html>
"""


def error_page(error: str, description: str) -> str:
    """Shown when the request can't be sent back to the client (bad client or callback)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OAuth error</title>
<style>{_STYLE}</style></head>
<body><h1>error={escape(error)}</h1><p>error_description={escape(description)}</p></body></html>
"""
