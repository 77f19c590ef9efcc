"""The plan's particulars from the document's head: number, date, issuer, title."""

from __future__ import annotations

import re
from datetime import date

from reminderd.plans.importer.model import PlanInfo

_NUMBER = re.compile(
    r"^\s*(?:Số|SỐ)\s*(?:hiệu)?\s*:\s*(\d*\s*/\s*\d{0,4}\s*/?\s*[A-ZĐ][A-ZĐ0-9&]*(?:-[A-ZĐ0-9&]+)*)"
)
_DATE = re.compile(
    r"ngày\s+(\d{1,2})?\s*tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE
)
_PLACE_DATE = re.compile(r"^\s*([^,\d]{2,40}),\s*ngày\b")
_KINDS = (
    "KẾ HOẠCH", "CHƯƠNG TRÌNH", "QUYẾT ĐỊNH", "NGHỊ QUYẾT", "ĐỀ ÁN", "CHỈ THỊ", "THÔNG BÁO",
    "CÔNG VĂN", "HƯỚNG DẪN", "KẾ HOẠCH HÀNH ĐỘNG", "CHƯƠNG TRÌNH HÀNH ĐỘNG",
)
_ISSUERS = re.compile(
    r"^(ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN|UBND|BỘ [A-ZĐÀ-Ỹ ,]+|CHÍNH PHỦ|THỦ TƯỚNG CHÍNH PHỦ|"
    r"HỘI ĐỒNG NHÂN DÂN|SỞ [A-ZĐÀ-Ỹ ,]+|BAN [A-ZĐÀ-Ỹ ,]+)\s*$"
)
_STOP = re.compile(r"^(?:Căn cứ|Thực hiện|Để|Nhằm|Theo|I\.|Kính gửi|Triển khai|Trên cơ sở)")
_HEAD_LINES = 40


def plan_info(lines: list[str], year: int | None) -> PlanInfo:
    info = PlanInfo()
    head = [ln for ln in lines[:_HEAD_LINES * 2] if ln][:_HEAD_LINES]
    for line in head:
        m = _NUMBER.match(line)
        if m and not info.reference:
            info.reference = re.sub(r"\s+", "", m[1])
        d = _DATE.search(line)
        if d and not info.issued_text:
            info.issued_text = d[0]
            if d[1]:
                try:
                    info.issued = date(int(d[3]), int(d[2]), int(d[1])).isoformat()
                except ValueError:
                    info.issued = ""
            info.year = int(d[3])
            place = _PLACE_DATE.match(line)
            if place and not info.issuer:
                info.issuer = _derived_issuer(info.reference, place[1].strip())
                info.issuer_derived = bool(info.issuer)
    explicit = _explicit_issuer(head)
    if explicit:
        info.issuer, info.issuer_derived = explicit, False
    info.title = _title(head)
    if year is not None:
        info.year = year
    return info


def _explicit_issuer(head: list[str]) -> str:
    for i, line in enumerate(head[:8]):
        left = line.split("|")[0].split("CỘNG HÒA")[0].strip()
        if _ISSUERS.match(left):
            name = left
            after = head[i + 1] if i + 1 < len(head) else ""
            nxt = after.split("|")[0].split("CỘNG HÒA")[0].strip()
            if nxt.startswith(("TỈNH ", "THÀNH PHỐ ", "HUYỆN ")) and nxt.isupper():
                name = f"{name} {nxt}"
            return _sentence(name)
    return ""


def _derived_issuer(reference: str, place: str) -> str:
    if "UBND" in reference and place and place[:1].isupper():
        return f"UBND tỉnh {place}" if place not in ("Hà Nội",) else "UBND thành phố Hà Nội"
    return ""


def _title(head: list[str]) -> str:
    for i, line in enumerate(head):
        bare = line.strip().strip("*#").strip()
        if bare.upper() == bare and bare in _KINDS:
            parts: list[str] = []
            for nxt in head[i + 1 : i + 6]:
                text = nxt.strip().strip("*#_").strip()
                if not text or _STOP.match(text) or text.startswith("("):
                    break
                parts.append(text)
            kind = bare.capitalize()
            body = " ".join(parts)
            if body and body.upper() == body:
                body = re.sub(
                    r"\b(tỉnh|thành phố|huyện|nước|quốc gia) ((?:\w+ ?){1,3})$",
                    lambda m: f"{m[1]} {m[2].title()}", body.lower(),
                )
            return f"{kind} {body}".strip()
    return ""


def _sentence(text: str) -> str:
    words = text.split()
    out = [w.capitalize() if i == 0 else w.lower() for i, w in enumerate(words)]
    s = " ".join(out)
    for abbr in ("Ubnd", "ubnd"):
        s = s.replace(abbr, "UBND")
    s = re.sub(r"\b(tỉnh|thành phố|huyện) (\w)", lambda m: f"{m[1]} {m[2].upper()}", s)
    return re.sub(r"(?<= )(\w)(\w*)(?= |$)", lambda m: m[0], s)
