#!/usr/bin/env python3
"""Time ``runcore run --rm IMG ID true`` against ``ctr run --rm IMG ID true``, side by side.

Starts a private containerd (1.7.24 by default), imports the busybox test image, then
alternates the two commands N times (so both see the same machine state), and prints each
median, the ratio runcore/ctr, and the start-up cost of ``runcore --help`` against
``python -c pass``.

    sudo .venv/bin/python benchmarks/run_vs_ctr.py [-n 20] [--version 1.7|1.6]

Needs root and scripts/bootstrap.sh to have run. Prints ratios; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runcore.testing.busybox_image import build_busybox_oci_archive
from runcore.testing.daemon import discover_binaries, start_daemon


def timed(argv: list) -> float:
    start = time.perf_counter()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(argv)} failed: {r.stderr.strip()}")
    return elapsed


def median_ms(values: list) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="runs of each command (default 20)")
    parser.add_argument("--version", default="1.7", choices=("1.7", "1.6"))
    args = parser.parse_args()

    binaries = discover_binaries()
    daemon = start_daemon(binaries[args.version], binaries["1.7"])
    ns = "bench"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            archive = build_busybox_oci_archive(Path(tmp) / "rcbox.tar")
            daemon.runcore("images", "import", str(archive.path), namespace=ns)
        image = archive.name
        ctr_times, rc_times = [], []
        for i in range(args.n):
            ctr_times.append(timed(daemon.ctr_argv("run", "--rm", image, f"c{i}", "true",
                                                   namespace=ns)))
            rc_times.append(timed(daemon.runcore_argv("run", "--rm", image, f"r{i}", "true",
                                                      namespace=ns)))
        help_times, pass_times = [], []
        for _ in range(args.n):
            help_times.append(timed([sys.executable, "-m", "runcore", "--help"]))
            pass_times.append(timed([sys.executable, "-c", "pass"]))
    finally:
        daemon.stop()
    c, r = median_ms(ctr_times), median_ms(rc_times)
    h, p = median_ms(help_times), median_ms(pass_times)
    print(f"containerd {daemon.full_version}, {args.n} runs each, alternating")
    print(f"ctr run --rm IMG ID true      median {c:8.1f} ms")
    print(f"runcore run --rm IMG ID true  median {r:8.1f} ms")
    print(f"ratio runcore/ctr             {r / c:8.2f}")
    print(f"runcore --help                median {h:8.1f} ms")
    print(f"python -c pass                median {p:8.1f} ms")
    print(f"ratio --help/python           {h / p:8.2f}")


if __name__ == "__main__":
    main()
