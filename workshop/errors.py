"""The one error type the domain raises; views turn it into JSON or a page."""

from __future__ import annotations

from typing import Any


class WorkshopError(Exception):
    """A refused request: a stable machine code, a translatable message and an HTTP status."""

    status = 400

    def __init__(self, code: str, message: Any, status: int | None = None, **details: Any):
        super().__init__(code)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.details = details

    def to_json(self) -> dict:
        error = {"code": self.code, "message": str(self.message)}
        error.update(self.details)
        return {"error": error}


class NotFound(WorkshopError):
    status = 404


class Forbidden(WorkshopError):
    status = 403


class Unauthorized(WorkshopError):
    status = 401


class Conflict(WorkshopError):
    status = 409
