"""Deadlines written in running text, outside tables and labelled prose blocks.

    1. Sở Ngoại vụ chủ trì, … tổng hợp, báo cáo kết quả thực hiện cho UBND tỉnh, Bộ Ngoại
    giao vào tháng 01/2023 hoặc đột xuất khi được yêu cầu.

    Công văn trả lời gửi về Bộ Ngoại giao trước ngày 12/6/2026 để tổng hợp.

A paragraph that asks for a report, a reply or a submission (báo cáo, gửi, trả lời, nộp,
đăng ký, cung cấp, hoàn thành, trình) by a written date ("trước ngày 12/6/2026", "chậm nhất
ngày 15/12 hằng năm", "vào tháng 01/2023", "trong quý II/2025") is a task. Its lead is the
agency the paragraph (or its numbered heading, "2. Sở Tài chính:") opens with; in a letter,
the addressees of "Kính gửi:". A paragraph with neither is left alone: an event's date in a
description ("dự kiến tổ chức vào tháng 07/2022") is not a duty of the plan's agencies.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from reminderd.plans.importer.cells import starts_like_agency
from reminderd.plans.importer.lines import continues
from reminderd.plans.importer.model import RawTask
from reminderd.plans.importer.prose import enter, flat_path, heading, is_field

_DATE = r"\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{4})?|\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?"
# a month or quarter with its year, or recurring ("trong tháng 4" alone is a statement)
_PERIOD = (r"(?:tháng\s+\d{1,2}|quý\s+[IV]{1,3})(?:\s*/\s*\d{4}|\s+năm\s+\d{4}"
           r"|(?=\s+(?:hằng|hàng)\s+(?:năm|quý)))")
_EVERY = r"(?:\s+(?:hằng|hàng)\s+(?:năm|tháng|quý))?"
_DEADLINE = re.compile(
    rf"(?P<by>(?:trước|chậm nhất(?: là)?|muộn nhất|không muộn hơn|hạn chót)\s+(?:ngày\s+)?"
    rf"(?:{_DATE}){_EVERY})"
    rf"|(?:vào|trong)\s+(?P<in>{_PERIOD}{_EVERY})",
    re.IGNORECASE,
)
_ACTION = re.compile(
    r"\b(?:báo cáo|gửi|trả lời|nộp|đăng ký|cung cấp|hoàn thành|hoàn thiện|trình)\b", re.I
)
# where an agency's name ends and its duty begins
_DUTY_VERB = re.compile(
    r"\s*(?:[:(]|\s(?:chủ trì|chủ động|có trách nhiệm|chịu trách nhiệm|phối hợp|tham mưu|"
    r"báo cáo|tổng hợp|căn cứ|theo dõi|hướng dẫn|thực hiện|triển khai|xây dựng|tổ chức|gửi|"
    r"nghiên cứu|rà soát|đôn đốc|kiểm tra|bố trí|cân đối|trả lời|cung cấp|đăng ký|nộp|"
    r"khẩn trương|được giao|tiếp tục|phân công|lựa chọn|cử|theo chức năng)\b)"
)
_ADDRESSEES = re.compile(r"^\s*Kính gửi\s*:?\s*(.*)$", re.IGNORECASE)
_BULLET = re.compile(r"^[-•*–+]\s*(\S.*)$")
_END = re.compile(r"^(?:Nơi nhận|KT\.|TM\.|TL\.|PHỤ LỤC)")

TimeTest = Callable[[str], bool]


def tasks_from_duties(lines: list[str], is_time: TimeTest) -> list[RawTask]:
    """Tasks from paragraphs that set a deadline for an agency (see the module's text)."""
    addressees = _addressees(lines)
    path: list[tuple[int, str]] = []
    owner: dict[tuple[str, ...], str] = {}  # a heading that names an agency: its bullets' lead
    found: list[tuple[tuple[str, ...], RawTask]] = []
    for marker, text in _paragraphs(lines):
        head = heading(marker) if marker else None
        key = tuple(n for _, n in path)
        if head is not None:
            level, number, body = head
            enter(path, level, number)
            key = tuple(n for _, n in path)
            text = body + text[len(marker) :]
            agency = _agency(text)
            if agency:
                owner[key] = agency
        deadline = _DEADLINE.search(text)
        if deadline is None or not _ACTION.search(text):
            continue
        when = (deadline["by"] or deadline["in"]).strip()
        if not is_time(when):
            continue
        lead = _agency(text) or next(
            (owner[key[:n]] for n in range(len(key), 0, -1) if key[:n] in owner), ""
        ) or addressees
        if not lead:
            continue
        found.append((key, RawTask(
            number="", title=_sentence(text, deadline.start()), lead_text=lead, when=when,
            source="text",
        )))
    return _numbered(found)


def _paragraphs(lines: list[str]) -> list[tuple[str, str]]:
    """(the marker line, the paragraph's text) for each paragraph of running text."""
    out: list[tuple[str, str]] = []
    marker, text = "", ""
    for line in lines:
        if not line:
            continue
        if _END.match(line):
            break
        starts = heading(line) is not None or _BULLET.match(line) or is_field(line)
        if text and not starts and (continues(text, line) or not text.rstrip().endswith(
                (".", ";", ":"))):
            text = f"{text} {line}"
            continue
        if text:
            out.append((marker, text))
        marker = line if heading(line) is not None else ""
        text = "" if is_field(line) else line
    if text:
        out.append((marker, text))
    return [(m, t) for m, t in out if t]


def _agency(text: str) -> str:
    """The agency a duty opens with ("Sở Ngoại vụ chủ trì, …" gives "Sở Ngoại vụ")."""
    body = _BULLET.sub(r"\1", text).strip()
    if not starts_like_agency(body):
        return ""
    cut = _DUTY_VERB.search(body)
    name = body[: cut.start()] if cut else body
    name = name.strip(" ,.;:")
    return name if 2 <= len(name) <= 120 else ""


def _addressees(lines: list[str]) -> str:
    for i, line in enumerate(lines[:60]):
        m = _ADDRESSEES.match(line)
        if m:
            text = m[1]
            for nxt in lines[i + 1 : i + 4]:
                if not nxt or heading(nxt) is not None or not nxt.startswith(("-", "+")):
                    break
                text = f"{text}; {nxt.lstrip('-+ ')}"
            return text.strip(" .;:")
    return ""


def _sentence(text: str, at: int) -> str:
    """The sentence that holds the deadline, without its numbering."""
    start = max(text.rfind(". ", 0, at), text.rfind("; ", 0, at))
    end_dot = text.find(". ", at)
    end = len(text) if end_dot < 0 else end_dot
    sentence = text[start + 2 if start >= 0 else 0 : end].strip(" .;")
    sentence = " ".join(_BULLET.sub(r"\1", sentence).split())
    return sentence[:1].upper() + sentence[1:]


def _numbered(found: list[tuple[tuple[str, ...], RawTask]]) -> list[RawTask]:
    """Each duty numbered by its heading; a letter when a heading holds several."""
    per: dict[tuple[str, ...], int] = {}
    for key, _ in found:
        per[key] = per.get(key, 0) + 1
    seen: dict[tuple[str, ...], int] = {}
    out: list[RawTask] = []
    for key, task in found:
        parts = flat_path(key)
        if per[key] > 1:
            seen[key] = seen.get(key, 0) + 1
            parts.append("abcdefghiklmnopqrstuvxy"[min(seen[key], 23) - 1])
        task.number = ".".join(parts) or str(len(out) + 1)
        out.append(task)
    return out
