"""Benchmark: `reminderd check` beside a bare yaml.CSafeLoader load of the same plans.yaml.

    .venv/bin/python bench/bench_core.py [N ...]      (default: 1000 10000 100000)

For each size it generates a plans.yaml (bench_loader_quick.generate: realistic phrases,
1000 tasks per plan, years 2020-2029), then runs, each in a fresh subprocess so peak
memory is that run's own (ru_maxrss): the bare load `yaml.load(f, Loader=CSafeLoader)`,
and `reminderd check` (load, validate, expand the next 12 months). It prints both times,
their ratio and both peaks. Targets (issue 2): ratio <= 2.0 and check peak < 300 MB at
100k tasks. Machines here are shared and noisy: compare the ratio, not the seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_loader_quick import generate

# VmHWM, not ru_maxrss: Linux carries the parent's peak RSS into a child's ru_maxrss.
PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

BARE = PEAK + """
import json, sys, time, yaml
t = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as f:
    yaml.load(f, Loader=yaml.CSafeLoader)
print(json.dumps({"s": time.perf_counter() - t, "mb": peak_mb()}))
"""

CHECK = PEAK + """
import contextlib, io, json, sys, time
from pathlib import Path
from reminderd.cli import main
t = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", "--config", sys.argv[1]])
print(json.dumps({"s": time.perf_counter() - t, "code": code, "mb": peak_mb()}))
"""


def run(script: str, arg: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", script, str(arg)], capture_output=True,
                         text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def best(script: str, arg: Path, repeat: int) -> dict[str, float]:
    runs = [run(script, arg) for _ in range(repeat)]
    return min(runs, key=lambda r: r["s"])


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10_000, 100_000]
    print(f"{'tasks':>8} {'bare load s':>12} {'check s':>9} {'ratio':>6} "
          f"{'bare MB':>8} {'check MB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            plans = Path(tmp) / f"plans-{n}.yaml"
            plans.write_text(generate(n), encoding="utf-8")
            config = Path(tmp) / f"config-{n}.yaml"
            templates = Path(__file__).resolve().parents[1] / "templates"
            config.write_text(f"plans: {plans.name}\ntemplates: {templates}\nvar_dir: var\n",
                              encoding="utf-8")
            repeat = 3 if n <= 10_000 else 2
            bare = best(BARE, plans, repeat)
            check = best(CHECK, config, repeat)
            assert check.get("code") == 0, "check failed on the generated plans"
            print(f"{n:>8} {bare['s']:>12.3f} {check['s']:>9.3f} "
                  f"{check['s'] / bare['s']:>6.2f} {bare['mb']:>8.0f} {check['mb']:>9.0f}")


if __name__ == "__main__":
    main()
