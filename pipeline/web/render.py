"""Pages from Jinja2 templates (``web/templates``), in the reader's language: ``?lang=en`` (kept in a
cookie), else the cookie, else Chinese. Every word a page shows comes from the message catalogue
(``t('web.…')`` in the templates); autoescaping is on for everything."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from pipeline.i18n import LANGS, catalogue, t
from pipeline.web.security import LANG_COOKIE


def choose_lang(request: Request) -> tuple[str, str | None]:
    """(the language of the page, the one the query asked for — to be kept in the cookie — or None)."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked, asked
    kept = request.cookies.get(LANG_COOKIE)
    return (kept if kept in LANGS else "zh"), None


def _other_lang_url(request: Request, lang: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    query.append(("lang", "en" if lang == "zh" else "zh"))
    return f"{request.url.path}?{urlencode(query)}"


class Renderer:
    def __init__(self, folder: Path) -> None:
        self.env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)

    def html(self, request: Request, template: str, **context) -> str:
        lang = getattr(request.state, "lang", "zh")
        session = getattr(request.state, "session", None)

        def words(key: str, **params) -> str:
            return t(key, lang, **params)

        def words_or(key: str, fallback: str) -> str:
            """The catalogue's words for ``key``, else ``fallback`` as it is (a code not named yet)."""
            return t(key, lang) if key in catalogue() else fallback

        return self.env.get_template(template).render(
            t=words, t_or=words_or, lang=lang, session=session, user=session.user if session else None,
            csrf=session.csrf if session else "", path=request.url.path,
            other_lang=_other_lang_url(request, lang), **context)

    def page(self, request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(self.html(request, template, **context), status_code=status)

    def error(self, request: Request, status: int, key: str, **params) -> HTMLResponse:
        return self.page(request, "error.html", status=status, status_code=status, key=key, params=params)
