"""Quick loader benchmark: plans.loader.load_plans beside a bare CSafeLoader ``yaml.load``.

    python bench/bench_loader_quick.py [N_TASKS]     (default 100000)

Generates a plans.yaml of N tasks (1000 per plan, realistic phrases and references) in a
temporary folder and prints the load time, the bare ``yaml.load(..., Loader=CSafeLoader)``
time of the same file (as most code calls it: garbage collector on, and with the
collector paused, as ``load_plans`` does), and the ratios; then the peak memory (RSS) of
each, loaded alone in a fresh interpreter. Not a test.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from reminderd.plans.loader import load_plans

PHRASES = (
    "Quý II/{y}",
    "Trước ngày 15/8/{y}",
    "vào tháng 01/{y}",
    "12/6/{y}",
    "Thường xuyên trong năm {y}",
    "Tháng 10/{y}",
    "chậm nhất ngày 20/11/{y}",
    "6 tháng đầu năm {y}",
    "{y}-06-12",
    "Trong năm {y}",
)
AGENCIES = ("songoaivu", "vp-ubnd", "sokhdt", "sovhttdl", "sotc", "congan")


def generate(n_tasks: int, per_plan: int = 1000) -> str:
    out = ["version: 1", "coordinator: songoaivu", "agencies:"]
    for i, agency in enumerate(AGENCIES):
        out += [
            f"  - id: {agency}",
            f"    name: Cơ quan số {i} tỉnh Đắk Lắk",
            f"    emails: [{agency}@dulich.example]",
            f'    aliases: ["Cơ quan {agency.upper()}", "CQ{i}"]',
        ]
    out.append("plans:")
    for p in range((n_tasks + per_plan - 1) // per_plan):
        year = 2020 + p % 10
        out += [
            f"  - id: kh-{p}-{year}",
            f"    title: Kế hoạch số {p}/KH-UBND về hoạt động đối ngoại năm {year}",
            f'    reference: "Kế hoạch số {p}/KH-UBND ngày 22/02/{year} của UBND tỉnh"',
            f"    year: {year}",
            "    tasks:",
        ]
        for t in range(min(per_plan, n_tasks - p * per_plan)):
            i = p * per_plan + t
            phrase = PHRASES[i % len(PHRASES)].format(y=year)
            out += [
                f'      - id: "{t // 10}.{t % 10}"',
                f"        title: Tổ chức hoạt động hợp tác quốc tế số {i} với các đối tác",
                f'        when: "{phrase}"',
                f"        lead: {AGENCIES[i % len(AGENCIES)]}",
                f'        support: [{AGENCIES[(i + 1) % 6]}, "CQ{(i + 2) % 6}"]',
            ]
            if i % 4 == 0:
                out.append("        remind: [7, 1]")
    return "\n".join(out) + "\n"


PEAK = """
import json, resource, sys
from pathlib import Path
if sys.argv[2] == "load_plans":
    from reminderd.plans.loader import load_plans
    load_plans(Path(sys.argv[1]))
else:
    import yaml
    with open(sys.argv[1], encoding="utf-8") as f:
        yaml.load(f, Loader=yaml.CSafeLoader)
try:  # this process's own peak: ru_maxrss also counts the parent's, inherited at exec
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(kb / 1024))
"""


def peak_mb(path: Path, what: str) -> float:
    """Peak RSS in MB of a fresh interpreter that only loads ``path``."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(path), what], capture_output=True, text=True, check=True
    )
    result: float = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plans.yaml"
        path.write_text(generate(n), encoding="utf-8")
        size = path.stat().st_size

        def bare() -> None:
            with open(path, encoding="utf-8") as stream:
                yaml.load(stream.read(), Loader=yaml.CSafeLoader)

        def bare_nogc() -> None:
            gc.disable()
            try:
                bare()
            finally:
                gc.enable()

        load_s = timed(lambda: load_plans(path))
        gc.collect()
        bare_s = timed(bare)
        gc.collect()
        bare_nogc_s = timed(bare_nogc)
        plans = load_plans(path)
        tasks = sum(len(plan.tasks) for plan in plans.plans)
        del plans
        load_mb = peak_mb(path, "load_plans")
        bare_mb = peak_mb(path, "bare")
    print(f"N={n} tasks ({tasks} loaded), {size / 1e6:.1f} MB")
    print(f"load_plans          {load_s:8.3f} s")
    print(f"bare yaml.load      {bare_s:8.3f} s   ratio load/bare      {load_s / bare_s:5.2f}")
    print(
        f"bare yaml.load (gc off) {bare_nogc_s:4.3f} s   ratio load/bare(gc off) "
        f"{load_s / bare_nogc_s:5.2f}"
    )
    print(f"peak RSS: load_plans {load_mb:.0f} MB, bare yaml.load {bare_mb:.0f} MB")


if __name__ == "__main__":
    main()
