"""``certpipe decide`` and ``decisions`` (certification decisions), ``certpipe certificates`` (list,
show, suspend, restore, withdraw, cancel) and ``certpipe due`` (what is due, its workbooks)."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline import api
from pipeline.cli.app import Group, app, out, settings
from pipeline.cli.tables import KEY, NUMBER, TEXT, Listing
from pipeline.cli.words import LevelWords
from pipeline.core.lifecycle import STATUSES
from pipeline.filenames import safe_name
from pipeline.i18n import t

Status = StrEnum("Status", {s: s for s in STATUSES})
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]
ByOption = Annotated[str, typer.Option("--by", help="作出决定或变更的人 / who decides or makes the change")]


def _by(value: str, lang: str) -> str:
    return t(f"cert.by.{value}", lang) if value in ("auto", "system") else value


def _with_words(item, words: LevelWords) -> dict:
    """A decision's or certificate's ``--json``: its data and its level in words."""
    return item.to_json() | {"level_words": words(item.standard, item.level) or None}


def _status_words(status: str, lang: str) -> str:
    return t(f"cert.status.{status}", lang)


# ---- decisions ------------------------------------------------------------------------------------
@app.command("decisions", short_help="待认证决定的审核 / the decisions waiting")
def decisions_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """列出等待认证决定的审核：新证书（review 模式）、修订或监督审核改变了证书等级、认证范围或组织信息。

    List the audits waiting for a certification decision: new certificates (review mode), and
    revisions or surveillance audits that change a certificate's level, scope or organisation."""
    s = settings(ctx)
    lang = s.lang
    rows = api.decisions(s.workspace)
    words = LevelWords(s.workspace, lang)
    held = {c.number: c for c in api.certificates(s.workspace)} if any(d.number for d in rows) else {}

    def now_level(d) -> str | None:  # the level the certificate has while the decision waits
        cert = held.get(d.number or "")
        return cert.level if cert is not None else None

    if as_json:
        print(json.dumps([_with_words(d, words) | {"certificate_level": now_level(d),
                                                   "certificate_level_words": words(d.standard, now_level(d)) or None}
                          for d in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        out.print(t("decide.queue_empty", lang))
        return
    kinds = {"audit": KEY, "organisation": TEXT, "kind": KEY, "level": TEXT, "certificate": KEY, "team": TEXT,
             "since": KEY}
    if any(d.changes for d in rows):  # what the certificate prints that a result changes: before → after
        kinds = {**dict(list(kinds.items())[:4]), "changes": TEXT, **dict(list(kinds.items())[4:])}
    table = Listing(t("decide.queue_title", lang, n=len(rows)),
                    [(t(f"decide.col.{col}", lang), kind) for col, kind in kinds.items()])
    for d in rows:
        level = words(d.standard, d.level) or "—"
        if now_level(d) and now_level(d) != d.level:  # a change: from what the certificate has now
            level = f"{words(d.standard, now_level(d))} → {level}"
        changed = [d.changes_note.render(lang) if d.changes else "—"] if "changes" in kinds else []
        table.add_row(d.audit_id, d.organisation, t(f"cert.kind.{d.kind}", lang), level, *changed,
                      d.number or "—", "、".join(d.auditors), d.created_at[:16].replace("T", " "))
    table.print(out)


@app.command("decide", short_help="作出认证决定 / make a certification decision")
def decide_command(
    ctx: typer.Context,
    audit_id: Annotated[str, typer.Argument(help="审核编号 / the audit id")],
    by: ByOption,
    approve: Annotated[bool, typer.Option("--approve", help="批准 / approve")] = False,
    refuse: Annotated[bool, typer.Option("--refuse", help="不予批准 / refuse")] = False,
    reason: Annotated[str, typer.Option("--reason", help="理由 / the reason")] = "",
    as_json: JsonOption = False,
) -> None:
    """对审核的评价结果作出认证决定：--approve 批准（新证书此时签发；等级变化此时生效），--refuse
    不予批准（已有证书保持原样）。决定人不能是该审核的审核组长或审核员。

    Decide on an audit's result: --approve (a new certificate is issued now; a level change takes
    effect now) or --refuse (every certificate stays as it was). Whoever decides may not be the
    audit's lead auditor or one of its auditors."""
    s = settings(ctx)
    lang = s.lang
    if approve == refuse:
        raise typer.BadParameter(t("decide.one_of", lang), param_hint="--approve / --refuse")
    decision = api.decide(audit_id, approve=approve, by=by, reason=reason, workspace=s.workspace)
    if as_json:
        print(json.dumps(decision.to_json(), ensure_ascii=False, indent=2))
        return
    key = "decide.approved" if approve else "decide.refused"
    out.print(t(key, lang, audit_id=escape(audit_id), number=decision.number or "—", by=escape(by)))


# ---- certificates ---------------------------------------------------------------------------------
certificates_app = typer.Typer(cls=Group, help="证书：列表、详情、暂停、恢复、撤销、注销 / certificates and their life",
                               no_args_is_help=True)
app.add_typer(certificates_app, name="certificates")


@certificates_app.command("list", short_help="列出证书 / list certificates")
def list_command(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option("--status", help="只列出此状态 / only this status: "
                                                  + " | ".join(STATUSES))] = None,
    as_json: JsonOption = False,
) -> None:
    """列出本工作区签发的全部证书及其当前状态（有效、暂停、撤销、注销、过期、被取代）。

    List every certificate this workspace issued, with its status today."""
    s = settings(ctx)
    lang = s.lang
    rows = api.certificates(s.workspace, status=status.value if status else None)
    words = LevelWords(s.workspace, lang)
    if as_json:
        print(json.dumps([_with_words(r, words) for r in rows], ensure_ascii=False, indent=2))
        return
    kinds = {"number": KEY, "organisation": TEXT, "level": TEXT, "status": KEY, "issued": KEY, "expires": KEY,
             "surveillance": KEY}
    table = Listing(t("cert.list_title", lang, n=len(rows)),
                    [(t(f"cert.col.{col}", lang), kind) for col, kind in kinds.items()])
    for r in rows:
        table.add_row(r.number, r.organisation, words(r.standard, r.level) or "—", _status_words(r.status, lang),
                      r.issued_on or "", r.expires_on or "", r.surveillance_due or "")
    table.print(out)


@certificates_app.command("show", short_help="证书详情与历史 / a certificate and its history")
def show_command(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="证书编号 / the certificate number")],
    as_json: JsonOption = False,
) -> None:
    """显示一张证书的当前状态与全部变更（何时、何事、何人、何故）。

    Show a certificate's status now and every change of it (when, what, who, why)."""
    s = settings(ctx)
    lang = s.lang
    row, history = api.certificate(number, s.workspace)
    words = LevelWords(s.workspace, lang)
    if as_json:
        data = _with_words(row, words) | {"history": [e.to_json() for e in history]}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(t("cert.show_head", lang, number=row.number, status=_status_words(row.status, lang),
                organisation=escape(row.organisation), level=escape(words(row.standard, row.level) or "—"),
                issued=row.issued_on or "", expires=row.expires_on or "", due=row.surveillance_due or "—",
                audit=escape(row.audit_id)))
    if row.suspended_until and row.status == "suspended":
        out.print(t("cert.show_until", lang, until=row.suspended_until))
    kinds = {"when": KEY, "action": KEY, "status": KEY, "by": TEXT, "reason": TEXT}
    table = Listing(t("cert.history", lang), [(t(f"cert.col.{col}", lang), kind) for col, kind in kinds.items()])
    for e in history:
        table.add_row(e.at[:16].replace("T", " "), t(f"cert.action.{e.action}", lang),
                      _status_words(e.status, lang), _by(e.by, lang),
                      " ".join(x for x in (e.reason, e.audit_id or "",
                                           t("cert.history_until", lang, until=e.until) if e.until else "") if x))
    table.print(out)


