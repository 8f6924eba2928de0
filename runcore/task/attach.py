"""``runcore attach``: reconnect runcore's stdio to a running task's FIFOs.

As ``ctr tasks attach``: the FIFO paths come from the task (``Tasks/Get``), so tasks
started by ``runcore run -d``/``start -d`` and by ``ctr run -d`` alike can be attached;
signals are forwarded; runcore exits with the task's status and leaves the stopped task
for ``runcore rm`` (or ``ctr tasks rm``).

Detaching without stopping the task (documented in the README):

* with a terminal, type Ctrl-P Ctrl-Q (docker's keys; ``--detach-keys`` changes them);
* without one, run with ``--no-sig-proxy``: then SIGINT (Ctrl-C) and SIGTERM detach
  instead of being forwarded.

A task without FIFOs (``--null-io``, ``--log-uri``) cannot be attached: one line says
so. If containerd goes away while attached, runcore waits for it (see
:mod:`runcore.task.reconnect`).
"""

from __future__ import annotations

import os
import signal
import threading
from queue import Empty, SimpleQueue
from typing import Any, Optional, Tuple

from runcore.errors import ContainerdError, NotFound, RuncoreError, UsageError
from runcore.task import signals as sigs
from runcore.task import tty as ttymod
from runcore.errors import warn
from runcore.task.control import require_running
from runcore.task.copier import Copier, standard_fds
from runcore.task.fifos import FifoSet
from runcore.task.reconnect import retrying

#: docker's default detach sequence, Ctrl-P Ctrl-Q.
DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"
#: runcore's exit status after detaching (the task keeps running).
DETACHED = 0


def parse_detach_keys(text: str) -> bytes:
    """``ctrl-p,ctrl-q`` (docker's syntax: ``ctrl-<letter or @[\\]^_>`` or one character)."""
    out = bytearray()
    for part in text.split(","):
        key = part.strip()
        if key.lower().startswith("ctrl-") and len(key) == 6:
            c = key[5].lower()
            if "a" <= c <= "z":
                out.append(ord(c) - ord("a") + 1)
                continue
            if c in "@[\\]^_":
                out.append((ord(c) - 64) & 0x7F)
                continue
        elif len(key) == 1 and key.isascii():
            out.append(ord(key))
            continue
        raise UsageError(f"invalid detach keys {text!r}: use e.g. ctrl-p,ctrl-q")
    if not out:
        raise UsageError("invalid detach keys: empty")
    return bytes(out)


def _fifo_set(container_id: str, process: Any) -> FifoSet:
    paths = [process.stdin, process.stdout, process.stderr]
    if not any(paths):
        raise UsageError(
            f'task of container "{container_id}" has no stdio to attach to '
            "(it was started with --null-io)"
        )
    for path in paths:
        if path and not os.path.isabs(path):
            raise UsageError(
                f'task of container "{container_id}" writes to a log URI '
                f"({path}); read it with 'runcore logs {container_id}'"
            )
    for path in paths:
        if path and not os.path.exists(path):
            raise UsageError(f'the FIFOs of container "{container_id}" are gone ({path})')
    directory = os.path.dirname(next(p for p in paths if p))
    return FifoSet(
        directory, container_id, stdin=process.stdin, stdout=process.stdout, stderr=process.stderr
    )


class Attach:
    """One ``runcore attach`` session."""

    def __init__(
        self,
        client: Any,
        container_id: str,
        *,
        sig_proxy: bool = True,
        detach_keys: str = DEFAULT_DETACH_KEYS,
    ) -> None:
        self.client = client
        self.cid = container_id
        self.sig_proxy = sig_proxy
        self.keys = parse_detach_keys(detach_keys)
        self.events: "SimpleQueue[Tuple[Any, ...]]" = SimpleQueue()

    def run(self) -> int:
        process = require_running(self.client, self.cid)
        fifos = _fifo_set(self.cid, process)
        tty = bool(process.terminal)
        if tty and not ttymod.is_terminal(0):
            raise UsageError(ttymod.NOT_A_TTY)
        stdin_fd, stdout_fd, stderr_fd = standard_fds()
        copier = Copier(
            fifos,
            stdin_fd=stdin_fd,
            stdout_fd=stdout_fd,
            stderr_fd=stderr_fd,
            detach_keys=self.keys if tty else b"",
            keep_stdin_open=True,
            on_detach=lambda: self.events.put(("detach",)),
        )
        wanted = set(sigs.forwardable())
        if tty:
            wanted.add(int(signal.SIGWINCH))
        catcher = sigs.SignalCatcher(self.events, wanted)
        terminal: Optional[ttymod.RawTerminal] = None
        catcher.install()
        try:
            if tty:  # raw before any output: the detach keys must not wait for a newline
                terminal = ttymod.RawTerminal(0)
                terminal.enter()
                self._resize()
            copier.open()
            copier.task_created()  # the shim holds its ends already
            copier.start()
            threading.Thread(target=self._wait, daemon=True, name="runcore-wait").start()
            status = self._loop(tty)
            if status is None:
                copier.close(timeout=0.5)
                return DETACHED
            copier.wait_output(idle=5.0)
            copier.close(timeout=1.0)
            return status if 0 <= status <= 255 else 255
        finally:
            if terminal is not None:
                terminal.restore()
            catcher.restore()
            copier.close(timeout=0.5)

    def _wait(self) -> None:
        try:
            response = retrying(
                self.client,
                lambda: self.client.tasks.Wait(container_id=self.cid),
                f"the wait for {self.cid}",
            )
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            self.events.put(("wait-error", exc))
        else:
            self.events.put(("exit", int(response.exit_status)))

    def _resize(self) -> None:
        size = ttymod.window_size(0)
        if size is None:
            return
        try:
            self.client.tasks.ResizePty(container_id=self.cid, width=size[0], height=size[1])
        except ContainerdError as exc:
            warn(f"resize pty: {exc}")

    def _loop(self, tty: bool) -> Optional[int]:
        """The task's exit status, or None after a detach."""
        while True:
            try:
                item = self.events.get(timeout=0.5)
            except Empty:
                continue
            kind = item[0]
            if kind == "exit":
                return int(item[1])
            if kind == "detach":
                return None
            if kind == "wait-error":
                exc = item[1]
                raise exc if isinstance(exc, RuncoreError) else RuncoreError(str(exc))
            signum = item[1]
            if tty and signum == signal.SIGWINCH:
                self._resize()
                continue
            if tty and signum == signal.SIGINT:
                continue  # reaches the container through the terminal
            if not self.sig_proxy and signum in (signal.SIGINT, signal.SIGTERM):
                return None
            if signum in sigs.NOT_FORWARDED:
                continue
            try:
                self.client.tasks.Kill(container_id=self.cid, signal=signum)
            except NotFound:
                pass
            except ContainerdError as exc:
                warn(f"forward signal {sigs.name(signum)}: {exc}")


__all__ = ["Attach", "DEFAULT_DETACH_KEYS", "DETACHED", "parse_detach_keys"]
