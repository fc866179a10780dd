"""The admin token reaches the comparison as a SecretStr (streams.settings) and is unwrapped there only."""

from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from web.auth import require_admin
from web.errors import NotAuthenticated, PermissionDenied


def _request(authorization: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(headers={} if authorization is None else {"Authorization": authorization})


def test_no_token_turns_the_admin_actions_off():
    with pytest.raises(PermissionDenied):
        require_admin(_request("Bearer "), SecretStr(""))


def test_a_missing_or_wrong_token_is_refused():
    for header in (None, "Bearer nope", "tok-123456", "Bearer tok-1234567"):
        with pytest.raises(NotAuthenticated):
            require_admin(_request(header), SecretStr("tok-123456"))


def test_the_right_token_passes():
    assert require_admin(_request("Bearer tok-123456"), SecretStr("tok-123456")) is None
