"""The console's security rules, apart from the pages: which role may use which route (one table,
``ROUTES``), cookies, the CSRF check, the login rate limit, where a request really comes from, and the
headers every response carries."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass

ALL = frozenset({"clerk", "reviewer", "admin"})
OFFICE = frozenset({"clerk", "admin"})
ADMIN = frozenset({"admin"})
REVIEW = frozenset({"reviewer", "admin"})  # certification decisions and changes of certificates
PUBLIC = frozenset()  # no login needed

SESSION_COOKIE = "certpipe_session"
LOGIN_COOKIE = "certpipe_login"  # the login form's CSRF token, before there is a session
LANG_COOKIE = "certpipe_lang"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    name: str
    roles: frozenset  # empty: public


#: Every route of the console and who may use it; checked on the server for every request
#: (``app.guarded``). Reviewers look and decide, clerks bring workbooks in, admins do both.
ROUTES = (
    Route("GET", "/login", "login_form", PUBLIC),
    Route("POST", "/login", "login", PUBLIC),
    Route("GET", "/c/keys.js", "public_keys_js", PUBLIC),
    Route("GET", "/c/{number}", "public_certificate", PUBLIC),
    Route("POST", "/logout", "logout", ALL),
    Route("GET", "/", "dashboard", ALL),
    Route("GET", "/upload", "upload_form", OFFICE),
    Route("POST", "/upload", "upload", OFFICE),
    Route("GET", "/upload/status", "upload_status", OFFICE),
    Route("GET", "/audits", "audits", ALL),
    Route("GET", "/audits/{audit_id}", "audit", ALL),
    Route("GET", "/files/{input_id:int}/{name}", "download", ALL),
    Route("GET", "/standards", "standards", ALL),
    Route("GET", "/standards/{key}", "standard", ALL),
    Route("GET", "/trail", "trail", ADMIN),
    Route("GET", "/decisions", "decisions", REVIEW),
    Route("POST", "/decisions/{audit_id}", "decide", REVIEW),
    Route("GET", "/certificates", "certificates", ALL),
    Route("GET", "/certificates/{number}", "certificate", ALL),
    Route("POST", "/certificates/{number}/{action}", "change_certificate", REVIEW),
    Route("POST", "/due/workbooks.zip", "due_workbooks", OFFICE),
)


def same(a: str | None, b: str | None) -> bool:
    """Two secrets compared in constant time; a missing one never matches."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


def client_of(scope_client: tuple | None, headers, trust_proxy: bool) -> str:
    """The client's address: the proxy's ``X-Forwarded-For`` (the address it saw, rightmost) only when
    ``[serve] trust_proxy`` says a proxy stands in front."""
    if trust_proxy:
        forwarded = headers.get("x-forwarded-for", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()[:64]
    return scope_client[0] if scope_client else "?"


def is_https(scheme: str, headers, trust_proxy: bool) -> bool:
    if scheme == "https":
        return True
    return trust_proxy and headers.get("x-forwarded-proto", "").strip().lower() == "https"


def cookie_args(secure: bool) -> dict:
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/"}


class LoginLimiter:
    """At most ``attempts`` failed logins per client address and per user name in ``window`` seconds;
    past that, every attempt is refused until the oldest failure leaves the window (kept in memory:
    one console process)."""

    def __init__(self, attempts: int = 5, window: float = 900.0, clock=time.monotonic) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self.failures: dict[str, deque] = {}

    def _recent(self, key: str) -> deque:
        now = self.clock()
        found = self.failures.setdefault(key, deque())
        while found and found[0] <= now - self.window:
            found.popleft()
        return found

    def blocked(self, client: str, name: str) -> bool:
        return any(len(self._recent(k)) >= self.attempts for k in (f"ip:{client}", f"user:{name.lower()}"))

    def failed(self, client: str, name: str) -> None:
        for key in (f"ip:{client}", f"user:{name.lower()}"):
            self._recent(key).append(self.clock())
        if len(self.failures) > 10000:  # forget idle keys
            for key in [k for k, v in self.failures.items() if not v]:
                del self.failures[key]

    def succeeded(self, name: str) -> None:
        self.failures.pop(f"user:{name.lower()}", None)


#: Sent with every response: no framing, no sniffing, only the console's own scripts and styles.
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "Cache-Control": "no-store",
}
