"""The error hierarchy raised below the HTTP layer.

Each error carries a stable ``type`` slug and the HTTP status it maps to, so the one handler in
``serve/`` turns any of them into ``application/problem+json`` without knowing the classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input field: where it is and what is wrong with it."""

    field: str
    message: str


class CampaignManagerError(Exception):
    """Base of every error the application raises on purpose."""

    type: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(CampaignManagerError):
    """The row does not exist or belongs to another workspace (the two are never told apart)."""

    type = "not-found"
    title = "Not found"
    status = 404


class Conflict(CampaignManagerError):
    """The write collides with existing state (a duplicate, a stale transition)."""

    type = "conflict"
    title = "Conflict"
    status = 409


class Unauthorized(CampaignManagerError):
    type = "unauthorized"
    title = "Authentication required"
    status = 401


class Forbidden(CampaignManagerError):
    type = "forbidden"
    title = "Forbidden"
    status = 403


class InvalidInput(CampaignManagerError):
    """Input that is well-formed but breaks a rule; names each offending field."""

    type = "validation-error"
    title = "Invalid input"
    status = 422

    def __init__(self, detail: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.problems = problems or []


class InvalidTransition(Conflict):
    """A status change that the state machine does not allow."""

    type = "invalid-transition"
    title = "Invalid status transition"


class RateLimited(CampaignManagerError):
    type = "rate-limited"
    title = "Too many requests"
    status = 429

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(CampaignManagerError):
    type = "service-unavailable"
    title = "Service unavailable"
    status = 503


@dataclass
class ConfigurationError(Exception):
    """A setting that cannot be used; ``setting`` names it (``CM_DATABASE_URL``, ``--data-dir``)."""

    setting: str
    message: str
    hints: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.setting}: {self.message}"
