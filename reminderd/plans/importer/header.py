"""The plan's particulars from the document's head: number, date, issuer, title."""

from __future__ import annotations

import re
from datetime import date

from reminderd.plans.importer.model import PlanInfo

_NUMBER = re.compile(
    r"^\s*(?:Số|SỐ)\s*(?:hiệu)?\s*:\s*"
    r"(\d*\s*/\s*\d{0,4}\s*/?\s*[A-ZĐ][A-ZĐa-z0-9&]*(?:-[A-ZĐ][A-ZĐa-z0-9&]*)*)"
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
    r"^(ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN|UBND|BỘ [A-ZĐÀ-Ỹ ,-]+|CHÍNH PHỦ|THỦ TƯỚNG CHÍNH PHỦ|"
    r"HỘI ĐỒNG NHÂN DÂN|SỞ [A-ZĐÀ-Ỹ ,-]+|BAN [A-ZĐÀ-Ỹ0-9 ,-]+)\s*$"
)
_STOP = re.compile(
    r"^(?:Căn cứ|Thực hiện|Để|Nhằm|Theo|I\.|Kính gửi|Triển khai|Trên cơ sở|PHỤ LỤC|Phụ lục|"
    r"S?TT$|STT\b|Stt$)"
)
_TITLE_VERBS = re.compile(r"^(?:Thực hiện|Triển khai|Theo)\b")
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


# the issuing body's code in a document's number (Decree 30/2020/NĐ-CP, Appendix III)
_CODES = {
    "CP": "Chính phủ", "TTg": "Thủ tướng Chính phủ", "VPCP": "Văn phòng Chính phủ",
    "BNG": "Bộ Ngoại giao", "BTP": "Bộ Tư pháp", "BNV": "Bộ Nội vụ", "BTC": "Bộ Tài chính",
    "BCT": "Bộ Công Thương", "BYT": "Bộ Y tế", "BXD": "Bộ Xây dựng", "BQP": "Bộ Quốc phòng",
    "BCA": "Bộ Công an", "BKHĐT": "Bộ Kế hoạch và Đầu tư", "BGDĐT": "Bộ Giáo dục và Đào tạo",
    "BKHCN": "Bộ Khoa học và Công nghệ", "BTTTT": "Bộ Thông tin và Truyền thông",
    "BVHTTDL": "Bộ Văn hóa, Thể thao và Du lịch", "BGTVT": "Bộ Giao thông vận tải",
    "BTNMT": "Bộ Tài nguyên và Môi trường", "BNNMT": "Bộ Nông nghiệp và Môi trường",
    "BNNPTNT": "Bộ Nông nghiệp và Phát triển nông thôn", "BDTTG": "Bộ Dân tộc và Tôn giáo",
    "BLĐTBXH": "Bộ Lao động - Thương binh và Xã hội", "NHNN": "Ngân hàng Nhà nước Việt Nam",
    "TTCP": "Thanh tra Chính phủ", "UBDT": "Ủy ban Dân tộc",
}


def _derived_issuer(reference: str, place: str) -> str:
    if "UBND" in reference and place and place[:1].isupper():
        return f"UBND tỉnh {place}" if place not in ("Hà Nội",) else "UBND thành phố Hà Nội"
    for code in reversed(reference.split("/")[-1].split("-")):
        if code in _CODES:
            return _CODES[code]
    return ""


_SUBJECT = re.compile(r"^\s*(?:V/v|Về việc)\s*:?\s*(\S.*)$", re.IGNORECASE)


def _title(head: list[str]) -> str:
    for i, line in enumerate(head):
        subject = _SUBJECT.match(line)
        if subject:  # a letter's subject line, "V/v …" and the lines it wraps onto
            subject_lines = [subject[1]]
            for nxt in head[i + 1 : i + 4]:
                if (not nxt or not nxt[:1].isupper() or nxt.isupper()
                        or re.search(r",\s*ngày\b|^Kính gửi", nxt)):
                    break
                subject_lines.append(nxt)
            return "Công văn về việc " + " ".join(" ".join(subject_lines).split())
        bare = line.strip().strip("*#").strip()
        if bare.upper() == bare and bare in _KINDS:
            parts: list[str] = []
            for nxt in head[i + 1 : i + 6]:
                text = nxt.strip().strip("*#_").strip()
                body_starts = _STOP.match(text) and not (not parts and _TITLE_VERBS.match(text))
                if not text or body_starts or text.startswith("(") or set(text) <= set("-_=.–—"):
                    break
                if parts and text.isupper() and not " ".join(parts).isupper():
                    break  # "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH", who decides, after the title
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


_PLACE_WORD = re.compile(r"\b(tỉnh|thành phố|huyện|quận|thị xã) (.+)$")
_PART_SPLIT = re.compile(r"(, | và | - )")
_PROPER = {"công thương": "Công Thương"}


def _sentence(text: str) -> str:
    """An issuer written in capitals, in the way names are written in running text:
    "BỘ VĂN HÓA, THỂ THAO VÀ DU LỊCH" → "Bộ Văn hóa, Thể thao và Du lịch", "ỦY BAN NHÂN DÂN
    TỈNH BÀ RỊA - VŨNG TÀU" → "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu"."""
    low = " ".join(text.split()).lower()
    place = _PLACE_WORD.search(low)
    if place:
        head = low[: place.start()].strip()
        name = " ".join(w[:1].upper() + w[1:] for w in place[2].split())
        out = f"{_organ(head)} {place[1]} {name}".strip() if head else f"{place[1]} {name}"
    else:
        out = _organ(low)
    out = out[:1].upper() + out[1:]
    return out.replace("Ubnd", "UBND").replace("ubnd", "UBND")


def _organ(low: str) -> str:
    """ "bộ kế hoạch và đầu tư" → "bộ Kế hoạch và Đầu tư": each part of the field after the
    organ's kind starts with a capital (Decree 30/2020/NĐ-CP, Appendix II)."""
    kind = re.match(r"(bộ|sở|ban|tổng cục|cục|vụ|ủy ban nhân dân|uỷ ban nhân dân|"
                    r"hội đồng nhân dân|ủy ban|uỷ ban)\s+(.+)$", low)
    if not kind or re.match(r"(?:ủy|uỷ) ban nhân dân$|hội đồng nhân dân$", low):
        return low.replace("chính phủ", "Chính phủ")
    parts = _PART_SPLIT.split(kind[2])
    field = "".join(p if _PART_SPLIT.fullmatch(p) else _PROPER.get(p, p[:1].upper() + p[1:])
                    for p in parts)
    return f"{kind[1]} {field}"
