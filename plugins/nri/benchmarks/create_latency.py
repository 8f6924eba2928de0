#!/usr/bin/env python3
"""Added latency of ``runcore nri serve`` per CRI CreateContainer, medians.

Starts a private containerd 1.7.24 with CRI and NRI (tests/support), imports the busybox
test image and the pause image, creates one host-network pod, then times CRI
``CreateContainer`` (+ ``RemoveContainer`` untimed) N times in each of three states,
interleaved round by round so all see the same machine load:

Blocks of 10 creations alternate between the states without and with serve:

* ``no plugin``  - NRI enabled, no plugin connected;
* ``serve, unannotated`` - ``runcore nri serve`` connected, the pod has no annotations
  for it (the plugin set runs and finds nothing to change);
* ``serve, annotated`` - a second pod with ``runcore.io/memory-limit`` and
  ``runcore.io/cpu-shares`` (an adjustment is computed and applied).

    sudo .venv/bin/python plugins/nri/benchmarks/create_latency.py [-n 60]

Needs root and scripts/bootstrap.sh. Prints medians and the differences; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(HERE.parent / "tests")]

from support.busybox_image import build_busybox_oci_archive  # noqa: E402
from support.daemon import CRI_SANDBOX_IMAGE, discover_binaries, start_daemon  # noqa: E402

from cri import CRI, Pods, build_pause_archive  # noqa: E402

IMAGE = "docker.io/library/rcbox:latest"


#: Time the plugin itself spent per decision (the "ms" of each JSON log line).
PLUGIN_MS: list = []


def start_serve(daemon, config: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCORE_")}
    env["RUNCORE_CONFIG"] = str(config)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runcore",
            "--address",
            daemon.address,
            "nri",
            "serve",
            "--socket",
            daemon.nri_socket,
            "--log-format",
            "json",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "synchronized" in line:
            break
    else:
        raise SystemExit("benchmark: serve never synchronized")

    def drain() -> None:  # keep reading: a full pipe would block serve's log writes
        for line in proc.stderr:  # type: ignore[union-attr]
            record = json.loads(line)
            if record.get("msg") == "container":
                PLUGIN_MS.append(record["ms"])

    threading.Thread(target=drain, daemon=True).start()
    time.sleep(0.3)
    return proc


def stop_serve(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


def one(pod, name: str) -> float:
    start = time.perf_counter()
    container = pod.create(name)
    elapsed = time.perf_counter() - start
    pod.pods.cri.remove_container(container)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=60, help="creations per state (default 60)")
    args = parser.parse_args()
    bins = discover_binaries()
    daemon = start_daemon(bins["1.7"], bins["1.7"], cri_nri=True)
    pods = None
    serve = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            box = build_busybox_oci_archive(Path(tmp, "rcbox.tar"))
            pause = build_pause_archive(box.path, Path(tmp, "pause.tar"), CRI_SANDBOX_IMAGE)
            for archive in (box.path, pause):
                daemon.ctr("images", "import", str(archive), namespace="k8s.io")
            config = Path(tmp, "config.toml")
            config.write_text("")
            while not os.path.exists(daemon.nri_socket):
                time.sleep(0.1)
            client = CRI(daemon.address)
            pods = Pods(client, IMAGE, tag="bench")
            plain = pods.run_pod("bench-plain")
            annotated = pods.run_pod(
                "bench-annotated",
                {"runcore.io/memory-limit": "67108864", "runcore.io/cpu-shares": "512"},
            )
            one(plain, "warm-up")
            times = {"no plugin": [], "serve, unannotated": [], "serve, annotated": []}
            block = 10
            for b in range(max(1, args.n // block)):
                for i in range(block):
                    times["no plugin"].append(one(plain, f"a{b}-{i}"))
                serve = start_serve(daemon, config)
                one(plain, f"w{b}")  # the first request after connecting is not counted
                for i in range(block):
                    times["serve, unannotated"].append(one(plain, f"b{b}-{i}"))
                    times["serve, annotated"].append(one(annotated, f"c{b}-{i}"))
                stop_serve(serve)
                serve = None
            base = statistics.median(times["no plugin"]) * 1000
            print(
                f"CRI CreateContainer, containerd {daemon.full_version}, "
                f"{len(times['no plugin'])} per state, medians:"
            )
            for label, values in times.items():
                median = statistics.median(values) * 1000
                extra = "" if label == "no plugin" else f"  (+{median - base:.1f} ms)"
                print(f"  {label:20s} {median:7.1f} ms{extra}")
            if PLUGIN_MS:
                print(
                    f"  time inside serve per decision (median of {len(PLUGIN_MS)}): "
                    f"{statistics.median(PLUGIN_MS):.1f} ms"
                )
    finally:
        if serve is not None:
            stop_serve(serve)
        if pods is not None:
            pods.cleanup()
        daemon.stop()


if __name__ == "__main__":
    main()
