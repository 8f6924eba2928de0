"""``runcore nri serve``: the long-running NRI plugin process.

Connects to containerd's NRI socket, registers as ``<index>-<name>``, answers
``Configure`` (subscribing to ``CreateContainer`` only) and ``Synchronize``, then
adjusts every container CRI creates. When containerd goes away (restart, upgrade) the
trunk closes; ``serve`` waits for the socket to come back and registers again.
SIGTERM/SIGINT close the connection - NRI v0.6.1 has no unregister call; containerd
logs ``connection to plugin ... closed`` and forgets the plugin - and exit 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from typing import Any, List, Optional

#: How long to wait for the RegisterPlugin answer (containerd allows 5 s to register).
REGISTER_TIMEOUT = 5.0
#: How long a stop waits for requests being answered.
STOP_GRACE = 5.0
#: Back-off between connection attempts while the socket is missing or refusing.
RETRY_MIN, RETRY_MAX = 0.1, 2.0


class Log:
    """One line per event on standard error, text or JSON."""

    def __init__(self, fmt: str = "text", stream: Any = None) -> None:
        self.fmt = fmt
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()

    def event(self, level: str, msg: str, **fields: Any) -> None:
        if self.fmt == "json":
            line = json.dumps(
                {
                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "level": level,
                    "msg": msg,
                    **fields,
                },
                sort_keys=False,
            )
        else:
            parts = [f"runcore-nri: {level}: {msg}"]
            for key, value in fields.items():
                if isinstance(value, list):
                    value = ",".join(str(v) for v in value) or "-"
                text = str(value)
                parts.append(f"{key}={json.dumps(text) if (' ' in text or not text) else text}")
            line = " ".join(parts)
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def decision(self, d: Any) -> None:
        """The one line per container decision (info, or error when refused)."""
        fields = {
            "container": d.container,
            "pod": d.pod,
            "id": d.container_id,
            "decision": d.outcome,
            "plugins": d.plugins,
            "fields": d.fields,
            "options": d.options,
        }
        if d.dropped:
            fields["dropped"] = d.dropped
        if d.error:
            fields["error"] = d.error
        fields["ms"] = round(d.seconds * 1000, 1)
        self.event("error" if d.outcome == "refused" else "info", "container", **fields)


def _connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def check_not_16(globals_: Any) -> Optional[str]:
    """When the containerd at ``--address`` is 1.6 (no NRI socket API), why serve cannot work."""
    from runcore.api import RuncoreError

    if globals_ is None:
        return None
    try:
        version = globals_.client().version.Version().version
    except RuncoreError:
        return None
    finally:
        globals_.close()
    if version.split(".")[:2] == ["1", "6"]:
        return (
            f"containerd {version} at {globals_.address} has no NRI plugin socket (its NRI "
            "is v0.1, binaries run per container); runcore nri serve needs containerd 1.7 "
            "or later with NRI enabled"
        )
    return None


class Server:
    """The connect → register → serve → reconnect loop."""

    def __init__(
        self, socket_path: str, name: str, index: str, service: Any, log: Log, globals_: Any = None
    ) -> None:
        self.socket_path = socket_path
        self.name = name
        self.index = index
        self.service = service
        self.log = log
        self.globals = globals_
        self.stop = threading.Event()
        self.trunk: Any = None

    def _wait_for_socket(self, first: bool) -> Optional[socket.socket]:
        delay = RETRY_MIN
        said = False
        checked = not first
        while not self.stop.is_set():
            try:
                return _connect(self.socket_path)
            except OSError as exc:
                if not checked:
                    checked = True
                    why = check_not_16(self.globals)
                    if why:
                        from runcore.api import UsageError

                        raise UsageError(why) from None
                if not said:
                    self.log.event(
                        "info",
                        "waiting for the NRI socket",
                        socket=self.socket_path,
                        reason=exc.strerror or str(exc),
                    )
                    said = True
            self.stop.wait(delay)
            delay = min(delay * 2, RETRY_MAX)
        return None

    def run(self) -> int:
        from runcore_nri import ttrpc
        from runcore_nri.service import RUNTIME_SERVICE, register_request

        first = True
        while not self.stop.is_set():
            sock = self._wait_for_socket(first)
            first = False
            if sock is None:
                break
            trunk = ttrpc.Trunk(sock, self.service.handle)
            self.trunk = trunk
            trunk.start()
            try:
                trunk.call(
                    RUNTIME_SERVICE,
                    "RegisterPlugin",
                    register_request(self.name, self.index),
                    REGISTER_TIMEOUT,
                )
            except ttrpc.TtrpcError as exc:
                trunk.close("registration failed")
                self.log.event(
                    "error", "registration failed", socket=self.socket_path, error=exc.message
                )
                self.stop.wait(RETRY_MAX)
                continue
            self.log.event(
                "info", "registered", socket=self.socket_path, plugin=f"{self.index}-{self.name}"
            )
            while not (trunk.closed.is_set() or self.stop.is_set()):
                self.stop.wait(0.2)
            if self.stop.is_set():
                break
            self.log.event("info", "connection lost; reconnecting", reason=trunk.close_reason)
        if self.trunk is not None and not self.trunk.closed.is_set():
            # Answer what is in flight first: a dropped request would let containerd
            # create that container without the plugins.
            self.service.wait_idle(STOP_GRACE)
            self.trunk.close("runcore nri serve is stopping")
        self.log.event("info", "unregistered; exiting", plugin=f"{self.index}-{self.name}")
        return 0


def serve(
    socket_path: str, name: str, index: str, prefix: str, log_format: str, globals_: Any = None
) -> int:
    """Build the plugin set's option table, then serve until SIGTERM/SIGINT."""
    from runcore.api import UsageError, config_files, plugin_set

    from runcore_nri.options import AnnotationOptions, OptionError
    from runcore_nri.service import PluginService, warm_up

    if len(index) != 2 or not index.isdigit():
        raise UsageError(f"invalid --index {index!r}: must be two digits (00-99)")
    if not name:
        raise UsageError("--name must not be empty")
    log = Log(log_format)
    pset = plugin_set()
    try:
        options = AnnotationOptions(pset, prefix)
    except OptionError as exc:
        raise UsageError(str(exc)[len("runcore: ") :]) from None
    for key, source in sorted(pset.unknown_defaults().items()):
        log.event(
            "warning",
            "[defaults] key names no option of any active plugin; ignored",
            key=key.replace("_", "-"),
            file=source,
        )
    best_effort = read_best_effort(config_files())
    known = {r.id for r in pset.registry.infos}
    for plugin_id in best_effort:
        if plugin_id not in known:
            log.event(
                "warning",
                "[nri] best_effort names a plugin that is not installed",
                plugin=plugin_id,
            )
    service = PluginService(
        pset,
        options,
        best_effort,
        log.decision,
        lambda what, detail: log.event("info", what, runtime=detail),
    )
    problem = warm_up(service)
    if problem:
        raise UsageError(
            f"the plugin set fails on an empty container: {problem[len('runcore: ') :]}"
        )
    server = Server(socket_path, name, index, service, log, globals_)

    def on_signal(signum: int, _frame: Any) -> None:
        server.stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        active = [r.id for r in pset.registry.active()]
        log.event(
            "info",
            "starting",
            socket=socket_path,
            plugins=active,
            prefix=options.prefix,
            best_effort=best_effort,
            pid=os.getpid(),
        )
        return server.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def read_best_effort(files: List[Any]) -> List[str]:
    """``[nri] best_effort = [...]`` from runcore's configuration files (later files win)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[no-redef]
    from runcore.api import UsageError

    best: List[str] = []
    for path in files:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"invalid configuration {path}: {exc}") from None
        table = data.get("nri", {})
        if not isinstance(table, dict):
            raise UsageError(f"invalid configuration {path}: [nri] must be a table")
        if "best_effort" in table:
            value = table["best_effort"]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(
                    f"invalid configuration {path}: nri.best_effort must be a list of plugin ids"
                )
            best = list(value)
    return best
