"""Query-parameter parsing for the JSON API: every parameter named, every bad one a 400.

`Query(request, allowed)` refuses a parameter the route does not know (a typo such as `?limt=`
must not silently return the default page), a parameter given twice and a parameter given
empty (`?limit=` is a mistake, not the default: leave a parameter out for its default); the
typed getters say which parameter is wrong and why. Digits are ASCII only (`re.ASCII`: a
fullwidth `５` is not a digit here), and every pattern matches the whole value (`fullmatch`: no
trailing newline slips through a `$`). The same patterns are in the OpenAPI document
(web/openapi.py), so a client sees the server's rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from web.errors import BadRequest

POST_ID = re.compile(r"[0-9a-z]{1,13}")
SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
INTEGER = re.compile(r"-?[0-9]{1,12}")
DLQ_ID = re.compile(r"[1-9][0-9]{0,18}")  # a dead letter's id: positive, within bigint


def schema_pattern(pattern: re.Pattern[str] | str) -> str:
    """A `fullmatch` pattern as the anchored regular expression of a JSON Schema."""
    return f"^{getattr(pattern, 'pattern', pattern)}$"


class Query:
    def __init__(self, request: Any, allowed: Iterable[str]) -> None:
        query: Mapping[str, str] = request.query
        allowed = set(allowed)
        unknown = sorted(set(query) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed)) or "none"
            raise BadRequest(f"unknown query parameter {unknown[0]!r} (this route takes: {known})")
        self.values: dict[str, str] = {}
        for name in allowed:
            got = query.getall(name, []) if hasattr(query, "getall") else ([query[name]] if name in query else [])
            if len(got) > 1:
                raise BadRequest(f"query parameter {name!r} is given {len(got)} times")
            if got and got[0] == "":
                raise BadRequest(f"query parameter {name!r} is empty (leave it out for its default)")
            if got:
                self.values[name] = got[0]

    def text(self, name: str) -> str | None:
        return self.values.get(name)

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.values.get(name)
        if raw is None:
            return default
        if not INTEGER.fullmatch(raw):
            raise BadRequest(f"{name} must be an integer from {lo} to {hi}, not {raw[:40]!r}")
        value = int(raw)
        if not lo <= value <= hi:
            raise BadRequest(f"{name} must be from {lo} to {hi}, not {value}")
        return value

    def boolean(self, name: str) -> bool | None:
        raw = self.values.get(name)
        if raw is None:
            return None
        if raw == "true":  # JSON's spelling, as the schema's boolean says; nothing else
            return True
        if raw == "false":
            return False
        raise BadRequest(f"{name} must be true or false, not {raw[:40]!r}")

    def subreddit(self, name: str = "subreddit") -> str | None:
        value = self.text(name)
        if value is not None and not SUBREDDIT.fullmatch(value):
            raise BadRequest(
                f"{name} must be a subreddit name (letters, digits, _; 2-21 characters), not {value[:40]!r}"
            )
        return value

    def matching(self, name: str, pattern: str, what: str) -> str | None:
        value = self.text(name)
        if value is not None and not re.fullmatch(pattern, value):
            raise BadRequest(f"{name} must be {what}, not {value[:40]!r}")
        return value


def post_id(value: str) -> str:
    if not POST_ID.fullmatch(value):
        raise BadRequest(f"post_id must be a base-36 post id (1-13 of 0-9a-z), not {value[:40]!r}")
    return value


def subreddit_name(value: str, name: str = "name") -> str:
    if not SUBREDDIT.fullmatch(value):
        raise BadRequest(f"{name} must be a subreddit name (letters, digits, _; 2-21 characters), not {value[:40]!r}")
    return value


def dlq_id(value: str) -> int:
    if not DLQ_ID.fullmatch(value) or int(value) > 2**63 - 1:
        raise BadRequest(f"id must be a dead letter's id (a positive integer), not {value[:40]!r}")
    return int(value)
