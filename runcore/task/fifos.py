"""FIFO sets: ``<fifo root>/<random>/<id>-stdin|stdout|stderr``, made and removed.

ctr's layout (reference §9), so ``ctr tasks rm`` and ``runcore rm`` each clean up what
the other made. Removal deletes only FIFOs with the task's names, so a wrong directory is
never emptied.
"""

from __future__ import annotations

import os
import random
import stat
from dataclasses import dataclass
from typing import List, Optional

from runcore.errors import UsageError

DEFAULT_FIFO_ROOT = "/run/containerd/fifo"


STREAMS = ("stdin", "stdout", "stderr")


def fifo_paths(directory: str, container_id: str) -> List[str]:
    return [os.path.join(directory, f"{container_id}-{name}") for name in STREAMS]


@dataclass
class FifoSet:
    """``<root>/<random decimal>/<id>-stdin|stdout|stderr`` (absent streams are "")."""

    directory: str
    container_id: str
    stdin: str = ""
    stdout: str = ""
    stderr: str = ""

    @classmethod
    def create(
        cls,
        root: str,
        container_id: str,
        *,
        stdin: bool = True,
        stdout: bool = True,
        stderr: bool = True,
        uid: Optional[int] = None,
        gid: Optional[int] = None,
    ) -> "FifoSet":
        """``MkdirAll(root, 0700)``, a fresh random directory in it, and the FIFOs (0700)."""
        root = os.path.abspath(root)
        try:
            os.makedirs(root, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create FIFO directory {root}: {exc.strerror}") from None
        rng = random.SystemRandom()
        for _ in range(10000):
            directory = os.path.join(root, str(rng.getrandbits(32)))
            try:
                os.mkdir(directory, 0o700)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise UsageError(
                    f"cannot create FIFO directory in {root}: {exc.strerror}"
                ) from None
        else:  # pragma: no cover - astronomically unlikely
            raise UsageError(f"cannot create FIFO directory in {root}: too many collisions")
        fifos = cls(directory, container_id)
        try:
            wanted = {"stdin": stdin, "stdout": stdout, "stderr": stderr}
            for name, path in zip(STREAMS, fifo_paths(directory, container_id)):
                if not wanted[name]:
                    continue
                os.mkfifo(path, 0o700)
                os.chmod(path, 0o700)
                setattr(fifos, name, path)
            if uid is not None or gid is not None:
                owner = (-1 if uid is None else uid, -1 if gid is None else gid)
                os.chown(directory, *owner)
                for path in fifos.paths():
                    os.chown(path, *owner)
        except OSError as exc:
            fifos.remove()
            raise UsageError(f"cannot create FIFOs in {directory}: {exc.strerror}") from None
        return fifos

    def paths(self) -> List[str]:
        return [p for p in (self.stdin, self.stdout, self.stderr) if p]

    def remove(self) -> None:
        """Remove the FIFOs and the directory (missing ones are fine)."""
        remove_fifo_dir(self.directory, self.container_id)


def remove_fifo_dir(directory: str, container_id: str) -> bool:
    """Remove ``<directory>/<id>-std*`` FIFOs and then the directory if it is empty.

    Only FIFOs with those names are removed, so a wrong directory is never emptied.
    Returns whether the directory is gone.
    """
    for path in fifo_paths(directory, container_id):
        try:
            if stat.S_ISFIFO(os.lstat(path).st_mode):
                os.unlink(path)
        except OSError:
            pass
    try:
        os.rmdir(directory)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def fifo_dir_of(paths: List[str], container_id: str) -> Optional[str]:
    """The FIFO directory a task's stdio paths point to, when they look like a FIFO set."""
    for path in paths:
        if not path or not os.path.isabs(path):
            continue
        base = os.path.basename(path)
        if base in (f"{container_id}-{name}" for name in STREAMS):
            return os.path.dirname(path)
    return None


__all__ = [
    "DEFAULT_FIFO_ROOT",
    "STREAMS",
    "FifoSet",
    "fifo_dir_of",
    "fifo_paths",
    "remove_fifo_dir",
]
