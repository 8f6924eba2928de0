"""What ``Tasks/Create`` gets as the task's stdio (reference §9), chosen as ctr does.

* default – a FIFO set ``<fifo root>/<random>/<id>-stdin|stdout|stderr``; runcore copies
  its stdin into the stdin FIFO and the stdout/stderr FIFOs to its stdout/stderr;
* ``--tty`` – stdin and stdout FIFOs only, ``terminal=true``;
* ``--null-io`` – all three paths empty (the shim uses /dev/null);
* ``--log-uri U`` – ``stdin=""``, ``stdout=stderr=`` U as Go's ``url.Parse(U).String()``
  prints it (the shim interprets the scheme).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from runcore.task.fifos import DEFAULT_FIFO_ROOT, FifoSet
from runcore.task.logurl import parse_log_uri


@dataclass
class IOPlan:
    """What ``Tasks/Create`` gets, and how runcore connects to it."""

    stdin: str = ""
    stdout: str = ""
    stderr: str = ""
    terminal: bool = False
    fifos: Optional["FifoSet"] = None  # the FIFO set runcore copies through, if any


def plan_io(
    container_id: str,
    *,
    tty: bool = False,
    null_io: bool = False,
    log_uri: str = "",
    fifo_root: str = "",
    uid: Optional[int] = None,
    gid: Optional[int] = None,
) -> IOPlan:
    """Choose the task IO like ctr (tty, then null-io, then log-uri, then FIFOs).

    Creates the FIFO set when one is needed (the caller removes it with
    ``plan.fifos.remove()``).
    """
    if tty:
        fifos = FifoSet.create(
            fifo_root or DEFAULT_FIFO_ROOT,
            container_id,
            stdin=True,
            stdout=True,
            stderr=False,
            uid=uid,
            gid=gid,
        )
        return IOPlan(fifos.stdin, fifos.stdout, "", True, fifos)
    if null_io:
        return IOPlan()
    if log_uri:
        uri = str(parse_log_uri(log_uri))
        return IOPlan("", uri, uri, False)
    fifos = FifoSet.create(fifo_root or DEFAULT_FIFO_ROOT, container_id, uid=uid, gid=gid)
    return IOPlan(fifos.stdin, fifos.stdout, fifos.stderr, False, fifos)


__all__ = ["IOPlan", "plan_io"]
