"""A third-party runcore plugin for runcore-nri's tests, installed by putting this
directory (with its ``.dist-info``) on ``PYTHONPATH``. It knows nothing about NRI.

* ``--nritest-nofile N`` - RLIMIT_NOFILE soft = hard = N (``process.rlimits``);
* ``--nritest-hook-file PATH`` - a ``createRuntime`` OCI hook that writes the container
  state runc passes on stdin to PATH (on the host);
* ``--nritest-sleep SECONDS`` - sleeps in the resources phase (a hanging plugin),
  creating ``--nritest-started-file PATH`` first when given;
* ``--nritest-crash`` - raises in the resources phase (a broken plugin);
* ``--nritest-drop-annotation KEY`` - removes a spec annotation (finish phase).
"""

from __future__ import annotations

import time
from typing import Any

from runcore.api import hookimpl


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--nritest-nofile", type=int, default=0, help="RLIMIT_NOFILE for the process.")
    registrar.add(
        "--nritest-hook-file", default="", help="createRuntime hook writing the state here."
    )
    registrar.add("--nritest-sleep", type=float, default=0.0, help="Sleep this long in a phase.")
    registrar.add("--nritest-started-file", default="", help="Created when the sleep starts.")
    registrar.add("--nritest-crash", is_flag=True, help="Raise in a phase.")
    registrar.add("--nritest-drop-annotation", default="", help="Remove this spec annotation.")


@hookimpl
def runcore_spec_mounts(spec: Any, ctx: Any) -> None:
    """The OCI hook (mounts phase: the filesystem, devices and hooks)."""
    path = ctx.opt("nritest_hook_file", "")
    if path:
        spec.append(
            "hooks.createRuntime", {"path": "/bin/sh", "args": ["sh", "-c", f"cat > {path}"]}
        )


@hookimpl
def runcore_spec_resources(spec: Any, ctx: Any) -> None:
    """The rlimit, the sleep and the crash."""
    nofile = ctx.opt("nritest_nofile", 0)
    if nofile:
        rlimits = [r for r in spec.get("process.rlimits") or [] if r.get("type") != "RLIMIT_NOFILE"]
        rlimits.append({"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile})
        spec.set("process.rlimits", rlimits)
    if ctx.opt("nritest_sleep", 0.0):
        if ctx.opt("nritest_started_file", ""):
            open(ctx.opt("nritest_started_file"), "w").close()
        time.sleep(ctx.opt("nritest_sleep"))
    if ctx.opt("nritest_crash"):
        raise RuntimeError("nritest crashed on purpose")


@hookimpl
def runcore_spec_finish(spec: Any, ctx: Any) -> None:
    """The annotation removal."""
    key = ctx.opt("nritest_drop_annotation", "")
    if key:
        spec.remove(("annotations", key))
