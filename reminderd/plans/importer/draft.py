"""The imported document written out: a draft plan in plans.yaml syntax, or JSON.

The draft is a ``plans:`` entry the loader reads once the agencies it names exist: a
matched agency is written as its id, an unknown one as written (so it resolves as soon as
an agency with that name or alias is added). Every point a human must decide is a comment
starting with ``# CẦN QUYẾT ĐỊNH:`` on the task it concerns. Nothing is guessed silently.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reminderd.plans.importer.build import Imported, ImportedTask
from reminderd.plans.names import Match

_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def plan_id(imported: Imported, given: str | None) -> str:
    if given:
        return given
    ref = imported.info.reference
    number = ref.split("/")[0].strip() if ref else ""
    kind = ref.split("/")[-1] if "/" in ref else "kh"
    base = "-".join(p for p in (kind.lower(), number, str(imported.year or "")) if p)
    base = _ID_CHARS.sub("-", base.replace("đ", "d").replace("Đ", "D")).strip("-.")
    return base or "ke-hoach-moi"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _refs(matches: list[Match]) -> str:
    return "[" + ", ".join(m.agency or m.group_id or _q(m.written) for m in matches) + "]"


def reference_text(imported: Imported) -> str:
    info = imported.info
    kind = "Văn bản"
    for name in ("Kế hoạch", "Chương trình", "Quyết định", "Nghị quyết", "Đề án", "Chỉ thị",
                 "Công văn", "Thông báo", "Hướng dẫn"):
        if info.title.startswith(name):
            kind = name
    parts = [f"{kind} số {info.reference}" if info.reference else kind]
    if info.issued:
        y, m, d = info.issued.split("-")
        parts.append(f"ngày {d}/{m}/{y}")
    elif info.issued_text:
        parts.append(info.issued_text)
    if info.issuer:
        parts.append(f"của {info.issuer}")
    return " ".join(parts)


def to_yaml(imported: Imported, given_id: str | None = None) -> str:
    info = imported.info
    out = [
        f"# Bản nháp do `reminderd import` tạo từ {imported.path.name}: để tệp này trong thư mục",
        "# plans (mỗi văn bản một tệp) hoặc chép vào plans.yaml. Mỗi dòng “# CẦN QUYẾT ĐỊNH:” là",
        "# một điểm người soạn phải quyết định; `reminderd check` cho biết tệp thêm những gì.",
        "# Cơ quan chưa có trong danh bạ được ghi đúng như văn bản viết: thêm cơ quan đó vào",
        "# agencies: (tên hoặc bí danh trùng với cách viết này) hoặc thay bằng id đúng.",
    ]
    if info.issuer_derived:
        out.append(f"# Cơ quan ban hành “{info.issuer}” suy ra từ ký hiệu văn bản và địa danh.")
    if not imported.tasks:
        out.append("# CẦN QUYẾT ĐỊNH: không tìm thấy nhiệm vụ nào (bảng phụ lục hoặc các mục "
                   "“Thời gian: …”, “Cơ quan chủ trì: …”); nhập nhiệm vụ bằng tay.")
    out += ["plans:", f"  - id: {_q(plan_id(imported, given_id))}",
            f"    title: {_q(info.title or imported.path.stem)}"]
    if not info.title:
        out.append("    # CẦN QUYẾT ĐỊNH: không tìm thấy tên văn bản; ghi lại title.")
    out.append(f"    reference: {_q(reference_text(imported))}")
    if imported.year:
        out.append(f"    year: {imported.year}")
    else:
        out.append("    year: 2000  # CẦN QUYẾT ĐỊNH: không tìm thấy năm của văn bản")
    out.append("    tasks:" if imported.tasks else "    tasks: []")
    for task in imported.tasks:
        out.extend(_task_yaml(task))
    return "\n".join(out) + "\n"


def _task_yaml(task: ImportedTask) -> list[str]:
    raw = task.raw
    lines = [f"      - id: {_q(task.task_id)}", f"        title: {_q(raw.title)}"]
    lines.append(f"        when: {_q(raw.when)}")
    lines.append(f"        lead: {_refs(task.lead)}")
    if task.support:
        lines.append(f"        support: {_refs(task.support)}")
    notes = [f"Văn bản ghi: chủ trì “{raw.lead_text}”" if raw.lead_text else "",
             f"phối hợp “{raw.support_text}”" if raw.support_text else "",
             *raw.notes]
    text = "; ".join(n for n in notes if n)
    if text:
        lines.append(f"        notes: {_q(text)}")
    for problem in task.problems:
        lines.append(f"        # CẦN QUYẾT ĐỊNH: {problem.message}")
    return lines


def to_json(imported: Imported) -> dict[str, Any]:
    info = imported.info
    return {
        "plan": {
            "title": info.title,
            "reference": info.reference,
            "issued": info.issued or None,
            "issuer": info.issuer,
        },
        "tasks": [_task_json(t) for t in imported.tasks],
    }


def _task_json(task: ImportedTask) -> dict[str, Any]:
    raw = task.raw
    timing = task.timing or {}
    return {
        "number": raw.number,
        "title": raw.title,
        "lead_text": raw.lead_text,
        "support_text": [m.written for m in task.support],
        "lead": [i for m in task.lead for i in m.ids],
        "support": [i for m in task.support for i in m.ids],
        "when": raw.when,
        "kind": timing.get("kind"),
        "start": timing.get("start"),
        "end": timing.get("end"),
        "problems": [p.as_json() for p in task.problems],
    }
