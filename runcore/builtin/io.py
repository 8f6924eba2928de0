"""Built-in plugin ``core.io``: the task's IO and lifetime (``run`` only).

Flags: ``--rm``, ``--null-io``, ``--log-uri``, ``--detach/-d``, ``--fifo-dir``,
``--pid-file``. The pid file is written from the ``runcore_task_created`` hook.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from runcore import hookimpl
from runcore.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.record import TaskInfo

PLUGIN = "core.io"


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    if command != "run":
        return
    registrar.add(
        "--rm",
        is_flag=True,
        help="Remove the container (task, record, snapshot) when it exits or fails.",
    )
    registrar.add("--null-io", is_flag=True, help="Send all IO to /dev/null.")
    registrar.add("--log-uri", default="", help="Log uri (binary://..., file://..., or a path).")
    registrar.add("--detach", "-d", is_flag=True, help="Detach from the task after it has started.")
    registrar.add("--fifo-dir", default="", help="Directory used for storing IO FIFOs.")
    registrar.add("--pid-file", default=None, help="File path to write the task's pid.")


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    if ctx.command != "run":
        return
    if ctx.opt("rm") and ctx.opt("detach"):
        raise UsageError("flags --detach and --rm cannot be specified together")
    if ctx.opt("log_uri"):
        from runcore.task.logurl import parse_log_uri

        parse_log_uri(ctx.opt("log_uri"))


@hookimpl
def runcore_task_created(task: TaskInfo, ctx: RunContext) -> None:
    if ctx.command in ("run", "start") and ctx.is_set("pid_file"):
        write_pid_file(ctx.options["pid_file"] or "", task.pid)


def write_pid_file(path: str, pid: int) -> None:
    """Write ``pid`` atomically (temp file in the same directory, mode 0666, rename)."""
    import tempfile  # only with --pid-file: not on every command's start

    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write pid file {target}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o666)
        os.write(fd, str(pid).encode())
        os.fsync(fd)
        os.close(fd)
        os.rename(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"cannot write pid file {target}: {exc.strerror}") from None
