"""Private containerd daemons for the tests, and the leak checker.

Nothing here touches a system containerd: every daemon gets its own temporary
directory (``/tmp/rc-XXXXXXXX``) holding ``root``, ``state``, the gRPC/ttrpc/debug
sockets, ``config.toml`` and ``containerd.log``.

Binaries (overridable with environment variables, each naming a *directory*):

* 1.7.24 – ``/opt/runcore/containerd-1.7.24/usr/bin`` (``RUNCORE_CONTAINERD_17_BIN``),
  unpacked from Debian trixie's package by ``scripts/bootstrap.sh``;
* 1.6.20 – ``/usr/bin`` (``RUNCORE_CONTAINERD_16_BIN``), Debian bookworm's package.

The 1.7.24 ``ctr`` is the oracle for both daemons (it talks to 1.6.20 fine for
everything the harness uses: version, images import/ls/rm, run, containers, tasks,
snapshots, leases incl. ``rm --sync``, namespaces – checked by the smoke tests).

Sandbox notes (cgroup v1 hybrid host, no systemd, containerd started by hand):

* runc works with the stock cgroupfs driver; no config change is needed for it.
* containerd resolves ``containerd-shim-runc-v2`` through ``$PATH`` first and only
  then next to its own binary, so the daemon's own bin directory is put first in the
  daemon's ``PATH`` – otherwise the 1.7 daemon would start the 1.6 shim from /usr/bin.
* shims keep running when the daemon stops (by design) and their sockets live in the
  fixed ``/run/containerd/s/<sha256(address/ns/id)>``; runc's state lives in
  ``/run/containerd/runc/<ns>``. Teardown cleans those for this daemon only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from runcore.task.orphans import dirs_held_open

__all__ = [
    "BINARY_DIRS",
    "Binaries",
    "CtrError",
    "Daemon",
    "DaemonError",
    "EventLog",
    "LeakBaseline",
    "LeakError",
    "MountEntry",
    "REPO_ROOT",
    "assert_no_leaks",
    "check_leaks",
    "discover_binaries",
    "read_mountinfo",
    "start_daemon",
    "take_baseline",
]

REPO_ROOT = Path(__file__).resolve().parents[2]

#: version id -> (env override, default bin dir, expected full version prefix)
BINARY_DIRS: Dict[str, Tuple[str, str, str]] = {
    "1.7": ("RUNCORE_CONTAINERD_17_BIN", "/opt/runcore/containerd-1.7.24/usr/bin", "1.7.24"),
    "1.6": ("RUNCORE_CONTAINERD_16_BIN", "/usr/bin", "1.6.20"),
}
ORACLE = "1.7"
SNAPSHOTTERS = ("overlayfs", "native")
SHIM_SOCKET_ROOT = "/run/containerd/s"
RUNC_ROOT = "/run/containerd/runc"
DEFAULT_FIFO_ROOT = "/run/containerd/fifo"
NETNS_DIRS = ("/run/netns", "/var/run/netns")
START_TIMEOUT = float(os.environ.get("RUNCORE_CONTAINERD_START_TIMEOUT", "30"))
LOG_LEVEL = os.environ.get("RUNCORE_CONTAINERD_LOG_LEVEL", "debug")


class DaemonError(RuntimeError):
    """The daemon could not be started or stopped."""


class LeakError(AssertionError):
    """Objects were left behind by a test."""


class CtrError(subprocess.CalledProcessError):
    """A ``ctr``/``runcore`` call failed; ``str()`` shows its output."""

    def __str__(self) -> str:  # pragma: no cover - formatting only
        out = (
            self.stdout
            if isinstance(self.stdout, str)
            else (self.stdout or b"").decode(errors="replace")
        )
        err = (
            self.stderr
            if isinstance(self.stderr, str)
            else (self.stderr or b"").decode(errors="replace")
        )
        return (
            f"command {' '.join(map(str, self.cmd))!r} exited {self.returncode}\n"
            f"--- stdout ---\n{out}--- stderr ---\n{err}"
        )


# --------------------------------------------------------------------------- binaries


@dataclass(frozen=True)
class Binaries:
    version: str  # "1.7" / "1.6"
    bin_dir: str
    containerd: str
    ctr: str
    shim: str
    full_version: str  # what `containerd --version` says, e.g. "1.7.24~ds1"

    @property
    def usable(self) -> bool:
        return bool(self.full_version)


def _probe_version(containerd: str) -> str:
    try:
        out = subprocess.run(
            [containerd, "--version"], capture_output=True, text=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    # "containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1"
    parts = out.split()
    return parts[2] if len(parts) >= 3 else ""


def discover_binaries() -> Dict[str, Optional[Binaries]]:
    """version id -> :class:`Binaries` (``None`` where a binary is missing or wrong)."""
    found: Dict[str, Optional[Binaries]] = {}
    for version, (env, default, expected) in BINARY_DIRS.items():
        bin_dir = os.environ.get(env) or default
        containerd = os.path.join(bin_dir, "containerd")
        ctr = os.path.join(bin_dir, "ctr")
        shim = os.path.join(bin_dir, "containerd-shim-runc-v2")
        if not all(os.access(p, os.X_OK) for p in (containerd, ctr, shim)):
            found[version] = None
            continue
        full = _probe_version(containerd)
        # a directory named explicitly may hold any release of that minor version
        if not full.startswith(f"{version}." if os.environ.get(env) else expected):
            found[version] = None
            continue
        found[version] = Binaries(version, bin_dir, containerd, ctr, shim, full)
    return found


def missing_reason(binaries: Dict[str, Optional[Binaries]], version: str) -> Optional[str]:
    """Why a daemon of *version* cannot be used for the tests (``None`` if it can)."""
    if os.geteuid() != 0:
        return "containerd tests need root"
    for v in {version, ORACLE}:
        if binaries.get(v) is None:
            env, default, expected = BINARY_DIRS[v]
            return (
                f"containerd {expected} not found in {os.environ.get(env) or default} "
                f"(containerd, ctr, containerd-shim-runc-v2; set {env} or pytest's "
                f"runcore_containerd_bin, or run runcore's scripts/bootstrap.sh)"
            )
    if shutil.which("runc") is None:
        return "runc not found in PATH (apt-get install runc)"
    return None


# --------------------------------------------------------------------------- mounts


def _unescape(s: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


@dataclass(frozen=True)
class MountEntry:
    mount_id: int
    mount_point: str
    fstype: str
    source: str
    super_options: str
    dev: str = ""  # "major:minor"
    root: str = "/"  # path of the mount's root inside its filesystem (bind mounts)

    def mentions(self, path: str) -> bool:
        prefix = path.rstrip("/") + "/"
        return (
            self.mount_point == path.rstrip("/")
            or self.mount_point.startswith(prefix)
            or prefix in self.source + "/"
            or prefix in self.super_options
        )

    def __str__(self) -> str:
        return f"{self.fstype} {self.source} on {self.mount_point} ({self.super_options[:200]})"


def read_mountinfo(path: str = "/proc/self/mountinfo") -> List[MountEntry]:
    entries = []
    with open(path) as f:
        for line in f:
            left, _, right = line.partition(" - ")
            lf = left.split()
            rf = right.split()
            if len(lf) < 5 or len(rf) < 2:
                continue
            entries.append(
                MountEntry(
                    mount_id=int(lf[0]),
                    mount_point=_unescape(lf[4]),
                    fstype=rf[0],
                    source=_unescape(rf[1]),
                    super_options=_unescape(rf[2]) if len(rf) > 2 else "",
                    dev=lf[2],
                    root=_unescape(lf[3]),
                )
            )
    return entries


def _fs_location(path: str, mounts: List[MountEntry]) -> Optional[Tuple[str, str]]:
    """(dev, path inside that filesystem) of *path*, to recognise bind mounts of it."""
    path = os.path.realpath(path)
    best = None
    for m in mounts:
        mp = m.mount_point.rstrip("/") or "/"
        if path == mp or path.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) >= len(best.mount_point.rstrip("/") or "/"):
                best = m
    if best is None:
        return None
    mp = best.mount_point.rstrip("/")
    rel = path[len(mp) :] if mp else path
    return best.dev, (best.root.rstrip("/") + rel) or "/"


def mounts_mentioning(path: str, mounts: Optional[List[MountEntry]] = None) -> List[MountEntry]:
    """Mounts whose mount point is under *path*, whose source/options refer to it, or
    that bind-mount something from under it (e.g. a native snapshot mounted elsewhere)."""
    mounts = read_mountinfo() if mounts is None else mounts
    loc = _fs_location(path, mounts)
    found = []
    for m in mounts:
        if m.mentions(path):
            found.append(m)
        elif (
            loc
            and m.dev == loc[0]
            and (m.root == loc[1] or m.root.startswith(loc[1].rstrip("/") + "/"))
        ):
            found.append(m)
    return found


def unmount_all(path: str) -> List[str]:
    """Unmount every mount mentioning *path*, deepest first; returns what failed."""
    failed = []
    for _ in range(5):  # stacked mounts need several rounds
        mounts = mounts_mentioning(path)
        if not mounts:
            return []
        mounts.sort(key=lambda m: (m.mount_point.count("/"), m.mount_id), reverse=True)
        failed = []
        for m in mounts:
            r = subprocess.run(["umount", m.mount_point], capture_output=True, text=True)
            if r.returncode != 0:
                r = subprocess.run(["umount", "-l", m.mount_point], capture_output=True, text=True)
                if r.returncode != 0:
                    failed.append(f"{m}: {r.stderr.strip()}")
    return failed


# --------------------------------------------------------------------------- processes


def _proc_cmdlines() -> Iterable[Tuple[int, List[str]]]:
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if raw:
            yield int(d), [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")]


def _arg(argv: Sequence[str], name: str) -> Optional[str]:
    for i, a in enumerate(argv):
        if a in (f"-{name}", f"--{name}") and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(f"-{name}=") or a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return None


def find_shims(address: str) -> List[Tuple[int, List[str]]]:
    """Shim processes serving the daemon listening on *address*."""
    shims = []
    for pid, argv in _proc_cmdlines():
        if not os.path.basename(argv[0]).startswith("containerd-shim"):
            continue
        if _arg(argv, "address") == address or any(address in a for a in argv):
            shims.append((pid, argv))
    return shims


def shim_socket_path(address: str, namespace: str, container_id: str) -> str:
    """Where containerd 1.6/1.7 put a shim's socket (``shim.SocketAddress``)."""
    digest = hashlib.sha256(os.path.join(address, namespace, container_id).encode()).hexdigest()
    return os.path.join(SHIM_SOCKET_ROOT, digest)


