"""Cells that list agencies, as documents write them: where one agency's name ends.

- :func:`split_agencies` splits a cell that lists several agencies ("Sở Ngoại vụ, Liên hiệp
  các tổ chức hữu nghị tỉnh và các Hội thành viên"; "các Sở: Công Thương; Tư pháp");
- :func:`starts_like_agency` tells whether a line starts like an agency's name (a table
  cell of its own when a table's text runs together).

Each name found is matched by the one matcher of :mod:`reminderd.plans.names`.
"""

from __future__ import annotations

import re

from reminderd.plans.names import nfc_text, strip_role

# --- splitting a cell that lists several agencies -------------------------------------------

# Words that start an agency's name: a new agency starts after ',', ';' or 'và' only here.
# Words that also start a task's wording ("Ban hành", "Báo cáo", "Hội nghị") are excluded.
_NOT_AGENCY = (
    r"hành|cáo|thi|thảo|nghị|chợ|diễn|chống|kết|khen|vệ|sách|giao|trình|thuật|tổ chức|tuyên"
)
_NAMED_HEADS = (
    r"Sở|Ban|Bộ|Hội|Báo|Đài|Cục|Chi cục|Viện|Phòng|Trường|Trung tâm|Đoàn|Quỹ|Tổng cục|"
    r"Học viện|Đại học|Cao đẳng|Công ty|Tổng công ty|Tập đoàn|Ngân hàng|Kho bạc|Liên hiệp|"
    r"Liên đoàn|Hiệp hội|Văn phòng|Thanh tra|Bảo hiểm|Chi nhánh|Nhà xuất bản|Tòa án|Toà án|"
    r"Viện kiểm sát|Ủy ban|Uỷ ban|Hội đồng|Mặt trận|Cảng vụ|Kiểm toán|Thông tấn xã|"
    r"Ngôi trường|Bệnh viện|Tổ công tác|Chính phủ|Thủ tướng|Tỉnh ủy|Tỉnh uỷ|Huyện ủy|"
    r"Huyện uỷ|Thành ủy|Thành uỷ|Quân khu|Bộ Chỉ huy|Bộ đội|Công an|Cơ quan|Đơn vị|"
    r"Thường trực|Địa phương|Thuế(?=\s+(?:[A-ZĐ]|tỉnh|thành phố))|Vụ(?=\s+[A-ZĐ])|"
    r"Lãnh đạo(?=\s+[A-ZĐ])"
)
_PLAIN_HEADS = r"UBND|HĐND|VP|MTTQ|UBMTTQ|BQL|Tỉnh đoàn|Thành đoàn|Huyện đoàn"
_GROUP_NOUNS = (
    r"sở|ban|ngành|bộ|cơ quan|đơn vị|địa phương|tổ chức|hội|đoàn thể|doanh nghiệp|"
    r"huyện|xã|phường|quận|UBND|Ủy ban|trường|phòng|Sở|Bộ|Hội|Ban|cơ sở|thành viên|"
    r"thành phố|tỉnh|nhà trường|ngân hàng|hợp tác xã|hiệp hội|tập đoàn|tổng công ty|công ty"
)
_HEAD_RX = re.compile(
    rf"(?:(?:{_NAMED_HEADS})(?=[\s:]|$)(?!\s+(?:{_NOT_AGENCY})\b)"
    rf"|(?:{_PLAIN_HEADS})\b|(?:VTV|VOV|TTXVN|BHXH|VNPT|EVN|KBNN|TAND|VKSND)\b"
    rf"|[A-ZĐ]{{2,}}(?:&[A-ZĐ]+)?(?=\s*(?:[,;]|$))"
    rf"|(?:các|Các|những|Những|toàn thể|Toàn thể)\s+(?:(?i:{_GROUP_NOUNS})\b|[A-ZĐ]{{2,}}\b))"
)


def starts_like_agency(text: str) -> bool:
    """Whether a line of a table starts like an agency's name (a cell of its own)."""
    return _HEAD_RX.match(nfc_text(text)) is not None


_SPLIT_RX = re.compile(r"\s*(?:[;,]|\s(?:và|cùng|với)\s)\s*")
_PREFIXED = re.compile(r"^(?:các|Các)\s+(Sở|Bộ|Ban|Hội)\s*:\s*(.*)$", re.DOTALL)


def _split_commas(piece: str) -> list[str]:
    """Split at ',' and 'và' only where an agency's name starts after them."""
    out: list[str] = []
    start = 0
    for m in _SPLIT_RX.finditer(piece):
        rest = piece[m.end() :]
        if _HEAD_RX.match(rest) and m.start() > start:
            out.append(piece[start : m.start()])
            start = m.end()
    out.append(piece[start:])
    return [p for p in (strip_role(p) for p in out) if p]


def split_agencies(cell: str) -> list[str]:
    """The agencies a cell lists, each as written ("các Sở: A; B" gives "Sở A", "Sở B")."""
    text = nfc_text(cell)
    if not text:
        return []
    out: list[str] = []
    prefix = ""
    for raw in re.split(r"\s*;\s*", text):
        piece = raw.strip()
        if not piece:
            continue
        m = _PREFIXED.match(piece)
        if m:
            prefix, piece = m[1] + " ", m[2]
        elif prefix and _HEAD_RX.match(piece):
            prefix = ""
        parts = _split_commas(piece)
        if prefix and parts:
            parts[0] = prefix + parts[0]
        out.extend(parts)
        if len(parts) > 1:
            prefix = ""  # the list under "các Sở:" ended at the next agency
    return out
