"""Tasks written as prose blocks: a numbered heading or a bullet, then its fields.

    1.3. Tổ chức đoàn tới thăm, chúc mừng …
    - Gửi thư chúc mừng của Chủ tịch UBND tỉnh …
    Thời gian: Trước ngày 15/8/2022.
    Cơ quan chủ trì: Sở Ngoại vụ.
    Cơ quan phối hợp: Văn phòng UBND tỉnh.

A task is the heading or bullet that the fields ("Thời gian (dự kiến):", "Thời hạn:",
"Cơ quan/Đơn vị chủ trì:", "Đơn vị thực hiện:", "Cơ quan/Đơn vị phối hợp:") follow. Its
number is the document's: the Roman section, the numbered headings ("1.3"), and a letter
for each bullet when a heading has several ("II.1.3.a"). A time given per sub-bullet
("+ Đoàn do …: quý II, III.") makes one task per sub-bullet (".1", ".2").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reminderd.plans.importer.lines import continues
from reminderd.plans.importer.model import RawTask

_FIELD = re.compile(
    r"^(?:[-+•*]\s*)?(?P<label>"
    r"thời gian(?: dự kiến| thực hiện| hoàn thành| tổ chức)?(?: dự kiến)?"
    r"|thời hạn(?: hoàn thành| thực hiện)?|tiến độ(?: thực hiện| hoàn thành)?"
    r"|(?:cơ quan|đơn vị) chủ trì(?: thực hiện)?(?: và (?:cơ quan|đơn vị) phối hợp)?"
    r"|chủ trì(?: thực hiện)?|(?:cơ quan|đơn vị) thực hiện|(?:cơ quan|đơn vị) phối hợp"
    r"|phối hợp(?: thực hiện)?|sản phẩm|kết quả(?: đầu ra)?|kinh phí(?: thực hiện)?"
    r")\s*:\s*(?P<value>.*)$",
    re.IGNORECASE,
)
_ROMAN = re.compile(r"^([IVXLC]{1,6})[.)]\s+(\S.*)$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)[.)]\s*(\S.*)$")
_LETTER = re.compile(r"^([a-zđ])[)]\s*(\S.*)$")
_BULLET = re.compile(r"^[-•*–]\s*(\S.*)$")
_SUB = re.compile(r"^\+\s*(\S.*)$")


def _role(label: str) -> str:
    label = label.lower()
    if "chủ trì" in label and "phối hợp" in label:
        return "both"
    if label.startswith(("thời", "tiến độ")):
        return "time"
    if "phối hợp" in label:
        return "support"
    if "chủ trì" in label or "thực hiện" in label:
        return "lead"
    return "note"


@dataclass
class _Block:
    path: tuple[str, ...]
    bullet: int  # 0: the heading itself; 1, 2, ...: its bullets
    title: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    subtimes: list[str] = field(default_factory=list)
    last: str = ""  # the field the next continuation line belongs to


def tasks_from_prose(lines: list[str]) -> list[RawTask]:
    """Tasks from the prose blocks of a document (blank lines end a paragraph)."""
    path: list[tuple[int, str]] = []  # (level, number): Roman 0, "1." 1, "1.1." 2, "a)" 9
    blocks: list[_Block] = []
    current: _Block | None = None
    bullets = 0
    previous_blank = True
    for line in lines:
        if not line:
            previous_blank = True
            continue
        blank, previous_blank = previous_blank, False
        f = _FIELD.match(line)
        if f:
            if current is None:
                current = _Block(tuple(n for _, n in path), 0)
                blocks.append(current)
            role = _role(f["label"])
            value = f["value"].strip()
            if role in current.fields and role in ("time", "lead"):
                current = _Block(current.path, current.bullet, list(current.title))
                blocks.append(current)
            current.fields[role] = value
            current.last = role
            continue
        sub = _SUB.match(line)
        if sub and current is not None and current.last == "time" and not current.fields["time"]:
            current.subtimes.append(sub[1])
            continue
        heading = _heading(line)
        if heading is not None:
            level, number, text = heading
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, number))
            bullets = 0
            current = _Block(tuple(n for _, n in path), 0, [text])
            blocks.append(current)
            continue
        bullet = _BULLET.match(line)
        if bullet:
            if current is not None and not current.fields and current.bullet > 0:
                current.title.append(bullet[1])  # bullets without fields share the next ones
                continue
            bullets += 1
            current = _Block(tuple(n for _, n in path), bullets, [bullet[1]])
            blocks.append(current)
            continue
        if current is None:
            continue
        if current.last and not blank and continues_field(current, line):
            current.fields[current.last] = f"{current.fields[current.last]} {line}".strip()
        elif not current.fields and current.title and not blank and continues(
            current.title[-1], line
        ):
            current.title[-1] = f"{current.title[-1]} {line}"
        elif current.fields:
            current.last = ""
    return _number(blocks)


def continues_field(block: _Block, line: str) -> bool:
    value = block.fields.get(block.last, "")
    return not value or continues(value, line) or (line[:1].isdigit() and len(line) < 30)


def _heading(line: str) -> tuple[int, str, str] | None:
    m = _ROMAN.match(line)
    if m and m[2][:1].isupper():
        return 0, m[1], m[2]
    m = _NUMBERED.match(line)
    if m and m[2][:1].isupper():
        return 1 + m[1].count("."), m[1], m[2]
    m = _LETTER.match(line)
    if m:
        return 9, m[1], m[2]
    return None


def _number(blocks: list[_Block]) -> list[RawTask]:
    worked = [b for b in blocks if "time" in b.fields or "lead" in b.fields or "both" in b.fields]
    per_heading: dict[tuple[str, ...], int] = {}
    for b in worked:
        per_heading[b.path] = per_heading.get(b.path, 0) + 1
    tasks: list[RawTask] = []
    letters: dict[tuple[str, ...], int] = {}
    for b in worked:
        parts = list(_flat(b.path))
        if b.bullet and per_heading[b.path] > 1:
            letters[b.path] = letters.get(b.path, 0) + 1
            parts.append("abcdefghiklmnopqrstuvxy"[min(letters[b.path], 23) - 1])
        number = ".".join(parts)
        title = " ".join(" ".join(b.title).split()).rstrip(".;: ")
        lead = b.fields.get("lead", b.fields.get("both", ""))
        support = b.fields.get("support", "")
        notes = [v for k, v in b.fields.items() if k == "note" and v]
        times = [b.fields.get("time", "")]
        if b.subtimes:
            times = [t.rsplit(":", 1)[-1] for t in b.subtimes]
        for k, when in enumerate(times):
            label = b.subtimes[k].rsplit(":", 1)[0] if b.subtimes else ""
            tasks.append(
                RawTask(
                    number=f"{number}.{k + 1}" if len(times) > 1 else number,
                    title=title if len(times) == 1 else f"{title} ({label})",
                    lead_text=lead.rstrip(". "),
                    support_text=support.rstrip(". "),
                    when=when.strip().rstrip(".").strip(),
                    source="prose",
                    notes=notes,
                )
            )
    return tasks


def _flat(path: tuple[str, ...]) -> list[str]:
    """"II", "1", "1.3" -> "II", "1.3" (a dotted number already holds its parents)."""
    out: list[str] = []
    for part in path:
        if "." in part and out and part.startswith(out[-1] + "."):
            out[-1] = part
        else:
            out.append(part)
    return out