def _change(ctx: typer.Context, action: str, numbers: list[str], by: str, reason: str, until: str | None) -> None:
    s = settings(ctx)
    lang = s.lang
    day = None
    if until:
        try:
            day = date.fromisoformat(until)
        except ValueError:
            raise typer.BadParameter(t("cert.bad_date", lang, value=until), param_hint="--until") from None
    numbers = list(dict.fromkeys(numbers))  # (a number given twice is changed once)
    events = api.change_certificates(numbers, action, by=by, reason=reason, until=day, workspace=s.workspace)
    audits = {c.number: c.audit_id for c in api.certificates(s.workspace)}  # (one reading for them all)
    for number, event in zip(numbers, events, strict=True):
        folder = s.workspace.shown(s.workspace.outbox / safe_name(audits[number]) / "notices")
        out.print(t("cert.changed", lang, number=number, status=_status_words(event.status, lang),
                    action=t(f"cert.action.{action}", lang), folder=folder), markup=False)


ReasonOption = Annotated[str, typer.Option("--reason", help="原因（必填）/ the reason (required)")]
NumberArg = Annotated[list[str], typer.Argument(help="证书编号，可多个（全部变更或全部不变）/ "
                                                   "certificate numbers: all are changed, or none")]


@certificates_app.command("suspend", short_help="暂停证书 / suspend a certificate")
def suspend(ctx: typer.Context, number: NumberArg, by: ByOption, reason: ReasonOption,
            until: Annotated[str | None, typer.Option("--until", help="暂停至（YYYY-MM-DD，默认六个月）/ "
                                                      "suspended until (default six months)")] = None) -> None:
    """暂停证书（期限默认六个月）；暂停期间证书不得使用，向持证组织发出通知书。

    Suspend a certificate (for six months unless --until); the holder gets a notice."""
    _change(ctx, "suspend", number, by, reason, until)


