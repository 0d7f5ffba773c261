"""Reading an upload form (``multipart/form-data``) as it streams in: the ``csrf`` field must come
before the first file and match the session's, each file goes straight into the inbox through
``api.inbox_upload`` (hidden until complete), and the size cap is enforced chunk by chunk — a body
declared larger than the cap is refused before a byte of it is read, one that grows past it as soon
as it does. Nothing is held in memory but a chunk and the small text fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from pipeline import api
from pipeline.errors import CertpipeError
from pipeline.web.security import same

MAX_FILES = 20
MAX_FIELD = 4096
#: What a form may carry beside its files (boundaries, headers, the csrf field).
OVERHEAD = 64 * 1024


class Refused(Exception):
    """The upload stops here: ``status`` and a catalogue key with its parameters."""

    def __init__(self, status: int, key: str, params: dict | None = None) -> None:
        super().__init__(key)
        self.status, self.key, self.params = status, key, params or {}


@dataclass
class Received:
    stored: list[str] = field(default_factory=list)  # inbox names
    refused: list[tuple[str, CertpipeError]] = field(default_factory=list)  # (file name as sent, why)


@dataclass
class _Part:
    headers: dict = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    value: bytearray = field(default_factory=bytearray)
    upload: object | None = None


async def receive_upload(request: Request, csrf: str, max_files: int = MAX_FILES) -> Received:
    """Every file of the form into the inbox. Raises ``Refused`` (403 CSRF, 413 too large, 400 not a
    form), having removed whatever it had begun to write."""
    console = request.state.console
    cap = int(console.config.limits.max_file_mb * 2**20)
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise Refused(400, "web.upload_not_form")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap * max_files + OVERHEAD:
        raise Refused(413, "web.upload_too_large", {"mb": f"{console.config.limits.max_file_mb:g}"})
    header_token = request.headers.get("x-csrf-token")
    state = {"csrf_ok": same(header_token, csrf) if header_token else False}
    received = Received()
    events: list[tuple[str, bytes]] = []
    field_name: list[bytes] = [b""]
    value: list[bytes] = [b""]

    callbacks = {
        "on_part_begin": lambda: events.append(("begin", b"")),
        "on_part_data": lambda data, start, end: events.append(("data", bytes(data[start:end]))),
        "on_part_end": lambda: events.append(("end", b"")),
        "on_header_field": lambda data, start, end: field_name.__setitem__(0, field_name[0] + data[start:end]),
        "on_header_value": lambda data, start, end: value.__setitem__(0, value[0] + data[start:end]),
        "on_header_end": lambda: (events.append(("header", field_name[0].lower() + b"\0" + value[0])),
                                  field_name.__setitem__(0, b""), value.__setitem__(0, b"")),
        "on_headers_finished": lambda: events.append(("headers", b"")),
    }
    parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
    part = _Part()
    files = 0
    try:
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise Refused(400, "web.upload_not_form") from exc
            for kind_, data in events:
                if kind_ == "begin":
                    part = _Part()
                elif kind_ == "header":
                    key, _, val = data.partition(b"\0")
                    part.headers[key.decode("latin-1")] = val
                elif kind_ == "headers":
                    _, options = parse_options_header(part.headers.get("content-disposition", b""))
                    part.name = options.get(b"name", b"").decode("utf-8", "replace")
                    if b"filename" in options:
                        part.filename = options[b"filename"].decode("utf-8", "replace")
                        if not state["csrf_ok"]:
                            raise Refused(403, "web.csrf")
                        if not part.filename:
                            continue  # the file input left empty
                        files += 1
                        if files > max_files:
                            raise Refused(413, "web.upload_too_many", {"count": max_files})
                        try:
                            part.upload = api.inbox_upload(part.filename, console.ws)
                        except CertpipeError as exc:
                            received.refused.append((part.filename, exc))
                elif kind_ == "data":
                    if part.filename is None:
                        part.value += data
                        if len(part.value) > MAX_FIELD:
                            raise Refused(400, "web.upload_not_form")
                    elif part.upload is not None:
                        try:
                            part.upload.write(data)
                        except CertpipeError as exc:
                            part.upload = None
                            raise Refused(413, exc.key, exc.params) from exc
                elif kind_ == "end":
                    if part.filename is None:
                        if part.name == "csrf":
                            state["csrf_ok"] = same(part.value.decode("utf-8", "replace"), csrf)
                    elif part.upload is not None:
                        upload, part.upload = part.upload, None
                        try:
                            received.stored.append(upload.commit())
                        except CertpipeError as exc:
                            received.refused.append((part.filename, exc))
            events.clear()
        parser.finalize()
    except BaseException:
        if part.upload is not None:
            part.upload.abort()
        raise
    if not state["csrf_ok"]:
        raise Refused(403, "web.csrf")
    return received