# --------------------------------------------------------------------------- daemon


def _config_toml(tmp: str, kind: str = "", top_level: str = "", plugins: str = "") -> str:
    """A private daemon's configuration, every path under *tmp*: ``top_level`` keys and
    ``plugins`` sections (under ``[plugins]``) added to what every private daemon has."""
    return f"""\
# Private containerd{kind} for runcore's tests (written by runcore/testing/daemon.py).
version = 2
root = "{tmp}/root"
state = "{tmp}/state"
{top_level}
[grpc]
  address = "{tmp}/c.sock"

[ttrpc]
  address = "{tmp}/c.sock.ttrpc"

[debug]
  address = "{tmp}/debug.sock"
  level = "{LOG_LEVEL}"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{tmp}/opt"
{plugins}"""


def _plain_config_toml(tmp: str) -> str:
    """A private daemon without CRI."""
    return _config_toml(tmp, top_level='disabled_plugins = ["io.containerd.grpc.v1.cri"]\n')


#: Name of the pause image a CRI daemon uses (tests import an image under this name).
CRI_SANDBOX_IMAGE = "docker.io/library/rcpause:latest"


def _cri_nri_config_toml(tmp: str, sandbox_image: str, nri_request_timeout: str) -> str:
    """A private daemon with CRI and NRI enabled, every path under *tmp*.

    CRI's defaults would share host paths between daemons (runc state under
    /run/containerd/runc/k8s.io, /opt/containerd, the CNI dirs, /var/run/nri/nri.sock):
    all are moved under *tmp*. ``restrict_oom_score_adj``: the sandbox's default
    oom_score_adj (-998) needs CAP_SYS_RESOURCE, which these machines do not grant.
    No CNI config exists, so pods must use host networking.
    """
    return _config_toml(
        tmp,
        kind=" with CRI and NRI",
        plugins=f"""\
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "{sandbox_image}"
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "{tmp}/cni/bin"
      conf_dir = "{tmp}/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          Root = "{tmp}/runc"
  [plugins."io.containerd.nri.v1.nri"]
    disable = false
    socket_path = "{tmp}/nri.sock"
    plugin_path = "{tmp}/nri/plugins"
    plugin_config_path = "{tmp}/nri/conf.d"
    plugin_request_timeout = "{nri_request_timeout}"
""",
    )


