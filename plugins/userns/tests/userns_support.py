"""Helpers for the integration tests: read a snapshot's files, find remapped snapshots."""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any, Dict, Iterator, List, Tuple

UIDMAP = "0:100000:65536"
GIDMAP = "0:100000:65536"
MAPS = ["--uidmap", UIDMAP, "--gidmap", GIDMAP]


def committed(daemon: Any, namespace: str, snapshotter: str = "overlayfs") -> Dict[str, str]:
    """Committed snapshots of ``namespace``: key -> parent."""
    return {
        k: p
        for k, p, kind in daemon.snapshots(namespace, snapshotter)
        if kind.lower() == "committed"
    }


def remapped(daemon: Any, namespace: str, snapshotter: str = "overlayfs") -> Dict[str, str]:
    """The committed snapshots that are remapped copies (``<chain>-<uid>-<gid>``)."""
    return {
        k: p
        for k, p in committed(daemon, namespace, snapshotter).items()
        if k.startswith(p + "-") and p
    }


def remove_remapped(daemon: Any, namespace: str, snapshotter: str = "overlayfs") -> None:
    for key in remapped(daemon, namespace, snapshotter):
        daemon.ctr(
            "snapshots", "--snapshotter", snapshotter, "rm", key, namespace=namespace, check=False
        )


@contextlib.contextmanager
def _client(daemon: Any, namespace: str) -> Iterator[Any]:
    from runcore.containerd.client import Client

    client = Client.connect(daemon.address, namespace)
    try:
        yield client
    finally:
        client.close()


def _xattrs(path: str) -> Tuple[Tuple[str, bytes], ...]:
    """The extended attributes of ``path`` (not following a symlink), sorted; overlayfs'
    own ``trusted.overlay.*`` bookkeeping left out."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return ()
    out = []
    for name in sorted(names):
        if name.startswith("trusted.overlay."):
            continue
        try:
            out.append((name, os.getxattr(path, name, follow_symlinks=False)))
        except OSError:
            pass
    return tuple(out)


def snapshot_tree(
    daemon: Any, namespace: str, name: str, snapshotter: str = "overlayfs"
) -> Dict[str, Tuple[int, int, int, Tuple]]:
    """path -> (uid, gid, mode, xattrs) of every file of snapshot ``name``, read through a
    read-only view mounted here."""
    from runcore import rootfs_mount

    key = f"userns-test-view-{uuid.uuid4().hex[:8]}"
    out: Dict[str, Tuple[int, int, int, bytes]] = {}
    with _client(daemon, namespace) as client:
        with client.lease():
            resp = client.snapshots.View(snapshotter=snapshotter, key=key, parent=name)
            target = rootfs_mount.temp_mount_dir()
            try:
                for m in resp.mounts:
                    mtype, source, options = rootfs_mount.readonly_mount(
                        m.type, m.source, list(m.options)
                    )
                    rootfs_mount.mount(mtype, source, target, options)
                try:
                    for dirpath, dirnames, filenames in os.walk(target):
                        for entry in [dirpath] + [
                            os.path.join(dirpath, n) for n in dirnames + filenames
                        ]:
                            st = os.lstat(entry)
                            rel = "/" if entry == target else "/" + os.path.relpath(entry, target)
                            out[rel] = (st.st_uid, st.st_gid, st.st_mode, _xattrs(entry))
                finally:
                    rootfs_mount.unmount(target)
            finally:
                os.rmdir(target)
                client.snapshots.Remove(snapshotter=snapshotter, key=key)
    return out


def differences(a: Dict[str, Tuple], b: Dict[str, Tuple]) -> List[str]:
    out = []
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            out.append(f"{path}: {a.get(path)} != {b.get(path)}")
    return out


# --------------------------------------------------------------------------- special image

#: VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_RAW: what `setcap cap_net_raw+ep` writes
CAP_NET_RAW_EP = bytes.fromhex("0100000200200000000000000000000000000000")
SPECIAL_NAME = "docker.io/library/rcuserns:special"


def build_special_image(path) -> Tuple[str, str]:
    """An image (not runnable) whose layer has what a remap must keep: a file with file
    capabilities and a user xattr, hard links (uid 5), setuid/setgid files, a setgid
    directory. Returns (name, chain id)."""
    import gzip
    import io
    import tarfile

    from runcore.testing import busybox_image as bb

    def info(name, type_=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, size=0, linkname="", pax=None):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.size, ti.linkname = (
            type_,
            mode,
            uid,
            gid,
            size,
            linkname,
        )
        ti.mtime, ti.uname, ti.gname = bb.EPOCH, "", ""
        if pax:
            ti.pax_headers = pax
        return ti

    cap = CAP_NET_RAW_EP.decode("utf-8", "surrogateescape")
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info("bin", tarfile.DIRTYPE, 0o755))
        tar.addfile(
            info(
                "bin/ping",
                mode=0o755,
                size=4,
                pax={"SCHILY.xattr.security.capability": cap, "SCHILY.xattr.user.origin": "image"},
            ),
            io.BytesIO(b"ELF!"),
        )
        tar.addfile(info("bin/suid", mode=0o4755, size=3), io.BytesIO(b"#!\n"))
        tar.addfile(info("bin/sgid", mode=0o2755, gid=50, size=3), io.BytesIO(b"#!\n"))
        tar.addfile(info("data", tarfile.DIRTYPE, 0o2775, uid=5, gid=5))
        tar.addfile(info("data/a", mode=0o640, uid=5, gid=5, size=1), io.BytesIO(b"a"))
        tar.addfile(info("data/b", tarfile.LNKTYPE, 0o640, uid=5, gid=5, linkname="data/a"))
    raw = layer.getvalue()
    diff_id = bb._sha256(raw)
    blob = gzip.compress(raw, mtime=0)
    config = bb._canonical_json(
        {
            "created": bb.CREATED,
            "architecture": bb._goarch(),
            "os": "linux",
            "config": {"Cmd": ["/bin/ping"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    )
    manifest = bb._canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": bb.MT_OCI_MANIFEST,
            "config": {
                "mediaType": bb.MT_OCI_CONFIG,
                "digest": bb._sha256(config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": bb.MT_OCI_LAYER_GZIP, "digest": bb._sha256(blob), "size": len(blob)}
            ],
        }
    )
    index = bb._canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": bb.MT_OCI_INDEX,
            "manifests": [
                {
                    "mediaType": bb.MT_OCI_MANIFEST,
                    "digest": bb._sha256(manifest),
                    "size": len(manifest),
                    "annotations": {bb.ANN_IMAGE_NAME: SPECIAL_NAME, bb.ANN_REF_NAME: "special"},
                }
            ],
        }
    )
    files = [
        ("oci-layout", bb._canonical_json({"imageLayoutVersion": "1.0.0"})),
        ("index.json", index),
    ]
    files += [
        (f"blobs/sha256/{bb._sha256(d).split(':', 1)[1]}", d)
        for d in sorted([config, manifest, blob])
    ]
    bb._write_archive(path, files, dirs=["blobs", "blobs/sha256"])
    return SPECIAL_NAME, diff_id
