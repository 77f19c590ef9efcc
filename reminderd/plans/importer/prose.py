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

_W = r"(?: [^\W\d_]+)"  # one more word of a label ("Cơ quan chủ trì soạn thảo")
_LABEL = (
    r"(?:thời gian|thời hạn|tiến độ|hạn hoàn thành|mốc thời gian)" + _W + r"{0,5}|hoàn thành"
    r"|(?:cơ quan|đơn vị|cơ quan, đơn vị|cơ quan/đơn vị|cơ quan, địa phương)"
    r" (?:chủ trì|thực hiện|tham mưu|chịu trách nhiệm|đầu mối)" + _W + r"{0,4}"
    r"|chủ trì" + _W + r"{0,4}|trách nhiệm(?: thực hiện| chủ trì)?|phân công(?: thực hiện)?"
    r"|(?:cơ quan|đơn vị|cơ quan, đơn vị|cơ quan/đơn vị) phối hợp" + _W + r"{0,2}"
    r"|phối hợp(?: thực hiện)?"
    r"|sản phẩm" + _W + r"{0,3}|kết quả(?: đầu ra| dự kiến| sản phẩm)?|hình thức(?: văn bản)?"
    r"|(?:nguồn )?kinh phí(?: thực hiện)?|cấp (?:trình|ban hành)|cơ quan (?:trình|ban hành)"
    r"|nội dung(?: công việc| thực hiện| chính)?"
)
_FIELD = re.compile(
    rf"^(?:[-+•*]\s*|[a-zđ][).]\s+)?(?P<label>{_LABEL})\s*:\s*(?P<value>.*)$", re.IGNORECASE
)
# a second field on the same line: "Chủ trì: Sở A; phối hợp: Sở B. Thời gian: quý II."
_NEXT_FIELD = re.compile(rf"[.;,]\s+(?=(?:{_LABEL})\s*:)", re.IGNORECASE)
_ROMAN = re.compile(r"^([IVXLC]{1,6})[.)]\s+(\S.*)$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)[.)]\s*(\S.*)$")
_LETTER = re.compile(r"^([a-zđ])[)]\s*(\S.*)$")
_BULLET = re.compile(r"^[-•*–]\s*(\S.*)$")
_SUB = re.compile(r"^\+\s*(\S.*)$")


def _role(label: str) -> str:
    label = " ".join(label.lower().split())
    if "chủ trì" in label and "phối hợp" in label:
        return "both"
    if label.startswith(("thời", "tiến độ", "hạn ", "hoàn thành", "mốc")):
        return "time"
    if label.startswith("nội dung"):
        return "content"
    if label.startswith(("sản phẩm", "kết quả", "hình thức", "kinh phí", "nguồn", "cấp ",
                         "cơ quan trình", "cơ quan ban hành")):
        return "note"
    if "phối hợp" in label:
        return "support"
    return "lead"


def split_fields(lines: list[str]) -> list[str]:
    """A line holding several fields as one line per field."""
    out: list[str] = []
    for line in lines:
        if _FIELD.match(line):
            out.extend(p for p in _NEXT_FIELD.split(line) if p)
        else:
            out.append(line)
    return out


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
    for line in split_fields(lines):
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
            if role == "content":
                if not current.title:
                    current.title.append(value)
                role = "note"
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
        head = heading(line)
        if head is not None:
            level, number, text = head
            enter(path, level, number)
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


def enter(path: list[tuple[int, str]], level: int, number: str) -> None:
    """Step into a heading: leave the headings at its level or deeper, then add it."""
    while path and path[-1][0] >= level:
        path.pop()
    path.append((level, number))


_APPENDIX = re.compile(r"^(?:PHỤ LỤC|Phụ lục\s+[IVX\d]+|DANH MỤC|BIỂU)\b")


def heading_path(lines: list[str], upto: int) -> str:
    """The numbered headings a line stands under ("III.1.a"); "" in an appendix, whose
    tables number their own rows."""
    path: list[tuple[int, str]] = []
    for line in lines[:upto]:
        if _APPENDIX.match(line):
            path = []
            continue
        head = heading(line)
        if head is not None:
            enter(path, head[0], head[1])
    return ".".join(flat_path(tuple(n for _, n in path)))


def is_field(line: str) -> bool:
    """Whether a line is a labelled field ("Thời gian: …", "b) Cơ quan chủ trì: …")."""
    return _FIELD.match(line) is not None


def continues_field(block: _Block, line: str) -> bool:
    value = block.fields.get(block.last, "")
    return not value or continues(value, line) or (line[:1].isdigit() and len(line) < 30)


def heading(line: str) -> tuple[int, str, str] | None:
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
        parts = list(flat_path(b.path))
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
                    when=when.strip().rstrip(".;,").strip(),
                    source="prose",
                    notes=notes,
                )
            )
    return tasks


def flat_path(path: tuple[str, ...]) -> list[str]:
    """"II", "1", "1.3" -> "II", "1.3" (a dotted number already holds its parents)."""
    out: list[str] = []
    for part in path:
        if "." in part and out and part.startswith(out[-1] + "."):
            out[-1] = part
        else:
            out.append(part)
    return out