def _die_with_parent() -> None:  # runs in the child between fork and exec
    """PR_SET_PDEATHSIG(SIGTERM): the daemon stops if pytest is killed without teardown."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except Exception:  # pragma: no cover - best effort
        pass


def _clean_env(extra_path: Optional[str] = None) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTAINERD_")}
    env.pop("NOTIFY_SOCKET", None)
    path = env.get("PATH") or "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    for p in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if p not in path.split(":"):
            path += ":" + p
    if extra_path:
        path = extra_path + ":" + path
    env["PATH"] = path
    return env


@dataclass
class Daemon:
    """A private containerd daemon (see module doc)."""

    version: str  # "1.7" / "1.6"
    full_version: str  # e.g. "1.7.24~ds1"
    address: str  # gRPC socket path
    root: str
    state: str
    ctr_path: str  # the oracle: ctr 1.7.24
    own_ctr_path: str  # the daemon's own ctr
    containerd_path: str
    log: Path
    tmpdir: str
    config_path: str
    ttrpc_address: str
    debug_address: str
    proc: Optional[subprocess.Popen] = field(default=None, repr=False)
    #: CRI/NRI daemons only (``start_daemon(cri_nri=True)``): the NRI socket and
    #: runc's private state root ("" otherwise).
    nri_socket: str = ""
    runc_root: str = ""

    # ----------------------------------------------------------------- commands

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def _run(
        self,
        argv: List[str],
        *,
        check: bool = True,
        input=None,
        timeout: float = 120,
        env=None,
        text: bool = True,
    ) -> subprocess.CompletedProcess:
        """Run ``argv`` with output captured; ``check`` raises :class:`CtrError` on failure."""
        if input is not None and text and isinstance(input, bytes):
            text = False
        r = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=text,
            timeout=timeout,
            env=env or _clean_env(),
            stdin=subprocess.DEVNULL if input is None else None,
        )
        if check and r.returncode != 0:
            raise CtrError(r.returncode, argv, r.stdout, r.stderr)
        return r

    def ctr_argv(self, *args: str, namespace: Optional[str] = None, own: bool = False) -> List[str]:
        argv = [self.own_ctr_path if own else self.ctr_path, "--address", self.address]
        if namespace is not None:
            argv += ["--namespace", namespace]
        return argv + [str(a) for a in args]

    def ctr(
        self,
        *args: str,
        namespace: Optional[str] = None,
        check: bool = True,
        input=None,
        timeout: float = 120,
        text: bool = True,
        own: bool = False,
    ) -> subprocess.CompletedProcess:
        """Run the oracle ``ctr`` (1.7.24), or with ``own`` this daemon's own ``ctr``,
        against this daemon; output is captured."""
        return self._run(
            self.ctr_argv(*args, namespace=namespace, own=own),
            check=check,
            input=input,
            timeout=timeout,
            text=text,
        )

    def ctr_own(self, *args: str, **kw: Any) -> subprocess.CompletedProcess:
        """Run this daemon's own ``ctr`` (1.6.20 for the 1.6 daemon); keywords as :meth:`ctr`."""
        return self.ctr(*args, own=True, **kw)

    def runcore_argv(self, *args: str, namespace: Optional[str] = None) -> List[str]:
        argv = [sys.executable, "-m", "runcore", "--address", self.address]
        if namespace is not None:
            argv += ["--namespace", namespace]
        return argv + [str(a) for a in args]

    def runcore(
        self, *args: str, namespace: Optional[str] = None, **kw: Any
    ) -> subprocess.CompletedProcess:
        """Run ``python -m runcore --address <this daemon> [--namespace NS] ARGS``; keywords
        (``check``, ``input``, ``timeout``, ``text``) as :meth:`ctr`."""
        return self._run(self.runcore_argv(*args, namespace=namespace), **kw)

    # ----------------------------------------------------------------- queries

    def lines(self, *args: str, namespace: Optional[str] = None) -> List[str]:
        return [l for l in self.ctr(*args, namespace=namespace).stdout.splitlines() if l.strip()]

    def namespaces(self) -> List[str]:
        return self.lines("namespaces", "ls", "-q")

    def snapshots(
        self, namespace: str, snapshotter: str = "overlayfs"
    ) -> List[Tuple[str, str, str]]:
        """(key, parent, kind) of every snapshot of *snapshotter* in *namespace*."""
        rows = []
        for line in self.lines(
            "snapshots", "--snapshotter", snapshotter, "ls", namespace=namespace
        )[1:]:
            parts = line.split()
            if len(parts) == 3:
                rows.append((parts[0], parts[1], parts[2]))
            elif len(parts) == 2:  # no parent
                rows.append((parts[0], "", parts[1]))
        return rows

    def force_gc(self, namespace: str) -> None:
        """Run a synchronous garbage collection (create a lease, delete it with --sync)."""
        lease = self.ctr("leases", "create", namespace=namespace).stdout.strip()
        self.ctr("leases", "rm", "--sync", lease, namespace=namespace)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "".join(self.log.read_text(errors="replace").splitlines(True)[-n:])
        except OSError:
            return ""

    # ----------------------------------------------------------------- lifecycle

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise DaemonError(
                    f"containerd {self.version} exited with {self.proc.returncode} during start-up; "
                    f"log {self.log}:\n{self.log_tail()}"
                )
            if os.path.exists(self.address):
                r = self.ctr_own("version", check=False, timeout=10)
                if r.returncode == 0 and "Server:" in r.stdout:
                    return
                last = r.stderr
            time.sleep(0.1)
        raise DaemonError(
            f"containerd {self.version} did not answer on {self.address} within {timeout}s ({last.strip()}); "
            f"log {self.log}:\n{self.log_tail()}"
        )

    def spawn(self) -> None:
        """Start the daemon process (dirs and config exist) and wait until it answers."""
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(
                [self.containerd_path, "--config", self.config_path],
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                # The daemon's own directory first: containerd looks the shim up in $PATH.
                env=_clean_env(os.path.dirname(self.containerd_path)),
                cwd=self.tmpdir,
                start_new_session=True,  # ^C in the terminal must not kill it before teardown
                preexec_fn=_die_with_parent,
            )
        self.wait_ready()

    def restart(self, sig: int = signal.SIGTERM, down: float = 0.0) -> None:
        """Restart the process in place (same config: address, root and state): clears
        the daemon's in-memory state such as deprecation warnings; objects persist, and
        shims (so tasks) survive.

        *sig* ends the old process (SIGTERM, or SIGKILL for a crash); the new one starts
        *down* seconds after the old one is gone.
        """
        self.kill_process(sig)
        with open(self.log, "a") as f:
            f.write(
                f"\n=== runcore test harness: restarting containerd "
                f"({signal.Signals(sig).name}, {down:g}s down) ===\n"
            )
        if down > 0:
            time.sleep(down)
        self.spawn()

    def kill_process(self, sig: int = signal.SIGTERM) -> None:
        """End the daemon process only (shims and their tasks keep running)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def deprecations(self) -> List[str]:
        """IDs of the deprecation warnings the daemon reports (1.7.14+; [] for 1.6).

        They are daemon-global and sticky (e.g. once any client used the
        ``io.containerd.runc.v1`` runtime) and make every later ctr 1.7 command print
        ``DEPRECATION: ...`` on stderr.
        """
        r = self.ctr("deprecations", "list", "--format", "json", check=False, timeout=30)
        if r.returncode != 0:
            return []
        try:
            data = json.loads(r.stdout or "[]")
        except ValueError:
            return []
        return (
            [str(w.get("id") or w.get("ID") or w) for w in data or []]
            if isinstance(data, list)
            else []
        )

    def stop(self) -> List[str]:
        """Stop the daemon and clean up everything it left; returns problems found."""
        problems: List[str] = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                problems.append("containerd did not stop within 10 s of SIGTERM; killed")
                self.proc.kill()
                self.proc.wait(10)
        # Containers still running (only possible if a test leaked them and the leak
        # check was bypassed): kill them through runc, then their shims.
        task_root = Path(self.state, "io.containerd.runtime.v2.task")
        namespaces = set()
        if task_root.is_dir():
            for ns_dir in task_root.iterdir():
                namespaces.add(ns_dir.name)
                for c_dir in ns_dir.iterdir() if ns_dir.is_dir() else ():
                    subprocess.run(
                        [
                            "runc",
                            "--root",
                            os.path.join(self.runc_root or RUNC_ROOT, ns_dir.name),
                            "delete",
                            "--force",
                            c_dir.name,
                        ],
                        capture_output=True,
                        env=_clean_env(),
                    )
                    problems.append(
                        f"task {ns_dir.name}/{c_dir.name} was still present at daemon stop"
                    )
        for pid, argv in find_shims(self.address):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            ns, cid = _arg(argv, "namespace"), _arg(argv, "id")
            if ns and cid:
                namespaces.add(ns)
                try:
                    os.unlink(shim_socket_path(self.address, ns, cid))
                except OSError:
                    pass
            problems.append(f"killed leftover shim {pid}: {' '.join(argv)}")
        for ns in namespaces:
            remove_runc_root(ns)
        failed = unmount_all(self.tmpdir)
        problems += [f"could not unmount {f}" for f in failed]
        if not failed and not os.environ.get("RUNCORE_KEEP_DAEMON_DIR"):
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        return problems


def start_daemon(
    binaries: Binaries,
    oracle: Binaries,
    *,
    tmp_parent: str = "/tmp",
    cri_nri: bool = False,
    sandbox_image: str = CRI_SANDBOX_IMAGE,
    nri_request_timeout: str = "2s",
) -> Daemon:
    """Start a private daemon from *binaries*; *oracle* supplies the ``ctr`` used by :meth:`Daemon.ctr`.

    The default daemon has CRI disabled. ``cri_nri=True`` starts one with CRI and NRI
    enabled instead (NRI socket ``Daemon.nri_socket``, pause image *sandbox_image*,
    which the caller imports into namespace ``k8s.io``); containerd 1.7 only.
    """
    tmp = tempfile.mkdtemp(prefix="rc-", dir=tmp_parent)
    os.chmod(tmp, 0o711)
    address = f"{tmp}/c.sock"
    if len(address) + len(".ttrpc") >= 100:
        raise DaemonError(f"socket path {address!r} too long")
    cfg = Path(tmp, "config.toml")
    if cri_nri:
        cfg.write_text(_cri_nri_config_toml(tmp, sandbox_image, nri_request_timeout))
    else:
        cfg.write_text(_plain_config_toml(tmp))
    log = Path(tmp, "containerd.log")
    d = Daemon(
        version=binaries.version,
        full_version=binaries.full_version,
        address=address,
        root=f"{tmp}/root",
        state=f"{tmp}/state",
        ctr_path=oracle.ctr,
        own_ctr_path=binaries.ctr,
        containerd_path=binaries.containerd,
        log=log,
        tmpdir=tmp,
        config_path=str(cfg),
        ttrpc_address=f"{tmp}/c.sock.ttrpc",
        debug_address=f"{tmp}/debug.sock",
        nri_socket=f"{tmp}/nri.sock" if cri_nri else "",
        runc_root=f"{tmp}/runc" if cri_nri else "",
    )
    try:
        d.spawn()
    except BaseException:
        d.stop()
        raise
    return d


# --------------------------------------------------------------------------- leak check


def _netns_entries() -> Set[str]:
    found = set()
    for d in NETNS_DIRS:
        try:
            found |= {os.path.join(os.path.realpath(d), n) for n in os.listdir(d)}
        except OSError:
            pass
    return found


def _dir_entries(path: str) -> Set[str]:
    try:
        return set(os.listdir(path))
    except OSError:
        return set()


class EventLog:
    """``ctr events`` of one daemon, recorded while a test runs.

    The default FIFO root is shared by every containerd client on the host, so a new
    directory there is the test's only if it serves the test's containers: the log gives
    the container ids, exec ids and task IO paths seen in the test's namespace.
    """

    def __init__(self, daemon: "Daemon") -> None:
        self._file = tempfile.TemporaryFile(mode="w+")
        try:
            self._proc: Optional[subprocess.Popen] = subprocess.Popen(
                daemon.ctr_argv("events"),
                stdout=self._file,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                env=_clean_env(),
            )
        except OSError:
            self._proc = None
        time.sleep(0.1)  # let the subscription reach the daemon

    @property
    def usable(self) -> bool:
        """Whether the subscription lasted the whole test (a restart breaks it)."""
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)

    def owned(self, namespace: str) -> Tuple[Set[str], Set[str]]:
        """(FIFO name prefixes, FIFO directories) of the test's containers and execs."""
        names: Set[str] = set()
        dirs: Set[str] = set()
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            parts = line.split(" ", 6)
            # "<date> <time> <zone> UTC <namespace> <topic> <json>"
            if len(parts) < 7 or parts[4] != namespace:
                continue
            topic, _, body = parts[5], " ", parts[6]
            try:
                data = json.loads(body)
            except ValueError:
                continue
            if topic == "/containers/create" and data.get("id"):
                names.add(data["id"])
            elif topic == "/tasks/exec-added" and data.get("exec_id"):
                names.add(f"{data.get('container_id', '')}-{data['exec_id']}")
            elif topic == "/tasks/create":
                for path in (data.get("io") or {}).values():
                    if isinstance(path, str) and path.startswith(DEFAULT_FIFO_ROOT + "/"):
                        dirs.add(os.path.dirname(path))
        return names, dirs


