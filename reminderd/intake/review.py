"""What a new or changed plan file adds, for ``reminderd check``: review, then apply.

The reference is the last successful ``reminderd check``: it records, in
``var/plans-checked.json``, each plan file's SHA-256 and a digest of every item (agency,
group, occasion, agreement, plan, task) by the file it is defined in. The next ``check``
compares the files with that record and prints, in Vietnamese, for each file that is new,
changed or gone: the tasks, agencies and other items it adds, changes or removes, and the
first deadlines of the tasks it adds or changes. The daemon does not write the record: a
file the daemon already applied still shows at the next ``check``, until someone reviewed
it there.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from reminderd.core.model import Plans
from reminderd.plans.loader import plan_files
from reminderd.wording import vn_date
from reminderd.workspace import Workspace

STATE_NAME = "plans-checked.json"
_NOUNS = {"agency": "cơ quan", "group": "nhóm cơ quan", "occasion": "ngày kỷ niệm",
          "agreement": "thỏa thuận", "plan": "kế hoạch", "task": "nhiệm vụ"}


def files_of(plans_path: Path) -> list[Path]:
    return plan_files(plans_path) if plans_path.is_dir() else [plans_path]


def _file_of(origin: str) -> str:
    return origin.rsplit(":", 2)[0] if origin.count(":") >= 2 else origin


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:16]


def items(plans: Plans) -> dict[str, tuple[str, str]]:
    """Every item by key (``task/plan/id``, ``agency/id``...): (its file, its digest)."""
    out: dict[str, tuple[str, str]] = {}
    for a in plans.agencies:
        out[f"agency/{a.id}"] = (_file_of(a.origin), _digest(a.name, a.emails, a.aliases))
    for g in plans.groups:
        out[f"group/{g.id}"] = (_file_of(g.origin), _digest(g.name, g.members, g.aliases))
    for o in plans.occasions:
        out[f"occasion/{o.id}"] = (_file_of(o.origin), _digest(o.title, o.date_text, o.lead,
                                                               o.support, o.remind))
    for ag in plans.agreements:
        out[f"agreement/{ag.id}"] = (_file_of(ag.origin), _digest(
            ag.title, ag.signed, ag.valid_years, ag.review_every_years, ag.lead, ag.support))
    for p in plans.plans:
        out[f"plan/{p.id}"] = (_file_of(p.origin), _digest(p.title, p.year, p.coordinator))
        for t in p.tasks:
            out[f"task/{p.id}/{t.id}"] = (_file_of(t.origin), _digest(
                t.title, t.when.text, t.lead, t.support, t.done, t.remind))
    return out


def snapshot(ws: Workspace) -> dict[str, Any]:
    files = {}
    for path in files_of(ws.settings.plans):
        try:
            files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            continue
    return {"version": 1, "files": files,
            "items": {k: list(v) for k, v in sorted(items(ws.plans).items())}}


def state_path(ws: Workspace) -> Path:
    return ws.settings.var_dir / STATE_NAME


def read_state(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and data.get("version") == 1
    return data if ok and isinstance(data.get("files"), dict) else None


def record(ws: Workspace, data: dict[str, Any]) -> str | None:
    """Write the record atomically; a message if it cannot be written (check still passes)."""
    path = state_path(ws)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", "utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        return f"không ghi được {path} ({exc.strerror or exc}); lần sau sẽ tóm tắt lại"
    return None


@dataclass
class FileChange:
    """What one plan file adds, changes and removes since the record."""

    path: str
    status: str  # "mới" | "đã sửa" | "đã bỏ"
    added: dict[str, list[str]] = field(default_factory=dict)  # kind -> keys
    changed: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)


def compare(previous: dict[str, Any], now: dict[str, Any]) -> list[FileChange]:
    old_files: dict[str, str] = previous["files"]
    new_files: dict[str, str] = now["files"]
    old_items: dict[str, list[str]] = previous.get("items", {})
    new_items: dict[str, list[str]] = now["items"]
    out: list[FileChange] = []
    for path in sorted(set(old_files) | set(new_files)):
        if old_files.get(path) == new_files.get(path):
            continue
        status = "mới" if path not in old_files else "đã bỏ" if path not in new_files \
            else "đã sửa"
        change = FileChange(path, status)
        for key, (file, digest) in new_items.items():
            if file != path:
                continue
            kind = key.split("/", 1)[0]
            before = old_items.get(key)
            if before is None:
                change.added.setdefault(kind, []).append(key)
            elif before[1] != digest or before[0] != file:
                change.changed.setdefault(kind, []).append(key)
        for key, (file, _old) in old_items.items():
            if file == path and key not in new_items:
                change.removed.setdefault(key.split("/", 1)[0], []).append(key)
        out.append(change)
    return out


def _counts(groups: dict[str, list[str]]) -> str:
    parts = []
    for kind in _NOUNS:
        keys = groups.get(kind, [])
        if not keys:
            continue
        ids = [k.split("/", 1)[1] for k in keys]
        shown = "" if kind == "task" else " (" + ", ".join(ids[:4]) + (", …" if len(ids) > 4
                                                                        else "") + ")"
        parts.append(f"{len(keys)} {_NOUNS[kind]}{shown}")
    return ", ".join(parts)


def summary(ws: Workspace, today: date, *, save: bool = True) -> list[str]:
    """The lines ``check`` prints about new and changed plan files (and records the state)."""
    now = snapshot(ws)
    path = state_path(ws)
    previous = read_state(path)
    lines: list[str] = []
    if previous is None:
        lines.append(f"  Ghi nhận {len(now['files'])} tệp kế hoạch vào {path}: lần `check` sau "
                     "sẽ tóm tắt tệp nào mới hoặc đã sửa.")
    else:
        changes = compare(previous, now)
        if not changes:
            lines.append("  Không có tệp kế hoạch nào mới hoặc đã sửa từ lần `check` trước.")
        watched = {k for c in changes for k in (*c.added.get("task", []),
                                                 *c.changed.get("task", []))}
        firsts = _first_deadlines(ws, today, watched)
        for change in changes:
            lines.append(f"  Tệp {change.status}: {change.path}")
            if not (change.added or change.changed or change.removed):
                lines.append("    không thêm, sửa hay bỏ mục nào (chỉ đổi chú thích hoặc cách "
                             "viết)")
            for label, groups in (("thêm", change.added), ("sửa", change.changed),
                                  ("bỏ", change.removed)):
                text = _counts(groups)
                if text:
                    lines.append(f"    {label} {text}")
            mine = [line for key, line in firsts
                    if key in (*change.added.get("task", []), *change.changed.get("task", []))]
            if mine:
                lines.append("    hạn đầu tiên:")
                lines += [f"      {line}" for line in mine[:3]]
    if save:
        problem = record(ws, now)
        if problem:
            lines.append(f"  Cảnh báo: {problem}")
    return lines


def _first_deadlines(ws: Workspace, today: date, keys: set[str]) -> list[tuple[str, str]]:
    """(task key, line) of the first deadline of each task in ``keys``, soonest first."""
    if not keys:
        return []
    first: dict[str, Any] = {}
    for occ in ws.occurrences(today, today + timedelta(days=366 * 2)):
        stem = occ.key.split("@", 1)[0]
        if stem in keys and stem not in first:
            first[stem] = occ
    ordered = sorted(first.items(), key=lambda kv: (kv[1].date, kv[0]))
    out = []
    for key, occ in ordered:
        lead = ", ".join(occ.lead) or "cơ quan điều phối"
        title = occ.title if len(occ.title) <= 60 else occ.title[:57] + "…"
        out.append((key, f"{vn_date(occ.date)}  {key.split('/', 2)[2]}  {title}  "
                         f"(chủ trì: {lead})"))
    return out
