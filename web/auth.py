"""The admin token (`Authorization: Bearer $ADMIN_TOKEN`) of DLQ replay and the debug views.

403 when no token is configured (the admin actions are off), 401 when the header is missing or
wrong; the comparison is constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import hmac
from typing import Any

from pydantic import SecretStr

from web.errors import NotAuthenticated, PermissionDenied


def require_admin(request: Any, secret: SecretStr) -> None:
    token = secret.get_secret_value()
    if not token:
        raise PermissionDenied("admin actions are disabled: ADMIN_TOKEN is not set")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), f"Bearer {token}".encode()):
        raise NotAuthenticated("needs Authorization: Bearer <ADMIN_TOKEN>")
