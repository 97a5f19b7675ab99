"""The context of one data-API call: who is calling, which API version, which client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from salesync.sandbox import errors
from salesync.sandbox.dml import Dml
from salesync.sandbox.http import ApiRequest
from salesync.sandbox.org import Org
from salesync.sandbox.records import Record
from salesync.sandbox.schema import FieldDef, SObjectDef
from salesync.sandbox.security import UserAccess
from salesync.sandbox.values import to_wire


def call_options_client(header: str | None) -> str:
    """The ``client`` value of ``Sforce-Call-Options`` (API-FACTS §2.14)."""
    for part in (header or "").replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "client":
            return value.strip()
    return ""


@dataclass
class Call:
    """A data-API request being served, or a composite subrequest (same user and org)."""

    org: Org
    request: ApiRequest
    user_id: str
    version: str
    client: str
    in_composite: bool = False

    @property
    def access(self) -> UserAccess:
        return self.org.access_of(self.user_id)

    def dml(self) -> Dml:
        # API-FACTS §5: changeOrigin is com/salesforce/api/rest/<ver>[;client=<id>].
        origin = f"com/salesforce/api/rest/{self.version}"
        if self.client:
            origin += f";client={self.client}"
        return self.org.dml(self.user_id, client=self.client, origin=origin)

    def url(self, suffix: str) -> str:
        return f"/services/data/v{self.version}{suffix}"

    def record_url(self, sobject: str, record_id: str) -> str:
        return self.url(f"/sobjects/{sobject}/{record_id}")

    def sobject(self, name: str) -> SObjectDef:
        """The object named in a URL; 404 NOT_FOUND when the org has no such object."""
        obj = self.org.sobject(name)
        if obj is None:
            raise errors.not_found()
        return obj

    def readable(self, name: str) -> SObjectDef:
        """The object, when the caller may read it; INVALID_TYPE otherwise (msia-rules 1.13)."""
        obj = self.org.sobject(name)
        if obj is None or not self.access.can_read(obj):
            raise errors.invalid_type(name)
        return obj

    def visible_fields(self, obj: SObjectDef) -> list[FieldDef]:
        return self.access.visible_fields(obj)

    def to_wire(self, obj: SObjectDef, record: Record, fields: list[FieldDef]) -> dict[str, Any]:
        """A record as GET returns it: attributes, then the given fields."""
        wire: dict[str, Any] = {
            "attributes": {"type": obj.name, "url": self.record_url(obj.name, record["Id"])}
        }
        for definition in fields:
            wire[definition.name] = to_wire(definition, record.get(definition.name))
        return wire
