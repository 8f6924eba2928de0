#!/usr/bin/env python3
"""runcore against ctr, side by side: start-up, run, parallel runs, import, listing, RSS.

Everything runs against a PRIVATE containerd 1.7.24 that this script starts (through
``runcore.testing.daemon``: its own root, state and socket under /tmp) and stops; no
other daemon is touched. ctr and runcore are always measured ALTERNATING in the same run,
so both see the same machine load, and every line reports the ratio runcore/ctr (or
runcore/``python -c pass``) next to the goal of issue 16.

runcore is measured as a user has it: a REGULAR (non-editable) install with compiled
bytecode, in a virtualenv of its own (``--venv``, default /tmp/runcore-bench-venv).
``--build-venv`` (re)creates it from this checkout (``pip install . plugins/*`` plus
``hpack`` for the RPC count, then ``compileall``) and re-executes this script with it.

    sudo python3 benchmarks/bench.py --build-venv            # everything, default sizes
    sudo /tmp/runcore-bench-venv/bin/python benchmarks/bench.py -n 15 --only run,startup
    sudo ... benchmarks/bench.py --only rpcs                 # RPCs of one run, ctr vs runcore
    sudo ... benchmarks/bench.py --before /tmp/old-venv      # an older install alongside

Sub-benchmarks (``--only``, comma-separated; default all):

* ``startup``  ``runcore --help``, ``runcore plugins``, ``runcore run --help`` vs ``python -c pass``
* ``run``      ``run --rm IMG ID /bin/true``: wall, CPU (user+sys) and peak RSS per run
* ``parallel`` 32 concurrent ``run --rm`` (distinct ids); wall of the whole batch, failures
* ``import``   ``images import`` of a >= 200 MB archive of 5 uncompressed random layers,
               into an empty content store each time (image removed + synchronous GC)
* ``ls``       ``ls`` / ``images ls`` vs ``ctr containers ls`` / ``ctr images ls``, 0 and 500
* ``rpcs``     gRPC calls of one ``run --rm``, counted by a counting proxy in front of the
               daemon (needs ``hpack``), ctr's list next to runcore's
* ``changes``  what three start-up changes save, each against itself switched off,
               alternating: leaving through ``os._exit`` (vs the interpreter's teardown,
               which closes the gRPC channel), the plugin discovery cache (vs
               ``RUNCORE_NO_CACHE=1``) and the help replay (vs ``RUNCORE_HELP_CACHE=0``)

``startup`` measures what a user sees from the second call on: the first ``--help`` of an
installation builds the help and keeps it (``runcore/cli/help_cache.py``); ``changes``
shows the cost of building it.

Needs root and scripts/bootstrap.sh. Prints numbers; asserts nothing (exit 0 unless a
command fails).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
# The daemon's debug log costs both sides the same, but it is noise here.
os.environ.setdefault("RUNCORE_CONTAINERD_LOG_LEVEL", "info")

if TYPE_CHECKING:  # the harness ships in runcore.testing: imported once the venv runs us
    from runcore.testing.daemon import Daemon

DEFAULT_VENV = "/tmp/runcore-bench-venv"
ALL = ("startup", "run", "parallel", "import", "ls", "rpcs", "changes")
NS = "bench"


# --------------------------------------------------------------------------- the install


def build_venv(venv: Path) -> None:
    """A regular install of this checkout and its plugins, bytecode compiled."""
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    plugins = sorted(
        str(p) for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists()
    )
    subprocess.run(pip + [str(ROOT), *plugins, "hpack"], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "compileall", "-q", str(venv / "lib")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------- measuring


class Sample:
    """One finished process: wall seconds, CPU seconds (user+sys), peak RSS (KiB), status."""

    def __init__(self, wall: float, cpu: float, rss_kib: int, code: int, err: str) -> None:
        self.wall, self.cpu, self.rss_kib, self.code, self.err = wall, cpu, rss_kib, code, err


def spawn(argv: Sequence[str]) -> Tuple[subprocess.Popen, float, Any]:
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
    )
    return proc, start, err


def reap(proc: subprocess.Popen, start: float, err) -> Sample:
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    text = err.read().decode(errors="replace")
    err.close()
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode, text)


def measure(argv: Sequence[str]) -> Sample:
    sample = reap(*spawn(argv))
    if sample.code != 0:
        raise SystemExit(f"bench: {' '.join(argv)} exited {sample.code}: {sample.err.strip()}")
    return sample


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


class Report:
    """Rows of ``name | baseline | runcore | ratio | goal``."""

    def __init__(self) -> None:
        self.rows: List[Tuple[str, str, float, float, float, str]] = []
        self.notes: List[str] = []

    def add(
        self, name: str, base_name: str, base: float, ours: float, goal: float, unit: str = "ms"
    ) -> None:
        self.rows.append((name, base_name, base, ours, goal, unit))
        self.print_row(self.rows[-1])

    @staticmethod
    def print_row(row) -> None:
        name, base_name, base, ours, goal, unit = row
        ratio = ours / base if base else float("inf")
        ok = "ok" if ratio <= goal else "MISSED"
        scale = 1000 if unit == "ms" else 1
        print(
            f"  {name:<34} {base_name:<26} {base * scale:9.1f} {unit}  runcore {ours * scale:9.1f} "
            f"{unit}  ratio {ratio:5.2f}  goal <= {goal:g}  {ok}",
            flush=True,
        )

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  {text}", flush=True)

    def summary(self) -> None:
        print("\n=== summary (medians) ===")
        for row in self.rows:
            self.print_row(row)
        for text in self.notes:
            print(f"  {text}")


def alternate(
    base_argv: Callable[[int], Sequence[str]],
    our_argv: Callable[[int], Sequence[str]],
    n: int,
    before_argv: Optional[Callable[[int], Sequence[str]]] = None,
) -> Tuple[List[Sample], List[Sample], List[Sample]]:
    """n rounds of baseline, runcore (and the ``--before`` install), back to back."""
    base, ours, before = [], [], []
    for i in range(n):
        base.append(measure(base_argv(i)))
        ours.append(measure(our_argv(i)))
        if before_argv is not None:
            before.append(measure(before_argv(i)))
    return base, ours, before


# --------------------------------------------------------------------------- sub-benchmarks


class Bench:
    def __init__(
        self, daemon: Daemon, venv: Path, n: int, report: Report, before: Optional[Path] = None
    ) -> None:
        self.d = daemon
        self.venv = venv
        self.n = n
        self.r = report
        self.runcore_bin = str(venv / "bin" / "runcore")
        self.before_bin = str(before / "bin" / "runcore") if before else None
        self.image = ""

    def rc_before(self, *args: str, ns: str = NS) -> List[str]:
        assert self.before_bin is not None
        return [self.before_bin, "--address", self.d.address, "--namespace", ns, *args]

    def add(
        self,
        name: str,
        base_name: str,
        base: List[Sample],
        ours: List[Sample],
        before: List[Sample],
        goal: float,
    ) -> None:
        self.r.add(name, base_name, med([s.wall for s in base]), med([s.wall for s in ours]), goal)
        if before:
            self.r.add(
                f"  (before) {name}",
                base_name,
                med([s.wall for s in base]),
                med([s.wall for s in before]),
                goal,
            )

    def ctr(self, *args: str, ns: str = NS) -> List[str]:
        return self.d.ctr_argv(*args, namespace=ns)

    def rc(self, *args: str, ns: str = NS) -> List[str]:
        return [self.runcore_bin, "--address", self.d.address, "--namespace", ns, *args]

    def ensure_image(self) -> str:
        if not self.image:
            with tempfile.TemporaryDirectory() as tmp:
                from runcore.testing.busybox_image import build_busybox_oci_archive

                archive = build_busybox_oci_archive(Path(tmp) / "rcbox.tar")
                self.d.ctr("images", "import", str(archive.path), namespace=NS)
            self.image = archive.name
        return self.image

    # -- startup -------------------------------------------------------------------

    def startup(self) -> None:
        print(f"startup: {self.n} alternating pairs each, baseline {sys.executable} -c pass")
        py = [sys.executable, "-c", "pass"]
        for args in (["--help"], ["plugins"], ["run", "--help"]):
            ours_argv = [self.runcore_bin, *args]
            before_argv = [self.before_bin, *args] if self.before_bin else []
            measure(ours_argv)  # the first run keeps the text that later ones replay
            base, ours, before = alternate(
                lambda i: py,
                lambda i: ours_argv,
                self.n,
                (lambda i: before_argv) if before_argv else None,
            )
            self.add(f"runcore {' '.join(args)}", "python -c pass", base, ours, before, 5)

    # -- run -----------------------------------------------------------------------

    def run(self) -> None:
        image = self.ensure_image()
        print(f"run: {self.n} alternating pairs of 'run --rm {image} ID /bin/true'")
        # one untimed warm-up each (page cache, the daemon's first shim of the namespace)
        measure(self.ctr("run", "--rm", image, "warm-c", "/bin/true"))
        measure(self.rc("run", "--rm", image, "warm-r", "/bin/true"))
        before_argv = None
        if self.before_bin:
            measure(self.rc_before("run", "--rm", image, "warm-b", "/bin/true"))
            before_argv = lambda i: self.rc_before("run", "--rm", image, f"b{i}", "/bin/true")  # noqa: E731
        base, ours, before = alternate(
            lambda i: self.ctr("run", "--rm", image, f"c{i}", "/bin/true"),
            lambda i: self.rc("run", "--rm", image, f"r{i}", "/bin/true"),
            self.n,
            before_argv,
        )
        self.add("run --rm /bin/true (wall)", "ctr run --rm", base, ours, before, 1.6)
        self.r.note(
            f"run --rm CPU (user+sys) per run: ctr {med([s.cpu for s in base]) * 1000:.1f} ms, "
            f"runcore {med([s.cpu for s in ours]) * 1000:.1f} ms"
            + (f", before {med([s.cpu for s in before]) * 1000:.1f} ms" if before else "")
        )
        rss = max(s.rss_kib for s in ours) / 1024
        self.r.note(
            f"runcore run peak RSS: max {rss:.1f} MiB over {len(ours)} runs (goal <= 50 MiB) "
            f"{'ok' if rss <= 50 else 'MISSED'}; ctr "
            f"{max(s.rss_kib for s in base) / 1024:.1f} MiB"
        )

    # -- parallel ------------------------------------------------------------------

    def parallel(self, width: int = 32, rounds: int = 3) -> None:
        image = self.ensure_image()
        print(f"parallel: {rounds} alternating rounds of {width} concurrent 'run --rm'")
        base_walls, our_walls, old_walls = [], [], []
        failures = {"ctr": 0, "runcore": 0, "before": 0}

        def batch(tag: str, make: Callable[[int], List[str]]) -> float:
            start = time.perf_counter()
            procs = [spawn(make(i)) for i in range(width)]
            samples = [reap(*p) for p in procs]
            wall = time.perf_counter() - start
            for s in samples:
                if s.code != 0:
                    failures[tag] += 1
                    print(f"    {tag} failed ({s.code}): {s.err.strip()[:300]}")
            return wall

        for k in range(rounds):
            base_walls.append(
                batch("ctr", lambda i: self.ctr("run", "--rm", image, f"pc{k}-{i}", "/bin/true"))
            )
            our_walls.append(
                batch("runcore", lambda i: self.rc("run", "--rm", image, f"pr{k}-{i}", "/bin/true"))
            )
            if self.before_bin:
                old_walls.append(
                    batch(
                        "before",
                        lambda i: self.rc_before("run", "--rm", image, f"pb{k}-{i}", "/bin/true"),
                    )
                )
        self.r.add(
            f"{width} concurrent run --rm (batch)",
            f"{width} x ctr run --rm",
            med(base_walls),
            med(our_walls),
            2,
            unit="s",
        )
        if old_walls:
            self.r.add(
                f"  (before) {width} concurrent run --rm",
                f"{width} x ctr run --rm",
                med(base_walls),
                med(old_walls),
                2,
                unit="s",
            )
        self.r.note(
            f"parallel failures: ctr {failures['ctr']}, runcore {failures['runcore']} "
            f"(goal: runcore 0) {'ok' if not failures['runcore'] else 'MISSED'}"
        )

    # -- import --------------------------------------------------------------------

    def import_(self, rounds: int = 3) -> None:
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
            path = Path(tmp) / "big.tar"
            size = write_big_archive(path, "bench.local/big:latest")
            print(
                f"import: {rounds} alternating rounds, archive {size / 1e6:.0f} MB, 5 layers, "
                "empty content store each time"
            )

            def one(argv: List[str], remove: List[str]) -> float:
                s = measure(argv)
                measure(remove)  # the image, then a synchronous GC: content + snapshots go
                return s.wall

            rm_c = self.ctr("images", "rm", "--sync", "bench.local/big:latest", ns="imp")
            one(self.ctr("images", "import", str(path), ns="imp"), rm_c)  # warm-up (page cache)
            base, ours, old = [], [], []
            for _ in range(rounds):
                base.append(one(self.ctr("images", "import", str(path), ns="imp"), rm_c))
                ours.append(one(self.rc("images", "import", str(path), ns="imp"), rm_c))
                if self.before_bin:
                    old.append(one(self.rc_before("images", "import", str(path), ns="imp"), rm_c))
            self.r.add(
                "images import 200 MB, 5 layers",
                "ctr images import",
                med(base),
                med(ours),
                1.2,
                unit="s",
            )
            if old:
                self.r.add(
                    "  (before) images import 200 MB",
                    "ctr images import",
                    med(base),
                    med(old),
                    1.2,
                    unit="s",
                )

    # -- ls ------------------------------------------------------------------------

    def ls(self) -> None:
        image = self.ensure_image()
        print(f"ls: {self.n} alternating pairs each, namespaces with 0 and 500 containers/images")
        populate = r"""
