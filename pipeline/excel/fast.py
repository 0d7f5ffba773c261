"""Blank workbooks from a prepared template: built once per standard and language, patched per audit.

Building a workbook with openpyxl takes 50-110 ms, almost all of it the same for every audit of a
standard: only the cover values, the audit id and generation time in ``_meta`` and the document
timestamps differ. So the first workbook of a (standard, language) is built by openpyxl with a marker
string in every place that varies (``CPSLOT<field>X``); the saved package is kept in memory, its
constant members compressed once, and the sheets holding markers split at them. Each further workbook
is the template with every marker cell written as openpyxl writes that value (same ``r``, same style,
``inlineStr`` text escaped the same way, a date as its serial number, an empty cell for no value),
fresh timestamps, and the zip assembled from the members (about 1 ms instead of 50-110 ms).

A value this module does not write exactly as openpyxl would (anything but ``None``, a non-empty
plain string, or a ``date``; text holding control characters or longer than 32,767 characters)
returns ``None``, and the caller builds that workbook the slow way.
``tests/test_workbook_fast.py`` compares fast and slow workbooks byte for byte, member by member.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from xml.sax.saxutils import escape

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.compat import safe_string
from openpyxl.utils.datetime import to_excel

from pipeline.core.audit import COVER_FIELDS, AuditInfo
from pipeline.core.standard import Standard
from pipeline.excel.builder import Builder
from pipeline.zipfiles import Member, pack_member, zip_bytes

GENERATED_AT = "generated_at"
_MARK = "CPSLOT{}X"
_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t>CPSLOT(\w+?)X</t></is></c>')
_STAMP = re.compile(r"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:)")
_CORE = "docProps/core.xml"
_CACHE_SIZE = 32


@dataclass(frozen=True)
class _Template:
    std: Standard  # kept so that id(std) in the cache key cannot be reused by another object
    infos: list[zipfile.ZipInfo]
    packed: dict[str, Member]  # constant members, compressed once
    pieces: dict[str, list[str | tuple[str, str, str]]]  # varying sheets: text, or (ref, style, slot)
    core: str


_cache: dict[tuple[int, str], _Template] = {}
_lock = threading.Lock()


def _cell(ref: str, style: str, value: object) -> str:
    """The ``<c>`` element openpyxl writes for ``value`` (see ``openpyxl.cell._writer``)."""
    if value is None:
        return f'<c r="{ref}"{style} t="n"></c>'
    if isinstance(value, date) and not isinstance(value, datetime):
        return f'<c r="{ref}"{style} t="n"><v>{safe_string(to_excel(value))}</v></c>'
    if type(value) is str and value and len(value) <= 32767 \
            and not ILLEGAL_CHARACTERS_RE.search(value):
        text = escape(value).replace("\r", "&#13;").encode("ascii", "xmlcharrefreplace").decode("ascii")
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
    raise _Unsupported


class _Unsupported(Exception):
    pass


def _prepare(std: Standard, lang: str) -> _Template | None:

    marked = AuditInfo(**{f: _MARK.format(f) for f in COVER_FIELDS})
    wb = Builder(std, marked, lang, generated_at=_MARK.format(GENERATED_AT)).build()
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        infos = zf.infolist()
        raw = {i.filename: zf.read(i.filename) for i in infos}
    pieces: dict[str, list] = {}
    slots: list[str] = []
    for name, blob in raw.items():
        if not name.startswith("xl/worksheets/") or b"CPSLOT" not in blob:
            continue
        xml = blob.decode("utf-8")
        parts: list = []
        pos = 0
        for m in _CELL.finditer(xml):
            parts += [xml[pos:m.start()], (m.group(1), m.group(2), m.group(3))]
            slots.append(m.group(3))
            pos = m.end()
        parts.append(xml[pos:])
        if any("CPSLOT" in p for p in parts if isinstance(p, str)):
            return None  # a marker somewhere this does not understand: always build the slow way
        pieces[name] = parts
    if sorted(set(slots)) != sorted([*COVER_FIELDS, GENERATED_AT]) or any(b"CPSLOT" in raw[n] for n in raw
                                                                          if n not in pieces):
        return None
    core = raw[_CORE].decode("utf-8")
    packed = {i.filename: pack_member(i, raw[i.filename], 6) for i in infos if i.filename not in pieces
              and i.filename != _CORE}
    return _Template(std, infos, packed, pieces, core)


def _template(std: Standard, lang: str) -> _Template | None:
    key = (id(std), lang)
    with _lock:
        found = _cache.get(key)
    if found is not None and found.std is std:
        return found
    made = _prepare(std, lang)
    if made is not None:
        with _lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            _cache[key] = made
    return made


def _values(info: AuditInfo, now: datetime) -> dict[str, object]:
    values: dict[str, object] = {}
    for field in COVER_FIELDS:
        value = getattr(info, field)
        values[field] = None if value in ("", None) else value  # the cover writes "" as an empty cell
    values[GENERATED_AT] = now.replace(microsecond=0).isoformat()
    return values


def workbook_bytes(std: Standard, info: AuditInfo, lang: str = "zh") -> bytes | None:
    """The .xlsx of ``info``'s blank workbook, or ``None`` when it must be built by openpyxl."""
    if type(info.audit_id) is not str or not info.audit_id:
        return None  # the id is also written to _meta, where "" is not an empty cell
    template = _template(std, lang)
    if template is None:
        return None
    now = datetime.now(UTC)
    values = _values(info, now)
    try:
        sheets = {name: "".join(p if isinstance(p, str) else _cell(p[0], p[1], values[p[2]]) for p in parts)
                  for name, parts in template.pieces.items()}
    except _Unsupported:
        return None
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    sheets[_CORE] = _STAMP.sub(lambda m: m.group(1) + stamp + m.group(2), template.core)
    local = datetime.now()  # zip times are local, as zipfile writes them
    dostime = (local.hour << 11) | (local.minute << 5) | (local.second // 2)
    dosdate = ((max(local.year, 1980) - 1980) << 9) | (local.month << 5) | local.day
    members = []
    for info_ in template.infos:
        member = template.packed.get(info_.filename)
        if member is None:
            member = pack_member(info_, sheets[info_.filename].encode("utf-8"), 6)
        members.append(replace(member, dostime=dostime, dosdate=dosdate))
    return zip_bytes(members)
