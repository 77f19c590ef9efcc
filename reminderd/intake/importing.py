"""The ``reminderd import`` command: messages in Vietnamese, JSON keys in English."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reminderd.core.model import Plans
from reminderd.plans.importer.build import import_document
from reminderd.plans.importer.draft import to_json, to_yaml
from reminderd.plans.importer.readers import ImportProblem
from reminderd.workspace import LoadError, load_workspace


def _directory(config: str) -> Plans | None:
    try:
        return load_workspace(Path(config)).plans
    except LoadError as exc:
        first = exc.problems[0] if exc.problems else ""
        print(f"reminderd import: cảnh báo: không đọc được cấu hình/plans ({first}); mọi cơ "
              "quan được ghi đúng như văn bản, chưa đối chiếu với danh bạ", file=sys.stderr)
        return None


def run_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    output = Path(args.output) if args.output else None
    if output is not None and output.exists():
        print(f"reminderd import: {output} đã có; nhập ra một tệp mới (import không bao giờ "
              "ghi đè tệp của người soạn)", file=sys.stderr)
        return 2
    plans = _directory(args.config)
    try:
        imported = import_document(path, plans, args.year)
    except ImportProblem as exc:
        print(f"reminderd import: {exc}", file=sys.stderr)
        return 1
    if args.json:
        text = json.dumps(to_json(imported), ensure_ascii=False, indent=1) + "\n"
    else:
        text = to_yaml(imported, args.plan_id)
    if output is None:
        sys.stdout.write(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    problems = sum(len(t.problems) for t in imported.tasks)
    where = f" vào {output}" if output else ""
    print(f"Đã nhập {len(imported.tasks)} nhiệm vụ từ {path.name}{where}; {problems} điểm cần "
          "quyết định (dòng “# CẦN QUYẾT ĐỊNH:” trong bản nháp).", file=sys.stderr)
    return 0