@certificates_app.command("restore", short_help="恢复暂停的证书 / restore a suspended certificate")
def restore(ctx: typer.Context, number: NumberArg, by: ByOption, reason: ReasonOption) -> None:
    """恢复暂停的证书，并发出通知书。 / Restore a suspended certificate; the holder gets a notice."""
    _change(ctx, "restore", number, by, reason, None)


@certificates_app.command("withdraw", short_help="撤销证书 / withdraw a certificate")
def withdraw(ctx: typer.Context, number: NumberArg, by: ByOption, reason: ReasonOption) -> None:
    """撤销证书（不可恢复），并发出通知书。 / Withdraw a certificate (for good); the holder gets a notice."""
    _change(ctx, "withdraw", number, by, reason, None)


@certificates_app.command("cancel", short_help="注销证书 / cancel a certificate")
def cancel(ctx: typer.Context, number: NumberArg, by: ByOption, reason: ReasonOption) -> None:
    """应持证组织申请注销证书，并发出通知书。 / Cancel a certificate at its holder's request; a notice follows."""
    _change(ctx, "cancel", number, by, reason, None)


# ---- due ------------------------------------------------------------------------------------------
@app.command("due", short_help="到期的监督与再认证 / what is due")
def due_command(
    ctx: typer.Context,
    within: Annotated[int | None, typer.Option("--within", min=1, max=3650, help="未来天数（默认 certpipe.toml "
                                               "的 [decision] due_within_days）/ days ahead")] = None,
    workbooks: Annotated[Path | None, typer.Option("--workbooks", help="为到期的监督与再认证审核生成评分表到此目录 / "
                                                   "generate the due audits' workbooks into DIR")] = None,
    as_json: JsonOption = False,
) -> None:
    """列出到期事项：监督审核、证书到期前的再认证、超过期限的暂停（由人决定撤销或恢复，不会自动撤销）。
    --workbooks 目录：为尚未生成评分表的监督与再认证审核生成评分表（已填组织、审核类型，并记录所属证书）。

    List what is due: surveillance audits, recertifications before expiry, suspensions past their
    end (a person decides; nothing is withdrawn automatically). --workbooks DIR generates the
    workbooks of the surveillance and recertification audits not generated yet."""
    s = settings(ctx)
    lang = s.lang
    if workbooks is not None:
        made = api.due_workbooks(workbooks, within, s.workspace, lang=lang)
        if as_json:
            print(json.dumps([item.to_json() | {"path": str(path)} for item, path in made], ensure_ascii=False,
                             indent=2))
            return
        for item, path in made:
            out.print(t("due.made", lang, path=escape(str(path)), kind=t(f"due.kind.{item.kind}", lang),
                        number=item.number, organisation=escape(item.organisation)))
        out.print(t("due.made_total", lang, n=len(made)))
        return
    items = api.due(within, s.workspace)
    if as_json:
        print(json.dumps([i.to_json() for i in items], ensure_ascii=False, indent=2))
        return
    if not items:
        out.print(t("due.none", lang))
        return
    words = LevelWords(s.workspace, lang)
    kinds = {"kind": KEY, "number": KEY, "organisation": TEXT, "level": TEXT, "status": KEY, "date": KEY,
             "days": NUMBER, "planned": KEY}
    table = Listing(t("due.title", lang, n=len(items)),
                    [(t(f"due.col.{col}", lang), kind) for col, kind in kinds.items()])
    for i in items:
        table.add_row(t(f"due.kind.{i.kind}", lang), i.number, i.organisation, words(i.standard, i.level) or "—",
                      _status_words(i.status, lang), i.date, i.days, i.planned or "")
    table.print(out)
