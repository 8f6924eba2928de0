"""Small process/root/linux options: args, cwd, tty, rootfs path, read-only, new privileges, hostname, propagation."""

from __future__ import annotations

from typing import Any, Dict, Sequence

from .spec import process, root


def with_process_args(spec: Dict[str, Any], args: Sequence[str]) -> None:
    """Replace process.args (entrypoint and cmd alike) and clear commandLine (oci.WithProcessArgs)."""
    proc = process(spec)
    proc["args"] = list(args)
    proc.pop("commandLine", None)


def with_process_cwd(spec: Dict[str, Any], cwd: str) -> None:
    """Set process.cwd (oci.WithProcessCwd)."""
    process(spec)["cwd"] = cwd


def with_tty(spec: Dict[str, Any]) -> None:
    """Set process.terminal and append TERM=xterm to env without de-duplication (oci.WithTTY)."""
    proc = process(spec)
    proc["terminal"] = True
    if spec.get("linux") is not None:
        proc["env"] = list(proc.get("env") or []) + ["TERM=xterm"]


def with_rootfs_path(spec: Dict[str, Any], path: str) -> None:
    """Set root.path (oci.WithRootFSPath); ctr passes filepath.Abs of the --rootfs argument."""
    root(spec)["path"] = path


def with_rootfs_readonly(spec: Dict[str, Any]) -> None:
    """Set root.readonly (oci.WithRootFSReadonly)."""
    root(spec)["readonly"] = True


def with_new_privileges(spec: Dict[str, Any]) -> None:
    """Clear process.noNewPrivileges (oci.WithNewPrivileges); the key then vanishes from the JSON."""
    process(spec)["noNewPrivileges"] = False


def with_hostname(spec: Dict[str, Any], name: str) -> None:
    """Set the hostname (oci.WithHostname)."""
    spec["hostname"] = name


def with_rootfs_propagation(spec: Dict[str, Any], propagation: str) -> None:
    """Set linux.rootfsPropagation verbatim (ctr's --rootfs-propagation option)."""
    lin = spec.get("linux")
    if lin is None:
        spec["linux"] = {"rootfsPropagation": propagation}
    else:
        lin["rootfsPropagation"] = propagation
