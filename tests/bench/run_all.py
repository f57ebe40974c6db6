"""Run every benchmark script (tests/bench/bench_*.py) in its own process and print its table.

Each script measures a hot path against a reference in the same process and prints medians and
ratios. Usage: python tests/bench/run_all.py [name-filter ...]. Not part of `make test`.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(f in s.stem for f in argv)]
    print(f"# ShrivenQuant benchmarks — {platform.platform()}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n", flush=True)
    failed = []
    for script in scripts:
        print(f"## {script.stem}", flush=True)
        env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=ROOT, env=env)
        print(f"({time.perf_counter() - started:.1f} s{'' if code == 0 else f', exit {code}'})\n", flush=True)
        if code:
            failed.append(script.stem)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