@dataclass
class LeakBaseline:
    """What existed before the test (mounts, netns, default FIFO dirs)."""

    mounts: Set[Tuple[int, str]]  # every mount of the host (id, mount point)
    netns: Set[str]
    default_fifos: Set[str]
    events: Optional[EventLog] = None

    def close(self) -> None:
        if self.events is not None:
            self.events.close()


def take_baseline(daemon: Daemon) -> LeakBaseline:
    return LeakBaseline(
        mounts={(m.mount_id, m.mount_point) for m in read_mountinfo()},
        netns=_netns_entries(),
        default_fifos=_dir_entries(DEFAULT_FIFO_ROOT),
        events=EventLog(daemon),
    )


def _fifo_dir_is_ours(path: str, names: Set[str], dirs: Set[str]) -> bool:
    """Whether a FIFO directory serves one of the test's containers or exec processes."""
    if path in dirs:
        return True
    for entry in _dir_entries(path):
        for stream in ("-stdin", "-stdout", "-stderr"):
            if entry.endswith(stream) and entry[: -len(stream)] in names:
                return True
    return False


def _leaks_once(
    daemon: Daemon,
    namespace: str,
    baseline: Optional[LeakBaseline],
    fifo_dirs: Sequence[str],
    snapshotters: Sequence[str],
) -> List[str]:
    leaks: List[str] = []
    if namespace in daemon.namespaces():
        for cid in daemon.lines("containers", "ls", "-q", namespace=namespace):
            leaks.append(f"container {cid!r}")
        for tid in daemon.lines("tasks", "ls", "-q", namespace=namespace):
            leaks.append(f"task {tid!r}")
        for sn in snapshotters:
            for key, parent, kind in daemon.snapshots(namespace, sn):
                if kind.lower() == "active":
                    leaks.append(f"active {sn} snapshot {key!r} (parent {parent or '-'})")
        for lease in daemon.lines("leases", "ls", "-q", namespace=namespace):
            leaks.append(f"lease {lease!r}")
    for d in fifo_dirs:
        left = sorted(_dir_entries(d))
        if left:
            leaks.append(f"FIFO dir {d} not empty: {left}")
    if baseline is not None:
        # The default FIFO root is shared with every other client on the host: a new
        # directory there is ours to answer for only once nobody holds its FIFOs open.
        new = sorted(_dir_entries(DEFAULT_FIFO_ROOT) - baseline.default_fifos)
        if new and baseline.events is not None and baseline.events.usable:
            # Only directories serving the test's own containers (other clients on the
            # host create and remove theirs at the same time).
            names, dirs = baseline.events.owned(namespace)
            new = [
                n for n in new if _fifo_dir_is_ours(os.path.join(DEFAULT_FIFO_ROOT, n), names, dirs)
            ]
        if new:
            held = dirs_held_open([os.path.join(DEFAULT_FIFO_ROOT, n) for n in new])
            new = [n for n in new if os.path.join(DEFAULT_FIFO_ROOT, n) not in held]
        if new:
            leaks.append(f"new FIFO dirs in {DEFAULT_FIFO_ROOT}: {new}")
        # Anything mounting the daemon's files: task rootfs under state/, overlay
        # mounts of its snapshots anywhere (client-side temp mounts for user lookups),
        # bind mounts of native snapshots.
        for m in mounts_mentioning(daemon.tmpdir):
            if (m.mount_id, m.mount_point) not in baseline.mounts:
                leaks.append(f"mount {m}")
        new_ns = sorted(_netns_entries() - baseline.netns)
        if new_ns:
            leaks.append(f"network namespaces added: {new_ns}")
    else:
        task_dir = os.path.join(daemon.state, "io.containerd.runtime.v2.task", namespace) + "/"
        for m in read_mountinfo():
            if m.mount_point.startswith(task_dir):
                leaks.append(f"mount {m}")
    return leaks


