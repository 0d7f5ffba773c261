"""The demo's sample audits for every built-in standard (`certpipe demo`, `flow/demo.py`) — one reaching
each level, one failing, and one with problems — written as real workbooks into the inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from pipeline.core.audit import Audit, AuditInfo, Entries
from pipeline.core.credit_code import check_character
from pipeline.core.standard import Standard

ORGS = [
    ("北京云栈信息技术有限公司", "北京市海淀区中关村大街 27 号"),
    ("上海申远系统集成有限公司", "上海市浦东新区张江路 88 号"),
    ("广州南粤环卫装备有限公司", "广州市黄埔区科学大道 162 号"),
    ("深圳前海数智服务有限公司", "深圳市南山区科技园南区 9 栋"),
    ("杭州西溪电器销售有限公司", "杭州市西湖区文三路 478 号"),
    ("成都天府售后服务有限公司", "成都市高新区天府大道中段 1268 号"),
    ("武汉江城环境设备有限公司", "武汉市洪山区光谷大道 77 号"),
]

def _credit_code(first17: str) -> str:
    return first17 + check_character(first17)


def entries_for(std: Standard, target: Decimal) -> Entries:
    """Entries whose total is at least ``target`` and as close to it as the entry step allows:
    start from full marks and take points off round the indicators, a little from each, so the
    sample looks like a real audit."""
    percent = std.input.mode == "percent"
    top = {leaf.code: (Decimal(100) if percent else leaf.max) for leaf in std.leaves}
    values = dict(top)
    deficit = std.max - target
    step = std.input.step
    for chunk in (step * (5 if percent else 1), step):  # coarse rounds first, then single steps
        moved = True
        while moved:
            moved = False
            for leaf in sorted(std.leaves, key=lambda lf: -lf.max):
                cost = leaf.max * chunk / 100 if percent else chunk
                if deficit >= cost and values[leaf.code] - chunk >= top[leaf.code] * Decimal("0.3"):
                    values[leaf.code] -= chunk
                    deficit -= cost
                    moved = True
    return Entries(scores=values)


@dataclass(frozen=True)
class Sample:
    file: str
    audit: Audit
    problems: dict[str, object] | None = None  # defined name → a wrong value to write


def samples(standards: list[Standard], *, year: int | None = None) -> list[Sample]:
    year = year or date.today().year
    # the audits ended on 4 March: of last year before then (an audit that ends after today is refused)
    held = year if date(year, 3, 4) <= date.today() else year - 1
    out: list[Sample] = []
    n = 0
    for std in standards:
        targets = [(lv.key, lv.min) for lv in std.levels] + [("fail", std.levels[0].min - 12)]
        for key, target in targets:
            n += 1
            org, address = ORGS[n % len(ORGS)]
            info = AuditInfo(
                audit_id=f"DEMO-{year}-{n:03d}", org_name=org, org_address=address,
                org_credit_code=_credit_code(f"91{110000 + n * 1111:06d}MA{n:07d}"),
                scope="信息系统集成服务" if "integration" in std.key or "002" in std.key else "售后服务",
                audit_type="初次认证", audit_start=date(held, 3, 2), audit_end=date(held, 3, 4),
                lead_auditor="王立", auditors="王立、陈晓、李娜",
            )
            entries = entries_for(std, target)
            notes = {code: "现场查阅制度文件与记录，抽样访谈。" for code in list(entries.scores)[:3]}
            out.append(Sample(f"{info.audit_id}-{std.key}-{key}.xlsx",
                              Audit(std.key, std.edition, info, entries, notes)))
    # one with problems for the auditor to fix
    std = standards[0]
    first = sorted(std.leaves, key=lambda lf: lf.code)[0]
    bad = out[0].audit
    info = AuditInfo(**{**bad.info.__dict__, "audit_id": f"DEMO-{year}-PROBLEMS",
                        "org_credit_code": "91110000MA0000000X"})
    from pipeline.excel.names import score_name

    out.append(Sample(f"DEMO-{year}-PROBLEMS-{std.key}.xlsx", Audit(std.key, std.edition, info, bad.entries, {}),
                      problems={score_name(first.code): "8分", "org_name": ""}))
    return out


def write_samples(standards: list[Standard], inbox: Path, scratch: Path, *, lang: str = "zh") -> list[Path]:
    from pipeline.excel.build import build_workbook
    from pipeline.excel.fill import fill_audit, fill_workbook

    inbox.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    by_key = {s.key: s for s in standards}
    written = []
    for sample in samples(standards):
        blank = build_workbook(by_key[sample.audit.standard_key], sample.audit.info,
                               scratch / f"blank-{sample.file}", lang=lang)
        target = inbox / sample.file
        fill_audit(blank, target, sample.audit)
        if sample.problems:
            fill_workbook(target, target, sample.problems)
        blank.unlink()
        written.append(target)
    return written
