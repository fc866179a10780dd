"""Query-parameter parsing for the JSON API: every parameter named, every bad one a 400.

`Query(request, allowed)` refuses a parameter the route does not know (a typo such as `?limt=`
must not silently return the default page) and a parameter given twice; the typed getters say
which parameter is wrong and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from web.errors import BadRequest

POST_ID = re.compile(r"^[0-9a-z]{1,13}$")
SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")


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
            if got:
                self.values[name] = got[0]

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value else None

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.values.get(name)
        if raw is None or raw == "":
            return default
        if not re.fullmatch(r"[+-]?\d{1,12}", raw.strip()):
            raise BadRequest(f"{name} must be an integer from {lo} to {hi}, not {raw[:40]!r}")
        value = int(raw)
        if not lo <= value <= hi:
            raise BadRequest(f"{name} must be from {lo} to {hi}, not {value}")
        return value

    def boolean(self, name: str) -> bool | None:
        raw = self.values.get(name)
        if raw is None or raw == "":
            return None
        v = raw.strip().lower()
        if v in ("true", "1", "yes"):
            return True
        if v in ("false", "0", "no"):
            return False
        raise BadRequest(f"{name} must be true or false, not {raw[:40]!r}")

    def subreddit(self, name: str = "subreddit") -> str | None:
        value = self.text(name)
        if value is not None and not SUBREDDIT.match(value):
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
    if not POST_ID.match(value):
        raise BadRequest(f"post_id must be a base-36 post id (1-13 of 0-9a-z), not {value[:40]!r}")
    return value