def check_leaks(
    daemon: Daemon,
    namespace: str,
    baseline: Optional[LeakBaseline] = None,
    fifo_dirs: Sequence[str] = (),
    snapshotters: Sequence[str] = SNAPSHOTTERS,
    settle: float = 5.0,
) -> List[str]:
    """Describe what *namespace* on *daemon* still holds that a test should have removed.

    Checks containers, tasks, active snapshots (per snapshotter), leases, the given
    FIFO directories (must be empty) and – with a *baseline* – new entries in the
    default FIFO root, new mounts mentioning the daemon's directory and new network
    namespaces. Snapshots released with a lease are garbage and not leaks: when active
    snapshots show up a synchronous GC is forced and the check repeated; transient
    state (a shim still exiting) gets up to *settle* seconds.
    """
    deadline = time.monotonic() + settle
    gc_done = False
    while True:
        leaks = _leaks_once(daemon, namespace, baseline, fifo_dirs, snapshotters)
        if not leaks:
            return []
        if not gc_done and any("snapshot" in l for l in leaks) and namespace in daemon.namespaces():
            daemon.force_gc(namespace)
            gc_done = True
            continue
        if time.monotonic() >= deadline:
            return leaks
        time.sleep(0.25)


def assert_no_leaks(
    daemon: Daemon,
    namespace: str,
    baseline: Optional[LeakBaseline] = None,
    fifo_dirs: Sequence[str] = (),
    **kw,
) -> None:
    leaks = check_leaks(daemon, namespace, baseline, fifo_dirs, **kw)
    if leaks:
        raise LeakError(
            f"leaked in namespace {namespace!r} on containerd {daemon.full_version} ({daemon.address}):\n  - "
            + "\n  - ".join(leaks)
        )


