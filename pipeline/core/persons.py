"""Whether two written names are the same person, for the independence of certification decisions
(ISO/IEC 17065 7.6: whoever decides took no part in the evaluation).

A workbook's cover names its team the way people write it: ``刘洋（组长）``, ``陈静(技术专家)``,
``王　立`` with a full-width space, ``Li Ming - lead auditor``. What is compared is the name alone
(``person_key``):

- full-width forms folded (NFKC) and case ignored;
- every annotation in brackets removed, whatever the bracket: ``()``, ``（）``, ``[]``, ``【】``,
  ``〔〕``, ``〈〉``, ``《》``, ``{}`` (an opening bracket never closed: to the end);
- a role word at the end or at the start, after or before a separator (a dash, a colon, a slash, a
  space), removed — only a role word from ``ROLE_WORDS``: ``Jean-Pierre`` stays ``jean-pierre``,
  never ``jean``, so that two different people are never made equal;
- a title written straight after a Chinese name of two characters or more (``刘洋组长``), only the
  titles no Chinese name ends with (组长, 审核员, 技术专家, 观察员 …);
- every space gone (``王 立`` is ``王立``).

A name that is nothing but an annotation (``（空缺）``) has an empty key and is nobody."""

from __future__ import annotations

import re
import unicodedata

#: Words that say a team member's role, not his name (compared after NFKC and casefolding).
ROLE_WORDS = (
    "组长", "审核组长", "副组长", "组员", "审核员", "主任审核员", "高级审核员", "实习审核员", "见习审核员",
    "实习", "见习", "技术专家", "专家", "观察员", "翻译", "记录员",
    "lead auditor", "team leader", "team lead", "leader", "auditor", "technical expert", "expert", "observer",
    "trainee",
)

_OPEN = "([【〔〈《{〖「『"
_CLOSE = ")]】〕〉》}〗」』"
_BRACKETED = re.compile(f"[{re.escape(_OPEN)}][^{re.escape(_OPEN + _CLOSE)}]*[{re.escape(_CLOSE)}]")
_UNCLOSED = re.compile(f"[{re.escape(_OPEN)}].*$")
_SEPARATOR = r"[\s\-‐‑‒–—―:/|]"
_ROLES = "|".join(re.escape(w) for w in sorted(ROLE_WORDS, key=len, reverse=True)).replace(r"\ ", r"\s+")
_TRAILING_ROLE = re.compile(rf"(?:{_SEPARATOR}+)(?:{_ROLES})$")
_LEADING_ROLE = re.compile(rf"^(?:{_ROLES})(?:{_SEPARATOR}+)")
#: Written straight after a Chinese name (刘洋组长): only the titles no Chinese name ends with.
_CJK_TITLES = ("组长", "审核组长", "副组长", "审核员", "主任审核员", "高级审核员", "实习审核员", "见习审核员",
               "技术专家", "观察员")
_GLUED_TITLE = re.compile(r"^([\u3400-\u9fff·]{2,})(?:" + "|".join(sorted(_CJK_TITLES, key=len, reverse=True))
                          + ")$")


def person_key(name: str) -> str:
    """The name as compared for independence (the module's doc): ``刘洋（组长）``, ``刘洋 - 组长``,
    ``组长：刘洋`` and ``刘 洋`` are all ``刘洋``."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    while True:  # innermost first: (a (b) c)
        shorter = _BRACKETED.sub(" ", text)
        if shorter == text:
            break
        text = shorter
    text = _UNCLOSED.sub("", text).strip()
    while True:
        shorter = _LEADING_ROLE.sub("", _TRAILING_ROLE.sub("", text).strip()).strip()
        shorter = _GLUED_TITLE.sub(r"\1", shorter)
        if shorter == text:
            break
        text = shorter
    text = text.strip(" -‐‑‒–—―:/|,，、;；")
    return "".join(text.split())


def same_person(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same person (an empty name is nobody)."""
    key = person_key(a)
    return bool(key) and key == person_key(b)


def in_team(name: str, team) -> bool:
    """Whether ``name`` is one of ``team`` (written names)."""
    return any(same_person(name, member) for member in team)
