"""The web server driver: faust's aiohttp driver without faust's `{"status": "OK"}` index at `/`.

faust mounts its production index blueprint at `/` whenever its statistics views are off, and
aiohttp refuses a second GET route there; the dashboard (web/dashboard.py) owns `/`. Registered
as the `redditstream` driver through faust's `faust.web.drivers` entry point (pyproject.toml)
and chosen with faust's `web="redditstream://"` setting (streams/app.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

from faust.web.drivers.aiohttp import Web as AiohttpWeb

from web import middleware


class Web(AiohttpWeb):
    production_blueprints: ClassVar[list] = []

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.web_app.middlewares.append(middleware.observe)  # request metrics and logs (web/middleware.py)