def cleanup_namespace(daemon: Daemon, namespace: str) -> None:
    """Best effort: remove everything in *namespace*, then the namespace (after a leak report)."""
    if namespace not in daemon.namespaces():
        return
    for tid in daemon.lines("tasks", "ls", "-q", namespace=namespace):
        daemon.ctr("tasks", "kill", "-s", "SIGKILL", tid, namespace=namespace, check=False)
        for _ in range(50):
            if (
                daemon.ctr("tasks", "rm", "-f", tid, namespace=namespace, check=False).returncode
                == 0
            ):
                break
            time.sleep(0.1)
    for cid in daemon.lines("containers", "ls", "-q", namespace=namespace):
        daemon.ctr("containers", "rm", cid, namespace=namespace, check=False)
    for lease in daemon.lines("leases", "ls", "-q", namespace=namespace):
        daemon.ctr("leases", "rm", lease, namespace=namespace, check=False)
    for sn in SNAPSHOTTERS:
        for key, _, kind in daemon.snapshots(namespace, sn):
            if kind.lower() == "active":
                daemon.ctr(
                    "snapshots", "--snapshotter", sn, "rm", key, namespace=namespace, check=False
                )
    images = daemon.lines("images", "ls", "-q", namespace=namespace)
    if images:
        daemon.ctr("images", "rm", "--sync", *images, namespace=namespace, check=False)
    daemon.force_gc(namespace)
    daemon.ctr("namespaces", "rm", namespace, check=False)
    remove_runc_root(namespace)


def remove_runc_root(namespace: str) -> None:
    """runc keeps an (empty) state root per namespace forever; drop ours once unused."""
    if namespace == "default":  # shared with a system containerd, never touch it
        return
    try:
        os.rmdir(os.path.join(RUNC_ROOT, namespace))  # only succeeds when empty
    except OSError:
        pass


if __name__ == "__main__":  # pragma: no cover - manual: python -m support.daemon [1.7|1.6]
    version = sys.argv[1] if len(sys.argv) > 1 else "1.7"
    bins = discover_binaries()
    why = missing_reason(bins, version)
    if why:
        sys.exit(why)
    dmn = start_daemon(bins[version], bins[ORACLE])
    print(
        json.dumps(
            {"address": dmn.address, "pid": dmn.pid, "tmpdir": dmn.tmpdir, "log": str(dmn.log)}
        ),
        flush=True,
    )

    def _interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        print("\n".join(dmn.stop()))
