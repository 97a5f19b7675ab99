"""Words salesync shows people, marked for translation without doing any.

``tr("Connect {name}", name=...)`` returns a :class:`Translatable`: a plain ``str`` holding the
English text (so logs, the CLI, stored rows and tests read as before) that also remembers its
catalog id and parameters, so the web edge can show it in the reader's language
(:func:`salesync.i18n.translate`). Babel's extractor finds the ids through the ``tr`` and
``trn`` keywords (``babel.cfg``). Placeholders use ``str.format`` names: ``{name}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Translatable(str):
    """English text that knows its catalog id (and plural id) and the values put into it."""

    msgid: str
    plural: str | None
    quantity: int | None
    params: Mapping[str, Any]

    def __new__(
        cls,
        msgid: str,
        params: Mapping[str, Any] | None = None,
        *,
        plural: str | None = None,
        quantity: int | None = None,
    ) -> Translatable:
        values = dict(params or {})
        chosen = plural if plural is not None and quantity != 1 else msgid
        text = chosen.format(**values) if values else chosen
        made = super().__new__(cls, text)
        made.msgid = msgid
        made.plural = plural
        made.quantity = quantity
        made.params = values
        return made

    def to_json(self) -> dict[str, Any]:
        """What a session or a database row keeps to translate it later."""
        return {
            "msgid": self.msgid,
            "plural": self.plural,
            "count": self.quantity,
            # A value that is one of our texts stays translatable ("Row 3: {problem}").
            "params": {
                key: value.to_json() if isinstance(value, Translatable) else str(value)
                for key, value in self.params.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Translatable:
        params = {
            key: cls.from_json(value) if isinstance(value, Mapping) else value
            for key, value in (data.get("params") or {}).items()
        }
        return cls(
            str(data["msgid"]),
            params,
            plural=data.get("plural"),
            quantity=data.get("count"),
        )


def tr(msgid: str, /, **params: Any) -> Translatable:
    """Mark ``msgid`` for translation; ``params`` fill its ``{name}`` placeholders."""
    return Translatable(msgid, params)


def trn(singular: str, plural: str, count: int, /, **params: Any) -> Translatable:
    """A text with a singular and a plural form; ``{count}`` is available as a placeholder."""
    return Translatable(singular, {"count": count, **params}, plural=plural, quantity=count)
