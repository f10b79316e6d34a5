"""How Headwater's errors reach a REST client: a status code and SDK v1's error body.

The body is ``{"error": {"code": ..., "message": ...}, "detail": message}`` (SDK v1's service
errors carry ``error.code``/``error.message``; FastAPI clients look at ``detail``). A
:class:`~headwater.errors.NotFoundError` is 404, an :class:`~headwater.errors.AlreadyExistsError`
409, any other :class:`~headwater.errors.HeadwaterError` (a bad field, a disabled pipeline ...) 400.
A studio page asked for without a session (:class:`~headwater.server.auth.LoginRequired`) is a
redirect to the login page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from headwater.errors import AlreadyExistsError, HeadwaterError, NotFoundError
from headwater.server.auth import LoginRequired

__all__ = ["error_response", "install_error_handlers", "status_for"]


def status_for(exc: HeadwaterError) -> int:
    """The HTTP status of a Headwater error."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, AlreadyExistsError):
        return 409
    return 400


def error_response(status: int, message: str, code: str | None = None) -> JSONResponse:
    """A JSON error response in SDK v1's shape."""
    code = code or ("UserError" if status < 500 else "SystemError")
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}, "detail": message})


def install_error_handlers(app: FastAPI) -> None:
    """Turn every :class:`HeadwaterError` a route raises into its status and error body."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HeadwaterError)
        return error_response(status_for(exc), str(exc), type(exc).__name__)

    app.add_exception_handler(HeadwaterError, handle)

    async def login(request: Request, exc: Exception) -> RedirectResponse:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse("/studio/login?" + urlencode({"next": exc.next_url}), status_code=303)

    app.add_exception_handler(LoginRequired, login)
