"""Build a tiny, deterministic busybox image archive for the tests.

The image is made from Debian's ``busybox-static`` (``/bin/busybox``): one gzip
layer holding ``/bin/busybox`` plus a symlink per applet, an ``/etc/passwd`` and
``/etc/group`` with a few users/groups the user-resolution tests rely on, ``/tmp``
(1777), ``/home/alice`` (1000:1001), ``/work`` and a setuid file ``/bin/suidfile``.

Everything is deterministic (fixed mtimes, sorted entries, no user/group names,
gzip header mtime 0) so the same busybox binary always yields the same digests.

Two archive layouts are supported:

* ``"oci"`` – an OCI image layout tar the way ``ctr export`` writes it
  (``oci-layout``, ``index.json`` with ``io.containerd.image.name`` and
  ``org.opencontainers.image.ref.name`` annotations, ``blobs/sha256/...``);
* ``"docker"`` – the classic ``docker save`` layout (``manifest.json``,
  ``repositories``, ``<config>.json``, ``<layer>/layer.tar`` + ``VERSION`` + ``json``).

Usage::

    from runcore.testing.busybox_image import build_busybox_oci_archive
    info = build_busybox_oci_archive(tmp_path / "rcbox.tar")
    info.name, info.manifest_digest, info.config_digest, info.chain_id
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import platform
import struct
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

__all__ = [
    "DEFAULT_NAME",
    "USER_NAME",
    "BUSYBOX",
    "PASSWD",
    "GROUP",
    "IMAGE_ENV",
    "IMAGE_LABELS",
    "ImageArchive",
    "build_busybox_oci_archive",
    "build_layer",
    "busybox_applets",
    "familiar_name",
    "ref_object",
]

DEFAULT_NAME = "docker.io/library/rcbox:latest"
#: Name conventionally used for the ``User: alice`` variant.
USER_NAME = "docker.io/library/rcbox:alice"
BUSYBOX = "/bin/busybox"

#: Fixed timestamp for every tar member and the config (2024-01-01T00:00:00Z).
EPOCH = 1704067200
CREATED = "2024-01-01T00:00:00Z"

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

ANN_IMAGE_NAME = "io.containerd.image.name"
ANN_REF_NAME = "org.opencontainers.image.ref.name"

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "alice:x:1000:1001:Alice:/home/alice:/bin/sh\n"
    "bob:x:1002:1002:Bob:/home/bob:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = (
    "root:x:0:\n"
    "wheel:x:10:root,alice\n"
    "audio:x:29:bob,root\n"
    "staff:x:50:alice\n"
    "alicegrp:x:1001:\n"
    "bob:x:1002:bob\n"
    "nogroup:x:65534:\n"
)
IMAGE_ENV = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "FOO=img",
    "KEEP=1",
]
IMAGE_LABELS = {"org.example.label": "yes", "org.example.flavour": "busybox"}
IMAGE_CMD = ["/bin/sh"]
IMAGE_WORKDIR = "/work"
IMAGE_STOP_SIGNAL = "SIGQUIT"

SUIDFILE = b"#!/bin/sh\necho suidfile\n"

# (path, mode, uid, gid) for the directories of the layer.
_DIRS: List[Tuple[str, int, int, int]] = [
    ("bin", 0o755, 0, 0),
    ("dev", 0o755, 0, 0),
    ("etc", 0o755, 0, 0),
    ("home", 0o755, 0, 0),
    ("home/alice", 0o755, 1000, 1001),
    ("home/bob", 0o755, 1002, 1002),
    ("proc", 0o755, 0, 0),
    ("root", 0o700, 0, 0),
    ("sys", 0o755, 0, 0),
    ("tmp", 0o1777, 0, 0),
    ("usr", 0o755, 0, 0),
    ("usr/bin", 0o755, 0, 0),
    ("var", 0o755, 0, 0),
    ("work", 0o755, 0, 0),
]


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _goarch() -> str:
    machine = platform.machine().lower()
    return {
        "x86_64": "amd64",
        "amd64": "amd64",
        "aarch64": "arm64",
        "arm64": "arm64",
        "armv7l": "arm",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
        "riscv64": "riscv64",
    }.get(machine, machine)


def _is_static_elf(path: str) -> bool:
    """True if *path* is an ELF executable without a PT_INTERP program header."""
    with open(path, "rb") as f:
        ident = f.read(16)
        if ident[:4] != b"\x7fELF":
            return False
        is64 = ident[4] == 2
        endian = "<" if ident[5] == 1 else ">"
        if is64:
            f.seek(0x20)
            (phoff,) = struct.unpack(endian + "Q", f.read(8))
            f.seek(0x36)
        else:
            f.seek(0x1C)
            (phoff,) = struct.unpack(endian + "I", f.read(4))
            f.seek(0x2A)
        phentsize, phnum = struct.unpack(endian + "HH", f.read(4))
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            (p_type,) = struct.unpack(endian + "I", f.read(4))
            if p_type == 3:  # PT_INTERP
                return False
    return True


def busybox_applets(busybox: str = BUSYBOX) -> List[str]:
    """The applet names ``busybox --list`` reports (sorted, without ``busybox``)."""
    out = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True).stdout
    names = {n.strip() for n in out.splitlines()}
    names.discard("")
    names.discard("busybox")
    bad = [n for n in names if "/" in n]
    if bad:
        raise ValueError(f"unexpected applet names: {bad}")
    return sorted(names)


def familiar_name(name: str) -> str:
    """``docker.io/library/x:t`` -> ``x:t``; ``docker.io/a/b:t`` -> ``a/b:t`` (docker save style)."""
    if name.startswith("docker.io/library/"):
        return name[len("docker.io/library/") :]
    if name.startswith("docker.io/"):
        return name[len("docker.io/") :]
    return name


def ref_object(name: str) -> str:
    """The reference "object" ``ctr export`` writes as ``org.opencontainers.image.ref.name``
    (containerd ``reference.Parse(name).Object``): the tag, ``@<digest>``, or ``""``."""
    host, sep, rest = name.partition("/")
    path = rest if sep else host
    for i, ch in enumerate(path):
        if ch in ":@":
            return path[i + 1 :] if ch == ":" else path[i:]
    return ""


def _index_annotations(name: str) -> Dict[str, str]:
    ann = {ANN_IMAGE_NAME: name}
    obj = ref_object(name)
    if obj:
        ann[ANN_REF_NAME] = obj
    return ann


def _split_tag(name: str) -> Tuple[str, str]:
    fam = familiar_name(name)
    last = fam.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = fam.rsplit(":", 1)
        return repo, tag
    return fam, "latest"


def _tarinfo(
    name: str, *, type_, mode: int, uid: int = 0, gid: int = 0, size: int = 0, linkname: str = ""
) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = type_
    ti.mode = mode
    ti.uid = uid
    ti.gid = gid
    ti.uname = ""
    ti.gname = ""
    ti.mtime = EPOCH
    ti.size = size
    ti.linkname = linkname
    return ti


#: ``etc`` variants of the layer: which of /etc/passwd and /etc/group it has.
ETC_VARIANTS = ("full", "no-passwd", "no-group", "no-etc-files", "dangling-passwd")


def build_layer(busybox: str = BUSYBOX, etc: str = "full") -> bytes:
    """The uncompressed layer tar (bytes).

    ``etc`` (:data:`ETC_VARIANTS`) leaves out ``/etc/passwd`` and/or ``/etc/group``, or makes
    ``/etc/passwd`` a dangling symlink, for the user-lookup tests.
    """
    if etc not in ETC_VARIANTS:
        raise ValueError(f"etc must be one of {ETC_VARIANTS}, not {etc!r}")
    if not os.path.exists(busybox):
        raise FileNotFoundError(f"{busybox} not found (install Debian's busybox-static)")
    if not _is_static_elf(busybox):
        raise RuntimeError(
            f"{busybox} is not statically linked (install busybox-static, not busybox)"
        )
    with open(busybox, "rb") as f:
        bb = f.read()
    applets = busybox_applets(busybox)

    entries: Dict[str, Tuple[tarfile.TarInfo, Optional[bytes]]] = {}

    def add_dir(path, mode, uid, gid):
        entries[path] = (_tarinfo(path, type_=tarfile.DIRTYPE, mode=mode, uid=uid, gid=gid), None)

    def add_file(path, data: bytes, mode, uid=0, gid=0):
        entries[path] = (
            _tarinfo(path, type_=tarfile.REGTYPE, mode=mode, uid=uid, gid=gid, size=len(data)),
            data,
        )

    def add_symlink(path, target):
        entries[path] = (_tarinfo(path, type_=tarfile.SYMTYPE, mode=0o777, linkname=target), None)

    for path, mode, uid, gid in _DIRS:
        add_dir(path, mode, uid, gid)
    add_file("bin/busybox", bb, 0o755)
    for applet in applets:
        add_symlink(f"bin/{applet}", "busybox")
    add_file("bin/suidfile", SUIDFILE, 0o4755)
    if etc in ("full", "no-group"):
        add_file("etc/passwd", PASSWD.encode(), 0o644)
    elif etc == "dangling-passwd":
        add_symlink("etc/passwd", "/nonexistent/passwd")
    if etc in ("full", "no-passwd", "dangling-passwd"):
        add_file("etc/group", GROUP.encode(), 0o644)
    add_file("etc/hostname", b"rcbox\n", 0o644)
    add_file("work/README", b"runcore test image\n", 0o644)

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries):
            ti, data = entries[path]
            tar.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


def _config(
    diff_id: str, *, user: Optional[str], arch: str, stop_signal: str = IMAGE_STOP_SIGNAL
) -> dict:
    cfg = {
        "Env": list(IMAGE_ENV),
        "Cmd": list(IMAGE_CMD),
        "WorkingDir": IMAGE_WORKDIR,
        "Labels": dict(IMAGE_LABELS),
        "StopSignal": stop_signal,
    }
    if user:
        cfg["User"] = user
    return {
        "created": CREATED,
        "architecture": arch,
        "os": "linux",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": CREATED, "created_by": "runcore tests/support/busybox_image.py"}],
    }


@dataclass
class ImageArchive:
    """What :func:`build_busybox_oci_archive` produced."""

    path: Path
    name: str
    layout: str
    user: Optional[str]
    config: dict
    config_digest: str
    manifest_digest: Optional[str]  # digest of the OCI manifest (oci layout only)
    layer_digest: str  # digest of the layer blob as stored in the archive
    diff_id: str  # digest of the uncompressed layer
    chain_id: str  # == diff_id for a single layer
    members: List[str] = field(default_factory=list)

    @property
    def target_digest(self) -> str:
        """Digest of the image target after an import (the manifest)."""
        return self.manifest_digest or ""


def _write_archive(
    path: Path, files: Iterable[Tuple[str, bytes]], dirs: Iterable[str] = ()
) -> List[str]:
    members = []
    tmp = Path(str(path) + ".tmp")
    with tarfile.open(tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in sorted(dirs):
            tar.addfile(_tarinfo(d, type_=tarfile.DIRTYPE, mode=0o755))
            members.append(d)
        for name, data in files:
            tar.addfile(
                _tarinfo(name, type_=tarfile.REGTYPE, mode=0o644, size=len(data)), io.BytesIO(data)
            )
            members.append(name)
    os.replace(tmp, path)
    return members


def build_busybox_oci_archive(
    path: Union[str, os.PathLike],
    *,
    name: str = DEFAULT_NAME,
    layout: str = "oci",
    user: Optional[str] = None,
    busybox: str = BUSYBOX,
    arch: Optional[str] = None,
    etc: str = "full",
    stop_signal: str = IMAGE_STOP_SIGNAL,
) -> ImageArchive:
    """Write the busybox test image as an archive to *path* and describe it.

    *layout* is ``"oci"`` (``ctr export`` style) or ``"docker"`` (``docker save``
    style). *user* sets the config's ``User`` (e.g. ``"alice"``). *etc* picks the
    /etc/passwd and /etc/group variant (:data:`ETC_VARIANTS`); *stop_signal* the
    config's ``StopSignal``.
    """
    if layout not in ("oci", "docker"):
        raise ValueError(f"layout must be 'oci' or 'docker', not {layout!r}")
    path = Path(path)
    arch = arch or _goarch()
    layer = build_layer(busybox, etc)
    diff_id = _sha256(layer)
    config = _config(diff_id, user=user, arch=arch, stop_signal=stop_signal)
    config_bytes = _canonical_json(config)
    config_digest = _sha256(config_bytes)

    if layout == "oci":
        layer_blob = _gzip(layer)
        layer_digest = _sha256(layer_blob)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MT_OCI_MANIFEST,
            "config": {
                "mediaType": MT_OCI_CONFIG,
                "digest": config_digest,
                "size": len(config_bytes),
            },
            "layers": [
                {"mediaType": MT_OCI_LAYER_GZIP, "digest": layer_digest, "size": len(layer_blob)}
            ],
        }
        manifest_bytes = _canonical_json(manifest)
        manifest_digest = _sha256(manifest_bytes)
        index = {
            "schemaVersion": 2,
            "mediaType": MT_OCI_INDEX,
            "manifests": [
                {
                    "mediaType": MT_OCI_MANIFEST,
                    "digest": manifest_digest,
                    "size": len(manifest_bytes),
                    "annotations": _index_annotations(name),
                }
            ],
        }
        blobs = sorted(
            [
                (config_digest, config_bytes),
                (layer_digest, layer_blob),
                (manifest_digest, manifest_bytes),
            ]
        )
        files = [
            ("oci-layout", _canonical_json({"imageLayoutVersion": "1.0.0"})),
            ("index.json", _canonical_json(index)),
        ]
        files += [(f"blobs/sha256/{d.split(':', 1)[1]}", data) for d, data in blobs]
        members = _write_archive(path, files, dirs=["blobs", "blobs/sha256"])
    else:
        layer_digest = diff_id  # docker save stores the layer uncompressed
        manifest_digest = None
        layer_id = diff_id.split(":", 1)[1]
        config_name = config_digest.split(":", 1)[1] + ".json"
        repo, tag = _split_tag(name)
        docker_manifest = [
            {
                "Config": config_name,
                "RepoTags": [f"{repo}:{tag}"],
                "Layers": [f"{layer_id}/layer.tar"],
            }
        ]
        layer_json = {
            "id": layer_id,
            "created": CREATED,
            "container_config": {"Cmd": None},
            "os": "linux",
            "architecture": arch,
        }
        files = [
            (config_name, config_bytes),
            (f"{layer_id}/VERSION", b"1.0"),
            (f"{layer_id}/json", _canonical_json(layer_json)),
            (f"{layer_id}/layer.tar", layer),
            ("manifest.json", _canonical_json(docker_manifest)),
            ("repositories", _canonical_json({repo: {tag: layer_id}})),
        ]
        members = _write_archive(path, files, dirs=[layer_id])

    return ImageArchive(
        path=path,
        name=name,
        layout=layout,
        user=user,
        config=config,
        config_digest=config_digest,
        manifest_digest=manifest_digest,
        layer_digest=layer_digest,
        diff_id=diff_id,
        chain_id=diff_id,
        members=members,
    )


if (
    __name__ == "__main__"
):  # pragma: no cover - manual use: python busybox_image.py OUT [oci|docker] [user]
    import sys

    out = sys.argv[1]
    lay = sys.argv[2] if len(sys.argv) > 2 else "oci"
    usr = sys.argv[3] if len(sys.argv) > 3 else None
    info = build_busybox_oci_archive(out, layout=lay, user=usr)
    print(
        json.dumps(
            {
                "path": str(info.path),
                "name": info.name,
                "config": info.config_digest,
                "manifest": info.manifest_digest,
                "diff_id": info.diff_id,
            },
            indent=1,
        )
    )
