"""How documents the office signs cite laws (S7 of the legal review): one renderer for all.

- The full title at first mention in a document (《中华人民共和国网络安全法》（以下简称《网络安全法》）),
  the short title afterwards.
- Chinese article numerals (第二十三条, never 第23条), as formal 执法文书 write them.
- The 2025 amendment of 网络安全法 renumbered its articles from 2026-01-01. Checklists cite the new
  number in `article` and the old one in `article_pre2026`. Conduct on or after that day cites the
  new number first (第二十三条（原第二十一条）); conduct before it — a visit before 2026 — is judged
  under the text then in force, so the old number comes first (第二十一条（现第二十三条）).

Citer(on=<date of the conduct>) keeps the first-mention state of one document; make one per
document and pass every citation through it.
"""

from __future__ import annotations

import re
from datetime import UTC, date

from flask_babel import gettext as _

from .clock import zone

RENUMBERED_ON = date(2026, 1, 1)
FULL_TITLES = {
    "网络安全法": "中华人民共和国网络安全法",
    "数据安全法": "中华人民共和国数据安全法",
    "个人信息保护法": "中华人民共和国个人信息保护法",
    "保守国家秘密法": "中华人民共和国保守国家秘密法",
    "保密法": "中华人民共和国保守国家秘密法",
    "密码法": "中华人民共和国密码法",
    "行政处罚法": "中华人民共和国行政处罚法",
    "保守国家秘密法实施条例": "中华人民共和国保守国家秘密法实施条例",
    "保密法实施条例": "中华人民共和国保守国家秘密法实施条例",
    "反电信网络诈骗法": "中华人民共和国反电信网络诈骗法",
    "反恐怖主义法": "中华人民共和国反恐怖主义法",
    "电子商务法": "中华人民共和国电子商务法",
    "未成年人保护法": "中华人民共和国未成年人保护法",
}

_DIGITS = "零一二三四五六七八九"
_NUMBERED = re.compile(r"第\s*(\d{1,4})\s*(条|款|项|章|节|目)")
_CN = "零一二三四五六七八九十百千"
# 第九条（原第八条）: a renumbered article with its old number, as the notice's fixed text has it.
_PAIR = re.compile(rf"(第[{_CN}]+条)（原(第[{_CN}]+条)）")


def cn_number(n: int) -> str:
    """0–9999 in Chinese numerals as statutes write them: 二十三, 十一, 一百零五, 一千零一."""
    if n < 0 or n > 9999:
        raise ValueError(n)
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = (n // value) % 10
        if digit:
            if zero and out:
                out += "零"
            out += _DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    return out


def chinese_numerals(text: str) -> str:
    """第23条第2款 -> 第二十三条第二款; numbers elsewhere (dates, GB/T clauses) stay."""
    return _NUMBERED.sub(lambda m: f"第{cn_number(int(m.group(1)))}{m.group(2)}", text)


class Citer:
    """Cites laws in one document: full title at first mention, Chinese numerals, and the
    pre-2026 article number first for conduct before RENUMBERED_ON."""

    def __init__(self, on: date | None = None) -> None:
        self.on = on
        self.seen: set[str] = set()

    @property
    def before_renumbering(self) -> bool:
        return self.on is not None and self.on < RENUMBERED_ON

    def law(self, name: str) -> str:
        full = FULL_TITLES.get(name, name)
        if name in self.seen or full == name:
            self.seen.add(name)
            return f"《{name}》"
        self.seen.add(name)
        return f"《{full}》（以下简称《{name}》）"

    def article(self, entry: dict) -> str:
        """The article part of a law entry, in the order the conduct's date calls for."""
        new = chinese_numerals(str(entry.get("article", "")))
        old = entry.get("article_pre2026")
        if not old:
            return new
        old = chinese_numerals(str(old))
        if self.before_renumbering:
            return old + _("(now %(article)s)", article=new)
        return new + _("(formerly %(article)s)", article=old)

    def basis(self, entry: dict) -> str:
        """One legal-basis entry: a law with its article, or a standard with its clause."""
        if "law" not in entry:
            return f"{entry.get('standard', '')} {entry.get('clause', '')}".strip()
        return self.law(entry["law"]) + self.article(entry)

    def bases(self, entries, sep: str = "；") -> str:
        return sep.join(self.basis(e) for e in entries if isinstance(e, dict))

    def mark(self, text: str) -> str:
        """Text already written in full (the authority to inspect): remember its full titles as
        introduced, and for conduct before the renumbering put the old article number first."""
        for name, full in FULL_TITLES.items():
            if f"《{full}》" in text:
                self.seen.add(name)
        if self.before_renumbering:
            text = _PAIR.sub(
                lambda m: m.group(2) + _("(now %(article)s)", article=m.group(1)), text
            )
        return text


def conduct_date(visit) -> date | None:
    """The date a visit's findings describe: when it started, else when it was planned."""
    if visit is None:
        return None
    if getattr(visit, "started_at", None) is not None:
        return visit.started_at.replace(tzinfo=UTC).astimezone(zone()).date()
    return getattr(visit, "scheduled_on", None)


def citer_for(visit) -> Citer:
    """A fresh Citer for one document about a visit (templates: citer_for(inspection.visit))."""
    return Citer(on=conduct_date(visit))
