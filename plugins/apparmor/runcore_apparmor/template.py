"""containerd 1.7.24's default AppArmor profile for containers, rendered for a name.

:func:`render` builds the profile text from explicit inputs (used by the tests);
:func:`host_data` collects those inputs on this host as containerd's ``loadData`` does:

* ``imports``: ``#include <tunables/global>`` when ``/etc/apparmor.d/tunables/global``
  exists, else a definition of ``@{PROC}`` (the rules below use it);
* ``inner_imports``: ``#include <abstractions/base>`` when that file exists;
* ``daemon_profile``: the confinement of this process (``/proc/self/attr/current`` up to
  the first space), ``unconfined`` when empty or unreadable – it may signal containers;
* ``rootlesskit``: the absolute path of ``rootlesskit`` in ``$PATH``, or nothing.

1.7.24 has no ``abi`` line (1.7.31 added one) and no rule that depends on the
``apparmor_parser`` version (1.6 had some).

Run ``python -m runcore_apparmor.template NAME`` to print the profile for this host.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

APPARMOR_DIR = "/etc/apparmor.d"
ATTR_CURRENT = "/proc/self/attr/current"

#: Profile flags: keep mediating paths of files detached from the namespace or deleted.
FLAGS = "attach_disconnected,mediate_deleted"

#: Writes the container may not do below /proc and /sys, and what it may not touch at all,
#: one rule per line, each with why.
_PROC_RULES = (
    # files directly in /proc
    ("deny @{PROC}/* w,", "no writes to files directly in /proc"),
    # anything not below /proc/<pid>/ or /proc/sys/
    (
        "deny @{PROC}/{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9]*}/** w,",
        "only /proc/<pid>/** and /proc/sys/** stay writable",
    ),
    ("deny @{PROC}/sys/[^k]** w,", "in /proc/sys only k* (kernel) stays writable"),
    ("deny @{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,", "in /proc/sys/kernel only shm*"),
    ("deny @{PROC}/sysrq-trigger rwklx,", ""),
    ("deny @{PROC}/mem rwklx,", ""),
    ("deny @{PROC}/kmem rwklx,", ""),
    ("deny @{PROC}/kcore rwklx,", ""),
)

_SYS_RULES = (
    "deny /sys/[^f]*/** wklx,",
    "deny /sys/f[^s]*/** wklx,",
    "deny /sys/fs/[^c]*/** wklx,",
    "deny /sys/fs/c[^g]*/** wklx,",
    "deny /sys/fs/cg[^r]*/** wklx,",
    "deny /sys/firmware/** rwklx,",
    "deny /sys/devices/virtual/powercap/** rwklx,",
    "deny /sys/kernel/security/** rwklx,",
)


@dataclass
class TemplateData:
    """The inputs of the profile besides its name."""

    imports: List[str] = field(default_factory=lambda: ["@{PROC}=/proc/"])
    inner_imports: List[str] = field(default_factory=list)
    daemon_profile: str = "unconfined"
    rootlesskit: str = ""


def clean_profile_name(current: str) -> str:
    """A confinement as ``/proc/self/attr/current`` shows it (``NAME (enforce)``) → NAME."""
    name = current.split(" ", 1)[0].strip()
    return name or "unconfined"


def _lookpath_absolute(program: str) -> str:
    """``exec.LookPath``: a hit in a relative ``$PATH`` entry does not count."""
    found = shutil.which(program)
    return found if found and os.path.isabs(found) else ""


def host_data(
    apparmor_dir: str = APPARMOR_DIR, attr_current: str = ATTR_CURRENT, path: Optional[str] = None
) -> TemplateData:
    """:class:`TemplateData` for this host (see the module documentation)."""
    data = TemplateData(imports=[], inner_imports=[])
    if os.path.exists(os.path.join(apparmor_dir, "tunables/global")):
        data.imports.append("#include <tunables/global>")
    else:
        data.imports.append("@{PROC}=/proc/")
    if os.path.exists(os.path.join(apparmor_dir, "abstractions/base")):
        data.inner_imports.append("#include <abstractions/base>")
    try:
        with open(attr_current, "rb") as f:
            current = f.read().decode("utf-8", errors="replace")
    except OSError:
        current = ""
    data.daemon_profile = clean_profile_name(current)
    if path is None:
        data.rootlesskit = _lookpath_absolute("rootlesskit")
    else:
        found = shutil.which("rootlesskit", path=path)
        data.rootlesskit = found if found and os.path.isabs(found) else ""
    return data


def render(name: str, data: Optional[TemplateData] = None) -> str:
    """The profile text for ``name`` (``data`` defaults to a host without AppArmor files)."""
    data = data or TemplateData()
    out: List[str] = []
    out.extend(data.imports)
    out.append("")
    out.append(f"profile {name} flags=({FLAGS}) {{")
    out.extend(f"  {line}" for line in data.inner_imports)
    out.append("")
    out.extend(f"  {rule}" for rule in ("network,", "capability,", "file,", "umount,"))
    out.append("  # who may signal the container's processes")
    signals: Sequence[str] = (
        "signal (receive) peer=unconfined,",
        "signal (receive) peer=runc,",
        "signal (receive) peer=crun,",
        f"signal (receive) peer={data.daemon_profile},",
        f"signal (send,receive) peer={name},",
    )
    out.extend(f"  {rule}" for rule in signals)
    if data.rootlesskit:
        out.append(f"  signal (receive) peer={data.rootlesskit},")
    out.append("")
    for rule, why in _PROC_RULES:
        out.append(f"  {rule}" + (f"  # {why}" if why else ""))
    out.append("")
    out.append("  deny mount,")
    out.append("")
    out.extend(f"  {rule}" for rule in _SYS_RULES)
    out.append("")
    out.append("  # the container's processes may trace each other (if yama and others allow)")
    out.append(f"  ptrace (trace,tracedby,read,readby) peer={name},")
    out.append("}")
    return "\n".join(out) + "\n"


def render_for_host(name: str) -> str:
    """The profile ``--apparmor-default-profile NAME`` loads on this host."""
    return render(name, host_data())


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m runcore_apparmor.template NAME\n")
        return 2
    sys.stdout.write(render_for_host(args[0]))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
