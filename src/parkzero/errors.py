"""The exception tree. Every error a user can cause is a ParkzeroError with a clear message.

Interfaces translate these: the API into RFC 9457 problem+json, the CLI into a message and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    """One problem found in an input: where it is and why it is wrong."""

    reason: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = ", ".join(
            f"{k} {v}" for k, v in (("file", self.file), ("row", self.row), ("column", self.column)) if v is not None
        )
        shown = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}: {self.reason}{shown}" if where else f"{self.reason}{shown}"

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class ParkzeroError(Exception):
    """Base of all errors a user can cause; `status` is the HTTP status the API answers with."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, issues: list[Issue] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.issues: list[Issue] = list(issues or [])

    def __str__(self) -> str:
        if not self.issues:
            return self.detail
        shown = "\n".join(f"  - {i}" for i in self.issues[:20])
        more = f"\n  ... and {len(self.issues) - 20} more" if len(self.issues) > 20 else ""
        return f"{self.detail}\n{shown}{more}"


class ValidationFailed(ParkzeroError):
    """Input was rejected as a whole; nothing was written."""

    status = 422
    title = "Input rejected"


class NotFound(ParkzeroError):
    status = 404
    title = "Not found"


class Forbidden(ParkzeroError):
    status = 403
    title = "Forbidden"


class Unauthorized(ParkzeroError):
    status = 401
    title = "Not authenticated"


class Conflict(ParkzeroError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(ParkzeroError):
    status = 413
    title = "Upload too large"


class StoreBusy(ParkzeroError):
    """The embedded database file is held by another process (usually `parkzero serve`)."""

    status = 503
    title = "Database busy"


@dataclass
class IssueCollector:
    """Collects issues up to a limit so a bad file reports many rows, not just the first."""

    limit: int = 100
    issues: list[Issue] = field(default_factory=list)
    total: int = 0

    def add(self, issue: Issue) -> None:
        self.total += 1
        if len(self.issues) < self.limit:
            self.issues.append(issue)

    def __bool__(self) -> bool:
        return self.total > 0

    def raise_if_any(self, detail: str) -> None:
        if self.total:
            raise ValidationFailed(f"{detail}: {self.total} problem(s); nothing was written", issues=self.issues)
