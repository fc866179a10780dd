"""The web server driver: faust's aiohttp driver without faust's `{"status": "OK"}` index at `/`,
whose own error answers (a request aiohttp cannot parse) are the API's JSON errors.

faust mounts its production index blueprint at `/` whenever its statistics views are off, and
aiohttp refuses a second GET route there; the dashboard (web/dashboard.py) owns `/`. Registered
as the `redditstream` driver through faust's `faust.web.drivers` entry point (pyproject.toml)
and chosen with faust's `web="redditstream://"` setting (streams/app.py). A malformed request
line or header is answered `{"error": ...}` and logged on one line (streams.runtime.http).
"""

from __future__ import annotations

from typing import Any, ClassVar

from faust.web.drivers.aiohttp import Web as AiohttpWeb

from streams.runtime.http import answer_errors_as_json
from web import middleware


class Web(AiohttpWeb):
    production_blueprints: ClassVar[list] = []

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.web_app.middlewares.append(middleware.observe)  # request metrics and logs (web/middleware.py)
        answer_errors_as_json(self)
