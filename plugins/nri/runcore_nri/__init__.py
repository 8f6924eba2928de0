"""runcore plugin ``nri``: the active plugin set for Kubernetes pods, through containerd's NRI.

``runcore nri serve`` connects to containerd's NRI socket (containerd 1.7 speaks NRI
v0.6.1), registers, and for every container CRI creates runs the active runcore plugins
over that container's spec with options from the pod's annotations, returning the
changes as NRI's container adjustment. See ``docs/kubernetes.md``.

This module only registers the command; everything else is imported when it runs.
"""

from __future__ import annotations

from typing import Any

from runcore.api import hookimpl


@hookimpl
def runcore_add_commands(registrar: Any) -> None:
    """Add ``runcore nri`` (``serve``)."""
    from runcore_nri.cli import nri_group

    registrar.add(nri_group)
