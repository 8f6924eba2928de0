"""The cache of ``ADD`` results, so that ``DEL`` (and ``CHECK``) get ``prevResult``.

One JSON file per attachment, ``<cache dir>/results/<network>-<CNI container id>-<ifname>``
(the key the specification asks plugins to use, in libcni's file naming), written
atomically, mode 0600, and removed after a successful ``DEL``. Besides the result it keeps
what ``DEL`` needs when the run's options are no longer known (``runcore rm`` of a
detached container): the network configuration as it was used, its file and the plugin
directories.

The cache directory is ``/var/lib/runcore/cni`` (``RUNCORE_CNI_CACHE_DIR``). For
containers that ``ctr run --cni`` started, libcni's own cache under ``/var/lib/cni`` is
read (``libcni_entry``) so ``runcore rm`` can hand their plugins the cached result too.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from typing import Any, Dict, List, Optional

DEFAULT_CACHE_DIR = "/var/lib/runcore/cni"
CACHE_DIR_ENV = "RUNCORE_CNI_CACHE_DIR"
LIBCNI_CACHE_DIR = "/var/lib/cni"
KIND = "cniCacheV1"


def cache_dir() -> str:
    return os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR


def entry_path(directory: str, network: str, container_id: str, ifname: str) -> str:
    return os.path.join(directory, "results", f"{network}-{container_id}-{ifname}")


def write(directory: str, entry: Dict[str, Any]) -> str:
    """Store ``entry`` (needs ``networkName``, ``containerId``, ``ifName``); its path."""
    path = entry_path(directory, entry["networkName"], entry["containerId"], entry["ifName"])
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    data = dict(entry, kind=KIND)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def read(path: str) -> Optional[Dict[str, Any]]:
    """The entry at ``path``; ``None`` when missing or unreadable."""
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def find(directory: str, container_id: str, ifname: str) -> List[Dict[str, Any]]:
    """Every entry of ``directory`` for this CNI container id and interface (with ``_path``)."""
    folder = os.path.join(directory, "results")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    suffix = f"-{container_id}-{ifname}"
    found = []
    for name in names:
        if not name.endswith(suffix):
            continue
        entry = read(os.path.join(folder, name))
        if entry and entry.get("containerId") == container_id and entry.get("ifName") == ifname:
            entry["_path"] = os.path.join(folder, name)
            found.append(entry)
    return found


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def libcni_entry(
    network: str, container_id: str, ifname: str, directory: str = LIBCNI_CACHE_DIR
) -> Optional[Dict[str, Any]]:
    """libcni's cached ``ADD`` of this attachment (``ctr run --cni``), with ``_path``;
    its ``config`` (base64 of the list) decoded into ``networkConfig`` when it parses."""
    path = entry_path(directory, network, container_id, ifname)
    entry = read(path)
    if not entry or entry.get("containerId") not in (None, container_id):
        return None
    entry["_path"] = path
    raw = entry.get("config")
    if isinstance(raw, str):
        try:
            entry["networkConfig"] = json.loads(base64.b64decode(raw))
        except (ValueError, TypeError):
            pass
    return entry
