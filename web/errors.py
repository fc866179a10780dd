"""The API's errors: `{"error": "<reason>"}` with 400 / 401 / 403 / 404 / 503, never a 500.

Views raise these (faust's `WebError` family: faust's `View.dispatch` turns one into
`View.error(code, detail)`, i.e. `{"error": detail}` with the status); `web.middleware` turns
everything else that can escape a handler into JSON too.
"""

from __future__ import annotations

from faust.web.exceptions import (  # noqa: F401 - re-exported for the views
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationError,
    WebError,
)


class BadRequest(ValidationError):
    """400: a query parameter, a path parameter or a cursor that cannot be used."""


class Unavailable(ServiceUnavailable):
    """503: a dependency (the database, Redis, the broker) does not answer."""

    def __init__(self, dependency: str, exc: BaseException | None = None) -> None:
        reason = f"{dependency} unavailable"
        if exc is not None:
            reason += f": {type(exc).__name__}: {str(exc).strip()[:200]}"
        super().__init__(reason)
        self.dependency = dependency
