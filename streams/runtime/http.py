"""aiohttp's own error answers (a malformed request line or header, a handler timeout) as the API's.

aiohttp answers a request it cannot parse before any middleware runs: `RequestHandler.handle_error`
writes a `text/plain` 400 that echoes the parser's message (which quotes the input) and logs it
with a full traceback, so a client can fill the log. `JsonErrorRequestHandler` answers
`{"error": reason}` as `application/json; charset=utf-8` like every other error of the API
(web.errors), and logs one line that names the error's class: no traceback, no input. A 5xx
(a handler that escaped web.middleware, a fault of ours) keeps its traceback in the log.

The private parts of aiohttp this needs (`AppRunner._make_server`, `Server._loop`,
`Server._kwargs`) and of faust's aiohttp driver (`Web._runner`) are used here only; their
contract tests are in tests/unit/test_runtime_contract.py.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_request import BaseRequest

log = logging.getLogger(__name__)
JSON = "application/json"


def json_error(status: int, reason: str, headers: Any = None) -> web.Response:
    """`{"error": reason}` with `status`, as `application/json; charset=utf-8`."""
    return web.Response(
        status=status,
        body=json.dumps({"error": reason}).encode(),
        content_type=JSON,
        charset="utf-8",
        headers=headers,
    )


class JsonErrorRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, whose own error answers are the API's JSON errors."""

    __slots__ = ()

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        what = type(exc).__name__ if exc is not None else "no exception"
        if status >= 500:
            log.error("HTTP request from %s failed: %d (%s)", request.remote, status, what, exc_info=exc)
            reason = "internal error" if status == 500 else f"the server could not answer in time ({status})"
        else:
            # the parser's message quotes the input: neither it nor a traceback goes to the log
            log.info("malformed HTTP request from %s: %d (%s)", request.remote, status, what)
            reason = f"malformed HTTP request ({what})"
        if request.writer.output_size > 0:  # as aiohttp: a response is on its way already
            raise ConnectionError("Response is sent already, cannot send another response with the error message")
        response = json_error(status, reason)
        response.force_close()
        return response


class JsonErrorServer(web.Server):
    """aiohttp's low-level server, whose connections are `JsonErrorRequestHandler`s."""

    def __call__(self) -> web.RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorRunner(web.AppRunner):
    """aiohttp's application runner with `JsonErrorServer` instead of `Server`."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = JsonErrorServer  # the same server object: only its connections' class changes
        return server


def answer_errors_as_json(driver: Any) -> None:
    """Make faust's aiohttp driver (`faust.web.drivers.aiohttp.Web`, before it starts) serve
    through `JsonErrorRunner`; call it from the driver's `__init__`."""
    driver._runner = JsonErrorRunner(driver.web_app, access_log=None)
