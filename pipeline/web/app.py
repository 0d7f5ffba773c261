"""The console as an ASGI application (Starlette): ``create_app(workspace)``. Every route of
``security.ROUTES`` is wrapped by ``guarded``, which finds the session, checks the role and, for a
form, the CSRF token, before the page's function runs. The pages are in ``pages.py``."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.routing import Route as StarletteRoute
from starlette.staticfiles import StaticFiles

from pipeline import api
from pipeline.config import Config
from pipeline.web import pages
from pipeline.web.render import Renderer, choose_lang
from pipeline.web.security import (
    HEADERS,
    LANG_COOKIE,
    ROUTES,
    SESSION_COOKIE,
    LoginLimiter,
    Route,
    cookie_args,
    is_https,
    same,
)
from pipeline.workspace import Workspace

HERE = Path(__file__).resolve().parent


class Console:
    """What every page shares: the workspace, its settings, the users file, the renderer, the limiter."""

    def __init__(self, ws: Workspace, config: Config) -> None:
        self.ws, self.config = ws, config
        self.users = api.open_users(ws)
        self.render = Renderer(HERE / "templates")
        self.limiter = LoginLimiter()

    def https(self, request: Request) -> bool:
        return is_https(request.url.scheme, request.headers, self.config.serve.trust_proxy)


def guarded(console: Console, route: Route, handler):
    """The page ``handler`` behind the route's rules: a live session with one of its roles (none needed
    for a public route), a CSRF token matching the session's on every POST (the form's ``csrf`` field,
    or the ``X-CSRF-Token`` header; the upload checks its form's field itself, as it streams)."""

    async def endpoint(request: Request) -> Response:
        lang, chosen = choose_lang(request)
        request.state.lang = lang
        request.state.console = console
        request.state.session = console.users.session(request.cookies.get(SESSION_COOKIE))
        if route.roles:
            session = request.state.session
            if session is None:
                if request.method == "GET":
                    return _with_lang(RedirectResponse(f"/login?next={request.url.path}", status_code=303), chosen,
                                      console.https(request))
                return console.render.error(request, 403, "web.forbidden")
            if session.user.role not in route.roles:  # a clerk at the decisions, say: in the trail
                console.users.record(session.user.name, "denied", f"{request.method} {request.url.path}"[:200])
                return console.render.error(request, 403, "web.forbidden")
            if request.method == "POST" and route.name != "upload":
                token = request.headers.get("x-csrf-token")
                if token is None:
                    form = await request.form(max_files=0, max_fields=20)
                    token = form.get("csrf")
                    request.state.form = form
                if not same(token if isinstance(token, str) else None, session.csrf):
                    console.users.record(session.user.name, "csrf.refused", request.url.path[:200])
                    return console.render.error(request, 403, "web.csrf")
        response = await handler(request)
        return _with_lang(response, chosen, console.https(request))

    return endpoint


def _with_lang(response: Response, chosen: str | None, secure: bool) -> Response:
    if chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, **cookie_args(secure))
    return response


class SecurityHeaders:
    """The headers of ``security.HEADERS`` on every response (static files keep a short cache)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()
                         if k.lower().encode() not in names and not (static and k == "Cache-Control")]
                if static:
                    extra.append((b"cache-control", b"max-age=3600"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(workspace: Path | str | Workspace | None = None) -> SecurityHeaders:
    """The console of ``workspace`` (its certpipe.toml checked first)."""
    ws, config = api.open_workspace(workspace)
    console = Console(ws, config)
    routes = [StarletteRoute(r.path, guarded(console, r, getattr(pages, r.name)), methods=[r.method])
              for r in ROUTES]
    # the public register's own check of a QR link's token (WebCrypto Ed25519), for /c/<number>
    routes.append(Mount("/static/site", StaticFiles(directory=HERE.parent / "site_assets"), name="site"))
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))

    async def not_found(request: Request, exc) -> Response:
        request.state.lang = choose_lang(request)[0]
        request.state.session = None
        code = getattr(exc, "status_code", 404)
        return console.render.error(request, code if code in (404, 405) else 404, "web.not_found")

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.state.console = console
    return SecurityHeaders(app)
