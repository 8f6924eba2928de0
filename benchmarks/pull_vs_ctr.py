#!/usr/bin/env python3
"""Time ``runcore pull`` against ``ctr images pull`` of a >= 200 MiB image, side by side.

Starts a private containerd (1.7.24 by default) and Debian's ``docker-registry`` on
loopback, pushes the large test image (6 random gzip layers + busybox, built once and kept
in ``--cache``), then alternates the two pulls N times, each into a fresh namespace with
the content store emptied before (images removed, synchronous GC), so every pull fetches
and unpacks everything. Then the no-op pull: the same reference again into a namespace
that already has it. Prints medians and ratios runcore/ctr; asserts nothing.

runcore is measured as a user has it: a REGULAR (non-editable) install with compiled
bytecode in a virtualenv of its own (``--venv``, default /tmp/runcore-pull-bench-venv).
``--build-venv`` (re)creates it from this checkout first (``pip install . plugins/*``, then
``compileall``). The harness (daemon, registry, the in-process column) runs in the
interpreter that runs this script: the checkout's ``.venv``.

    sudo .venv/bin/python benchmarks/pull_vs_ctr.py --build-venv [-n 5] [--version 1.7|1.6]
    sudo .venv/bin/python benchmarks/pull_vs_ctr.py -n 9 --noop 15     # reuse the install

Needs root and scripts/bootstrap.sh.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
# The daemon's debug log costs both sides the same, but it is noise here (as in bench.py).
os.environ.setdefault("RUNCORE_CONTAINERD_LOG_LEVEL", "info")

from support import registry as reg  # noqa: E402
from support.daemon import discover_binaries, start_daemon  # noqa: E402


DEFAULT_VENV = "/tmp/runcore-pull-bench-venv"


def build_venv(venv: Path) -> None:
    """A regular install of this checkout and its plugins, bytecode compiled."""
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        # from a clean copy: setuptools packs what an old build/ left next to the sources
        src = Path(tmp) / "src"
        shutil.copytree(
            ROOT,
            src,
            ignore=shutil.ignore_patterns(
                ".git", ".venv", ".tox", "build", "*.egg-info", "__pycache__", ".mypy_cache"
            ),
        )
        plugins = sorted(
            str(p) for p in (src / "plugins").iterdir() if (p / "pyproject.toml").exists()
        )
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
            + ["--disable-pip-version-check", str(src), *plugins],
            check=True,
        )
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "compileall", "-q", str(venv / "lib")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def timed(argv: list, env: dict) -> float:
    start = time.perf_counter()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(argv)} failed: {r.stderr.strip()[-2000:]}")
    return elapsed


def pull_in_process(daemon, ref: str, namespace: str) -> float:
    """The pull's own work: runcore-pull's Puller in this process (no start-up, no CLI)."""
    sys.path.insert(0, str(ROOT / "plugins" / "pull"))
    from runcore.containerd.client import Client
    from runcore_pull import names, pull
    from runcore_pull.progress import Reporter

    client = Client.connect(daemon.address, namespace)
    try:
        start = time.perf_counter()
        pull.Puller(client, names.parse(ref), pull.PullOptions(), Reporter(), lambda _h: None).run()
        return time.perf_counter() - start
    finally:
        client.close()


def empty_store(daemon, namespaces: list) -> None:
    """Remove the namespaces' images and garbage-collect, so the next pull is cold."""
    for ns in namespaces:
        images = daemon.lines("images", "ls", "-q", namespace=ns)
        if images:
            daemon.ctr("images", "rm", "--sync", *images, namespace=ns)
        daemon.force_gc(ns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="cold pulls of each tool (default 5)")
    parser.add_argument("--noop", type=int, default=10, help="no-op pulls of each (default 10)")
    parser.add_argument("--version", default="1.7", choices=("1.7", "1.6"))
    parser.add_argument(
        "--venv", default=DEFAULT_VENV, help=f"regular install of runcore (default {DEFAULT_VENV})"
    )
    parser.add_argument(
        "--build-venv", action="store_true", help="(re)create --venv from this checkout first"
    )
    parser.add_argument(
        "--cache",
        default="/tmp/runcore-bench-big.tar",
        help="where the large test image archive is kept between runs",
    )
    args = parser.parse_args()
    venv = Path(args.venv)
    if args.build_venv:
        build_venv(venv)
    if not (venv / "bin" / "runcore").exists():
        raise SystemExit(f"benchmark: no runcore in {venv}; use --build-venv")

    cache = Path(args.cache)
    if not cache.exists():
        print(f"building {cache} ...", flush=True)
        reg.build_big_archive(cache)
    load_before = os.getloadavg()[0]
    binaries = discover_binaries()
    daemon = start_daemon(binaries[args.version], binaries["1.7"])
    registry = reg.Registry("plain").start()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        env.update(DOCKER_CONFIG=tmp, RUNCORE_HOSTS_DIR=tmp)
        try:
            registry.push(cache, "big", "test/big:v1")
            ref = f"{registry.host}/test/big:v1"
            size = sum(os.path.getsize(p) for p in registry.storage.rglob("data"))

            def runcore(ns: str) -> list:
                return [
                    str(venv / "bin" / "runcore"),
                    "--address",
                    daemon.address,
                    "--namespace",
                    ns,
                    "pull",
                    "--quiet",
                    ref,
                ]

            ctr_cold, rc_cold, ip_cold = [], [], []
            for i in range(args.n):
                empty_store(daemon, [f"ctr{i - 1}", f"rc{i - 1}"] if i else [])
                ctr_cold.append(
                    timed(daemon.ctr_argv("images", "pull", ref, namespace=f"ctr{i}"), env)
                )
                empty_store(daemon, [f"ctr{i}"])
                rc_cold.append(timed(runcore(f"rc{i}"), env))
                empty_store(daemon, [f"rc{i}"])
                ip_cold.append(pull_in_process(daemon, ref, f"ip{i}"))
                empty_store(daemon, [f"ip{i}"])
            timed(runcore(f"rc{args.n - 1}"), env)  # present again for the no-op pulls
            ctr_noop, rc_noop = [], []
            for _ in range(args.noop):
                ctr_noop.append(
                    timed(daemon.ctr_argv("images", "pull", ref, namespace=f"rc{args.n - 1}"), env)
                )
                rc_noop.append(timed(runcore(f"rc{args.n - 1}"), env))
        finally:
            registry.stop()
            daemon.stop()
    c, r, ip = statistics.median(ctr_cold), statistics.median(rc_cold), statistics.median(ip_cold)
    cn, rn = statistics.median(ctr_noop), statistics.median(rc_noop)
    print(
        f"containerd {daemon.full_version}; image {size / (1 << 20):.0f} MiB in the registry; "
        f"runcore from {venv} (regular install); {os.cpu_count()} CPUs; "
        f"load {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print(f"cold pull, {args.n} each, alternating, fresh namespace and empty content store")
    print(
        f"  ctr images pull   median {c:7.2f} s   (all: {', '.join(f'{t:.2f}' for t in ctr_cold)})"
    )
    print(
        f"  runcore pull      median {r:7.2f} s   (all: {', '.join(f'{t:.2f}' for t in rc_cold)})"
    )
    print(f"  ratio runcore/ctr        {r / c:7.2f}")
    print(
        f"  runcore, in-process median {ip:5.2f} s   (all: {', '.join(f'{t:.2f}' for t in ip_cold)})"
    )
    print(f"  ratio in-process/ctr     {ip / c:7.2f}")
    print(f"no-op pull of a present image, {args.noop} each")
    print(f"  ctr images pull   median {cn * 1000:7.0f} ms")
    print(f"  runcore pull      median {rn * 1000:7.0f} ms")
    print(f"  ratio runcore/ctr        {rn / cn:7.2f}")


if __name__ == "__main__":
    main()