import sys
from runcore.containerd.client import Client
address, image = sys.argv[1], sys.argv[2]
c = Client.connect(address, "ls500")
target = c.images.Get(name=image).image.target
pb = c.pb
for i in range(500):
    c.containers.Create(container=pb.containers.Container(
        id=f"c{i:03d}", image=image, labels={"bench": "1"},
        runtime=pb.containers.Container.Runtime(name="io.containerd.runc.v2"),
        spec=pb.any.Any(type_url="types.containerd.io/opencontainers/runtime-spec/1/Spec",
                        value=b'{"ociVersion":"1.1.0"}')))
    if i:  # 499 more names: 500 images in all
        c.images.Create(image=pb.images.Image(name=f"bench.local/img{i:03d}:latest", target=target))
c.close()
"""
        # The busybox image (content and record) in ls500; its target is reused for 500
        # names, as tags of one image would (content is per namespace in containerd).
        with tempfile.TemporaryDirectory() as tmp:
            from runcore.testing.busybox_image import build_busybox_oci_archive

            archive = build_busybox_oci_archive(Path(tmp) / "rcbox.tar")
            self.d.ctr("images", "import", str(archive.path), namespace="ls500")
        measure([sys.executable, "-c", populate, self.d.address, image])
        measure(self.ctr("namespaces", "create", "ls0"))
        for ns, count in (("ls0", 0), ("ls500", 500)):
            for ours, theirs in (
                (["ls"], ["containers", "ls"]),
                (["images", "ls"], ["images", "ls"]),
            ):
                base_argv, our_argv = self.ctr(*theirs, ns=ns), self.rc(*ours, ns=ns)
                old_argv = self.rc_before(*ours, ns=ns) if self.before_bin else []
                base, mine, before = alternate(
                    lambda i: base_argv,
                    lambda i: our_argv,
                    self.n,
                    (lambda i: old_argv) if old_argv else None,
                )
                self.add(
                    f"runcore {' '.join(ours)} ({count})",
                    f"ctr {' '.join(theirs)}",
                    base,
                    mine,
                    before,
                    3,
                )

    # -- rpcs ----------------------------------------------------------------------

    def rpcs(self) -> None:
        image = self.ensure_image()
        try:
            proxy = CountingProxy(self.d.address)
        except ImportError:
            self.r.note("rpcs: skipped (pip install hpack into the bench venv)")
            return
        try:
            rows = {}
            for tag, argv in (
                (
                    "ctr",
                    [
                        self.d.ctr_path,
                        "--address",
                        proxy.path,
                        "--namespace",
                        NS,
                        "run",
                        "--rm",
                        image,
                        "rpc-c",
                        "/bin/true",
                    ],
                ),
                (
                    "runcore",
                    [
                        self.runcore_bin,
                        "--address",
                        proxy.path,
                        "--namespace",
                        NS,
                        "run",
                        "--rm",
                        image,
                        "rpc-r",
                        "/bin/true",
                    ],
                ),
            ):
                proxy.reset()
                measure(argv)
                time.sleep(0.2)
                rows[tag] = proxy.calls()
        finally:
            proxy.close()
        print("rpcs of one 'run --rm /bin/true' (in order of request):")
        for tag, calls in rows.items():
            print(f"  {tag}: {len(calls)} calls")
            for call in calls:
                print(f"    {call}")
        self.r.note(f"RPCs per run --rm: ctr {len(rows['ctr'])}, runcore {len(rows['runcore'])}")

    # -- changes -------------------------------------------------------------------

    def changes(self) -> None:
        image = self.ensure_image()
        print(f"changes: {self.n} alternating pairs each, the change on vs off")
        py = str(self.venv / "bin" / "python")
        # main() without the entry point's os._exit: SystemExit, then the interpreter's
        # teardown (which closes the gRPC channel)
        teardown = [py, "-c", "import sys; from runcore.cli.main import main; main(sys.argv[1:])"]
        rows = []
        for what, args in (
            ("ls", ["ls"]),
            ("run --rm", ["run", "--rm", image, "{id}", "/bin/true"]),
        ):

            def argv(prefix: List[str], i: int, tag: str, a=args) -> List[str]:
                return [
                    *prefix,
                    "--address",
                    self.d.address,
                    "--namespace",
                    NS,
                    *[x.replace("{id}", f"x{tag}{i}") for x in a],
                ]

            on, off, _ = alternate(
                lambda i: argv([self.runcore_bin], i, "a"), lambda i: argv(teardown, i, "b"), self.n
            )
            rows.append((f"os._exit at the end ({what})", on, off))

        def switched(name: str, args: List[str], env_off: Dict[str, str], warm: bool) -> None:
            """``args`` as is and with ``env_off``, alternating ({id}: a fresh id each)."""
            if warm:
                measure(self.rc(*args))
            on, off = [], []
            for i in range(self.n):
                on.append(measure(self.rc(*[x.replace("{id}", f"y{i}") for x in args])))
                b = [x.replace("{id}", f"z{i}") for x in args]
                off.append(measure_env(self.rc(*b), env_off))
            rows.append((name, on, off))

        no_cache = dict(os.environ, RUNCORE_NO_CACHE="1")
        switched("plugin cache (--help)", ["--help"], no_cache, warm=False)
        run_args = ["run", "--rm", image, "{id}", "/bin/true"]
        switched("plugin cache (run --rm)", run_args, no_cache, warm=False)
        no_replay = dict(os.environ, RUNCORE_HELP_CACHE="0")
        for args in (["--help"], ["run", "--help"], ["plugins"]):
            switched(f"help replay ({' '.join(args)})", args, no_replay, warm=True)
        for name, on, off in rows:
            w_on, w_off = med([s.wall for s in on]), med([s.wall for s in off])
            c_on, c_off = med([s.cpu for s in on]), med([s.cpu for s in off])
            self.r.note(
                f"{name:<32} saves {1000 * (w_off - w_on):6.1f} ms wall, "
                f"{1000 * (c_off - c_on):6.1f} ms CPU (on {1000 * w_on:.1f} ms, "
                f"off {1000 * w_off:.1f} ms)"
            )


def measure_env(argv: Sequence[str], env: Dict[str, str]) -> Sample:
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
    )
    sample = reap(proc, start, err)
    if sample.code != 0:
        raise SystemExit(f"bench: {' '.join(argv)} exited {sample.code}: {sample.err.strip()}")
    return sample


def write_big_archive(path: Path, name: str, layers: int = 5, layer_mb: int = 41) -> int:
    """An OCI layout tar of ``layers`` uncompressed layers, each one file of random bytes."""
    blobs: Dict[str, bytes] = {}
    diff_ids, layer_descs = [], []
    for i in range(layers):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            data = os.urandom(layer_mb << 20)
            info = tarfile.TarInfo(f"data{i}.bin")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
        raw = buf.getvalue()
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        blobs[digest] = raw
        diff_ids.append(digest)
        layer_descs.append(
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": digest,
                "size": len(raw),
            }
        )
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "config": {"Cmd": ["/bin/true"]},
        }
    ).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    blobs[config_digest] = config
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": layer_descs,
        }
    ).encode()
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    blobs[manifest_digest] = manifest
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": manifest_digest,
                    "size": len(manifest),
                    "annotations": {
                        "io.containerd.image.name": name,
                        "org.opencontainers.image.ref.name": "latest",
                    },
                }
            ],
        }
    ).encode()
    with tarfile.open(path, "w") as tar:
        for member, data in [
            ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
            ("index.json", index),
        ] + [(f"blobs/sha256/{d.split(':', 1)[1]}", b) for d, b in blobs.items()]:
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return path.stat().st_size


class CountingProxy:
    """A unix-socket proxy in front of containerd that records the ``:path`` of every gRPC
    request (HTTP/2 HEADERS frames, HPACK-decoded per connection)."""

    PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    def __init__(self, upstream: str) -> None:
        import hpack  # noqa: F401  (ImportError: the caller skips)

        del hpack

        self.upstream = upstream
        self.path = upstream + ".count"
        self._lock = threading.Lock()
        self._calls: List[Tuple[float, str]] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self._calls = []

    def calls(self) -> List[str]:
        with self._lock:
            return [p for _, p in sorted(self._calls)]

    def close(self) -> None:
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(self.upstream)
            threading.Thread(target=self._pump, args=(server, client, None), daemon=True).start()
            threading.Thread(
                target=self._pump, args=(client, server, self._parser()), daemon=True
            ).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, parser) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if parser is not None:
                    parser.send(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _parser(self):
        import hpack

        def gen():
            decoder = hpack.Decoder()
            buf = b""
            while len(buf) < len(self.PREFACE):
                buf += yield
            buf = buf[len(self.PREFACE) :]
            block = b""
            while True:
                while len(buf) < 9:
                    buf += yield
                length = int.from_bytes(buf[:3], "big")
                ftype, flags = buf[3], buf[4]
                while len(buf) < 9 + length:
                    buf += yield
                payload, buf = buf[9 : 9 + length], buf[9 + length :]
                if ftype == 1:  # HEADERS
                    if flags & 0x8:
                        pad = payload[0]
                        payload = payload[1 : len(payload) - pad]
                    if flags & 0x20:
                        payload = payload[5:]
                    block = payload
                elif ftype == 9:  # CONTINUATION
                    block += payload
                else:
                    continue
                if flags & 0x4:  # END_HEADERS
                    headers = dict(
                        (
                            k if isinstance(k, str) else k.decode(),
                            v if isinstance(v, str) else v.decode(),
                        )
                        for k, v in decoder.decode(block)
                    )
                    if ":path" in headers:
                        with self._lock:
                            self._calls.append((time.perf_counter(), headers[":path"]))
                    block = b""

        g = gen()
        next(g)
        return g


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="alternating pairs per measurement (15)")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated of {','.join(ALL)}")
    parser.add_argument(
        "--venv", default=DEFAULT_VENV, help=f"regular install to use ({DEFAULT_VENV})"
    )
    parser.add_argument(
        "--build-venv",
        action="store_true",
        help="(re)create --venv from this checkout, then run with it",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of parallel and import (3)")
    parser.add_argument(
        "--before",
        metavar="VENV",
        help="another regular install (e.g. of the previous release) measured "
        "in the same alternation by startup, run, parallel, import and ls",
    )
    args = parser.parse_args()
    venv = Path(args.venv)
    if args.build_venv:
        build_venv(venv)
        argv = [a for a in sys.argv[1:] if a != "--build-venv"]
        os.execv(str(venv / "bin" / "python"), [str(venv / "bin" / "python"), __file__, *argv])
    if not (venv / "bin" / "runcore").exists():
        raise SystemExit(f"bench: no runcore in {venv}; use --build-venv")
    if Path(sys.prefix).resolve() != venv.resolve():
        print(
            f"note: baseline interpreter {sys.executable} is not the venv's; "
            f"run with {venv}/bin/python for a fair 'python -c pass'"
        )
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    for w in wanted:
        if w not in ALL:
            raise SystemExit(f"bench: unknown sub-benchmark {w!r}")
    from runcore.testing.daemon import discover_binaries, start_daemon

    binaries = discover_binaries()
    daemon = start_daemon(binaries["1.7"], binaries["1.7"])
    report = Report()
    print(
        f"containerd {daemon.full_version} (private, {daemon.tmpdir}); runcore from {venv} "
        f"(regular install); {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}"
    )
    try:
        bench = Bench(daemon, venv, args.n, report, Path(args.before) if args.before else None)
        for w in wanted:
            if w == "import":
                bench.import_(args.rounds)
            elif w == "parallel":
                bench.parallel(rounds=args.rounds)
            else:
                getattr(bench, w)()
    finally:
        problems = daemon.stop()
        for p in problems:
            print(f"daemon: {p}")
    report.summary()


if __name__ == "__main__":
    main()
