"""`reminderd when -` over 10,000 phrases: per-phrase time, side by side with a baseline.

    python bench/bench_when.py [--phrases N] [--rounds R] [--baseline-src DIR]

The phrases are the forms admins paste (dates, deadlines, months, quarters, ranges, recurring
duties) with random days and years; some repeat, as in a pasted column. ``--distinct`` makes
every phrase new, so every one is parsed. Each round runs, in fresh
interpreters and in alternation, this checkout's `reminderd when --json -` and, when
``--baseline-src`` names another checkout's source folder (e.g. a `git worktree` of the
previous release), that checkout's; the floor is the same interpreter reading stdin and
printing one JSON line per phrase with nothing parsed. Each is also run on an empty input, so
start-up (imports) is measured apart and the per-phrase figure is (time - start-up) / N.
Figures are medians; the ratio is what matters, since this machine is shared and noisy.
Not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FORMS = (
    "Trước ngày {d}/{m}/{y}",
    "chậm nhất ngày {d}/{m}/{y}",
    "{d}/{m}/{y}",
    "Tháng {m}/{y}",
    "vào tháng {m}/{y}",
    "Quý {q}/{y}",
    "Quý I hoặc quý II năm {y}",
    "6 tháng đầu năm {y}",
    "Trong năm {y}",
    "Thường xuyên trong năm {y}",
    "từ ngày {d}/{m} đến ngày 28/{m}/{y}",
    "Từ tháng {m} năm {y}",
    "05 ngày làm việc trong nửa cuối tháng {m}/{y}",
    "giai đoạn {y} - 2030",
    "ngày {d} tháng {m} năm {y}",
)
QUARTERS = ("I", "II", "III", "IV")

FLOOR = (
    "import json, sys\n"
    "for line in sys.stdin:\n"
    "    line = line.strip()\n"
    "    if line:\n"
    "        print(json.dumps({'text': line}, ensure_ascii=False))\n"
)
WHEN = "import sys; from reminderd.cli import main; sys.exit(main(['when', '--json', '-']))"


def phrases(n: int, seed: int, *, distinct: bool = False) -> str:
    """n phrases as a pasted column repeats them; ``distinct``: no phrase twice (every one a
    parse, nothing for a cache to find)."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        form = rng.choice(FORMS)
        text = form.format(d=rng.randint(1, 27), m=rng.randint(1, 12),
                           y=rng.randint(2000, 2099), q=rng.choice(QUARTERS))
        if distinct and text in seen:
            continue
        seen.add(text)
        out.append(text)
    return "\n".join(out) + "\n"


def run(code: str, text: str, src: Path | None) -> float:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    began = time.perf_counter()
    # cwd outside any checkout: "-c" puts the working folder first on sys.path, which would
    # shadow PYTHONPATH and run this checkout's code for the baseline too.
    done = subprocess.run([sys.executable, "-c", code], input=text.encode(), env=env,
                          capture_output=True, check=False, cwd=tempfile.gettempdir())
    elapsed = time.perf_counter() - began
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr.decode()[-2000:])
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--phrases", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--baseline-src", type=Path, help="another checkout to compare with")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--distinct", action="store_true", help="no phrase twice")
    args = ap.parse_args()
    text = phrases(args.phrases, args.seed, distinct=args.distinct)
    kind = "distinct " if args.distinct else ""
    print(f"seed {args.seed}, {args.phrases} {kind}phrases, {args.rounds} rounds (medians)")
    sources = {"floor": (FLOOR, None), "this": (WHEN, ROOT)}
    if args.baseline_src:
        sources["baseline"] = (WHEN, args.baseline_src)
    full: dict[str, list[float]] = {name: [] for name in sources}
    empty: dict[str, list[float]] = {name: [] for name in sources}
    for _ in range(args.rounds):
        for name, (code, src) in sources.items():
            full[name].append(run(code, text, src))
            empty[name].append(run(code, "", src))
    per: dict[str, float] = {}
    for name in sources:
        start = statistics.median(empty[name])
        per[name] = (statistics.median(full[name]) - start) / args.phrases * 1e6
        print(f"  {name:<9} start-up {start:6.3f} s   {per[name]:7.1f} µs/phrase")
    for name in ("this", "baseline"):
        if name in per:
            print(f"  {name}: {per[name] - per['floor']:.1f} µs/phrase over the floor")
    if "baseline" in per:
        ratio = (per["this"] - per["floor"]) / (per["baseline"] - per["floor"])
        print(f"  this / baseline (per phrase, over the floor): {ratio:.2f}")


if __name__ == "__main__":
    main()
