"""Who is asking: the tenant filter that the data layer applies to every query.

An `enterprise` user sees only rows of its own enterprise; a `partner` sees nothing of the registry or
readings; `operator`, `verifier` and `regulator` see their park (a regulator read-only).
"""

from __future__ import annotations

from dataclasses import dataclass

from parkzero.errors import Forbidden

ROLES = ("operator", "enterprise", "verifier", "regulator", "partner")
WRITE_ROLES = ("operator", "enterprise")


@dataclass(frozen=True)
class Scope:
    actor: str
    role: str
    park_id: int | None = None
    enterprise_id: int | None = None

    @classmethod
    def system(cls, actor: str = "system") -> Scope:
        """Unrestricted scope for the CLI run by the installation's owner and for internal jobs."""
        return cls(actor=actor, role="system")

    @property
    def is_system(self) -> bool:
        return self.role == "system"

    @property
    def is_tenant(self) -> bool:
        return self.role == "enterprise"

    def require_write(self) -> None:
        if not (self.is_system or self.role in WRITE_ROLES):
            raise Forbidden(f"role {self.role!r} may not change data")

    def require_operator(self) -> None:
        if not (self.is_system or self.role == "operator"):
            raise Forbidden("only the park operator may do this")

    def require_any(self, *roles: str) -> None:
        if not (self.is_system or self.role in roles):
            raise Forbidden(f"role {self.role!r} may not do this (needs {', '.join(roles)})")

    def can_see(self, park_id: int | None, enterprise_id: int | None) -> bool:
        """True where a row of (park_id, enterprise_id) is visible in this scope."""
        if self.is_system:
            return True
        if self.role == "partner":
            return False
        if self.park_id is not None and park_id is not None and park_id != self.park_id:
            return False
        if self.is_tenant:
            return enterprise_id is not None and enterprise_id == self.enterprise_id
        return True

    def sql_filter(self, park_col: str, enterprise_col: str) -> tuple[str, list]:
        """A WHERE fragment (starting with ' AND ') and its parameters enforcing this scope."""
        if self.is_system:
            return "", []
        if self.role == "partner":
            return " AND 1 = 0", []
        parts, params = [], []
        if self.park_id is not None:
            parts.append(f"{park_col} = ?")
            params.append(self.park_id)
        if self.is_tenant:
            parts.append(f"{enterprise_col} = ?")
            params.append(self.enterprise_id if self.enterprise_id is not None else -1)
        return ("".join(f" AND {p}" for p in parts), params)
