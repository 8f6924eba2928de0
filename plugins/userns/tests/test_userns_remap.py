"""shift_tree on a real directory, and ensure_remapped against a scripted snapshots service."""

import os
import stat

import pytest

from runcore.errors import AlreadyExists, NotFound, RuncoreError

from runcore_userns import remap

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")

#: VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_RAW (bit 13): `setcap cap_net_raw+ep`
CAP_NET_RAW_EP = bytes.fromhex("0100000200200000000000000000000000000000")


def _owner(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "bin").mkdir()
    (root / "bin" / "busybox").write_bytes(b"\x7fELF")
    os.symlink("busybox", root / "bin" / "sh")
    (root / "bin" / "suid").write_text("#!/bin/sh\n")
    os.chmod(root / "bin" / "suid", 0o4755)
    (root / "bin" / "sgid").write_text("#!/bin/sh\n")
    os.chmod(root / "bin" / "sgid", 0o2755)
    (root / "bin" / "ping").write_bytes(b"\x7fELF")
    os.chmod(root / "bin" / "ping", 0o755)
    (root / "shared").mkdir()
    os.chmod(root / "shared", 0o2775)
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    (root / "home").mkdir()
    (root / "home" / "alice").mkdir()
    os.chown(root / "home" / "alice", 1000, 1001)
    (root / "home" / "alice" / "notes").write_text("x")
    os.chown(root / "home" / "alice" / "notes", 1000, 1001)
    (root / "data").write_text("a")
    os.link(root / "data", root / "data-link")
    os.mkfifo(root / "fifo")
    return root


@needs_root
def test_owners_shift_by_the_offsets(tree):
    count = remap.shift_tree(str(tree), 100000, 200000)
    assert count == len(list(tree.rglob("*"))) + 1  # every path and the root itself
    assert _owner(tree) == (100000, 200000)
    assert _owner(tree / "bin" / "busybox") == (100000, 200000)
    assert _owner(tree / "fifo") == (100000, 200000)
    assert _owner(tree / "home" / "alice") == (101000, 201001)
    assert _owner(tree / "home" / "alice" / "notes") == (101000, 201001)


@needs_root
def test_symlinks_are_changed_not_followed(tree, tmp_path):
    outside = tmp_path / "host-file"
    outside.write_text("host")
    os.symlink(str(outside), tree / "escape")
    remap.shift_tree(str(tree), 100000, 100000)
    assert _owner(tree / "escape") == (100000, 100000)
    assert _owner(tree / "bin" / "sh") == (100000, 100000)
    assert _owner(outside) == (0, 0)


@needs_root
def test_setuid_setgid_and_sticky_bits_are_kept(tree):
    remap.shift_tree(str(tree), 100000, 100000)
    assert stat.S_IMODE(os.lstat(tree / "bin" / "suid").st_mode) == 0o4755
    assert stat.S_IMODE(os.lstat(tree / "bin" / "sgid").st_mode) == 0o2755
    assert stat.S_IMODE(os.lstat(tree / "shared").st_mode) == 0o2775
    assert stat.S_IMODE(os.lstat(tree / "tmp").st_mode) == 0o1777
    assert stat.S_IMODE(os.lstat(tree / "bin" / "busybox").st_mode) == 0o644


@needs_root
def test_file_capabilities_and_xattrs_are_kept(tree):
    ping = str(tree / "bin" / "ping")
    os.setxattr(ping, "security.capability", CAP_NET_RAW_EP)
    try:
        os.setxattr(ping, "user.origin", b"image")
    except OSError:
        pytest.skip("no user xattrs on this filesystem")
    remap.shift_tree(str(tree), 100000, 100000)
    assert _owner(ping) == (100000, 100000)
    assert os.getxattr(ping, "security.capability") == CAP_NET_RAW_EP
    assert os.getxattr(ping, "user.origin") == b"image"


@needs_root
def test_chown_alone_would_drop_them(tree):
    """Why shift_tree re-applies mode and capability: the kernel clears both on chown."""
    suid = str(tree / "bin" / "suid")
    os.setxattr(suid, "security.capability", CAP_NET_RAW_EP)
    os.lchown(suid, 100000, 100000)
    assert not os.lstat(suid).st_mode & stat.S_ISUID
    with pytest.raises(OSError):
        os.getxattr(suid, "security.capability")


@needs_root
def test_hard_links_are_shifted_once(tree):
    remap.shift_tree(str(tree), 100000, 100000)
    assert _owner(tree / "data") == (100000, 100000)
    assert _owner(tree / "data-link") == (100000, 100000)
    assert os.lstat(tree / "data").st_ino == os.lstat(tree / "data-link").st_ino


@needs_root
def test_ids_wrap_as_uint32(tmp_path):
    f = tmp_path / "f"
    f.write_text("")
    os.chown(f, 10, 20)
    remap.shift_tree(str(f), 0xFFFFFFFF - 5, 0xFFFFFFFF - 10)
    assert _owner(f) == (4, 9)


def test_remapped_name():
    assert remap.remapped_name("sha256:abc", 100000, 200000) == "sha256:abc-100000-200000"


# --------------------------------------------------------------------------- snapshots


class Mount:
    def __init__(self, type_="bind", source="/src", options=("rbind", "rw")):
        self.type, self.source, self.options = type_, source, list(options)


class Resp:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class FakeSnapshots:
    """Snapshots service: committed/active keys; raises like runcore's client does."""

    def __init__(self, existing=(), fail_prepare_keys=(), commit_exists=False):
        self.snaps = {k: "committed" for k in existing}
        self.calls = []
        self.fail_prepare_keys = set(fail_prepare_keys)
        self.commit_exists = commit_exists

    def Stat(self, snapshotter, key):
        self.calls.append(("Stat", snapshotter, key))
        if key not in self.snaps:
            raise NotFound(f"snapshot {key} does not exist: not found")
        return Resp(info=Resp(name=key))

    def Prepare(self, snapshotter, key, parent="", labels=None):
        self.calls.append(("Prepare", snapshotter, key, parent))
        if key in self.snaps or key in self.fail_prepare_keys:
            raise AlreadyExists(f"snapshot {key}: already exists")
        self.snaps[key] = "active"
        return Resp(mounts=[Mount()])

    def Commit(self, snapshotter, name, key):
        self.calls.append(("Commit", snapshotter, name, key))
        if self.commit_exists or name in self.snaps:
            raise AlreadyExists(f"snapshot {name}: already exists")
        del self.snaps[key]
        self.snaps[name] = "committed"

    def Remove(self, snapshotter, key):
        self.calls.append(("Remove", snapshotter, key))
        if key not in self.snaps:
            raise NotFound(key)
        del self.snaps[key]


class FakeLeases:
    def __init__(self):
        self.held = []

    def AddResource(self, id, resource):
        self.held.append((id, resource.type, resource.id))


class FakeClient:
    current_lease = "lease-1"

    def __init__(self, snapshots, capabilities=None):
        from runcore.containerd import pb

        self.pb = pb
        self.snapshots = snapshots
        self.leases = FakeLeases()
        self.introspection = self
        self.capabilities = capabilities
        self.filters = []

    def Plugins(self, filters):
        self.filters.append(list(filters))
        if self.capabilities is None:
            return Resp(plugins=[])
        return Resp(plugins=[Resp(capabilities=list(self.capabilities))])


@pytest.fixture
def shifted(monkeypatch, tmp_path):
    """Replace the mount with a directory and record shift_tree calls."""
    calls = []

    import contextlib

    @contextlib.contextmanager
    def fake_mounted(mounts):
        calls.append(("mounted", [m.type for m in mounts]))
        yield str(tmp_path)

    def fake_shift(root, uid, gid):
        calls.append(("shift", root, uid, gid))
        return 1

    monkeypatch.setattr(remap, "mounted", fake_mounted)
    monkeypatch.setattr(remap, "shift_tree", fake_shift)
    return calls


def test_ensure_remapped_makes_and_commits(shifted, tmp_path):
    sn = FakeSnapshots(existing=["sha256:c"])
    name = remap.ensure_remapped(FakeClient(sn), "overlayfs", "sha256:c", 100000, 200000)
    assert name == "sha256:c-100000-200000"
    assert sn.calls == [
        ("Stat", "overlayfs", "sha256:c-100000-200000"),
        ("Prepare", "overlayfs", "sha256:c-100000-200000-remap", "sha256:c"),
        ("Commit", "overlayfs", "sha256:c-100000-200000", "sha256:c-100000-200000-remap"),
    ]
    assert shifted == [("mounted", ["bind"]), ("shift", str(tmp_path), 100000, 200000)]
    assert sn.snaps["sha256:c-100000-200000"] == "committed"


def test_ensure_remapped_reuses_an_existing_one(shifted):
    sn = FakeSnapshots(existing=["sha256:c", "sha256:c-1-2"])
    client = FakeClient(sn)
    assert remap.ensure_remapped(client, "native", "sha256:c", 1, 2) == "sha256:c-1-2"
    assert sn.calls == [("Stat", "native", "sha256:c-1-2")] * 2
    assert client.leases.held == [("lease-1", "snapshots/native", "sha256:c-1-2")]
    assert shifted == []


def test_existing_one_collected_before_it_was_held_is_made_again(shifted):
    sn = FakeSnapshots(existing=["sha256:c", "sha256:c-1-2"])
    client = FakeClient(sn)

    def collected(id, resource):  # the garbage collector wins the race
        sn.snaps.pop("sha256:c-1-2")

    client.leases.AddResource = collected
    assert remap.ensure_remapped(client, "native", "sha256:c", 1, 2) == "sha256:c-1-2"
    assert [c[0] for c in sn.calls][:3] == ["Stat", "Stat", "Prepare"]
    assert sn.snaps["sha256:c-1-2"] == "committed"


def test_busy_remap_key_uses_a_key_of_its_own(shifted):
    sn = FakeSnapshots(existing=["sha256:c"], fail_prepare_keys=["sha256:c-1-1-remap"])
    assert remap.ensure_remapped(FakeClient(sn), "overlayfs", "sha256:c", 1, 1) == "sha256:c-1-1"
    prepares = [c for c in sn.calls if c[0] == "Prepare"]
    assert prepares[0][2] == "sha256:c-1-1-remap"
    assert prepares[1][2].startswith("sha256:c-1-1-remap-")
    assert sn.snaps == {"sha256:c": "committed", "sha256:c-1-1": "committed"}


def test_losing_the_commit_race_uses_the_winners_snapshot(shifted):
    sn = FakeSnapshots(existing=["sha256:c"], commit_exists=True)
    assert remap.ensure_remapped(FakeClient(sn), "overlayfs", "sha256:c", 1, 1) == "sha256:c-1-1"
    assert sn.calls[-1] == ("Remove", "overlayfs", "sha256:c-1-1-remap")
    assert "sha256:c-1-1-remap" not in sn.snaps


def test_a_failed_shift_removes_the_work_snapshot(monkeypatch, shifted):
    def broken(root, uid, gid):
        raise PermissionError(1, "Operation not permitted", "/tmp/containerd-mount1/bin/x")

    monkeypatch.setattr(remap, "shift_tree", broken)
    sn = FakeSnapshots(existing=["sha256:c"])
    with pytest.raises(remap.RemapError) as info:
        remap.ensure_remapped(FakeClient(sn), "overlayfs", "sha256:c", 1, 1)
    assert str(info.value) == (
        "remapping snapshot sha256:c-1-1: /tmp/containerd-mount1/bin/x: operation not permitted"
    )
    assert isinstance(info.value, RuncoreError)
    assert sn.calls[-1] == ("Remove", "overlayfs", "sha256:c-1-1-remap")
    assert sn.snaps == {"sha256:c": "committed"}


def test_snapshotter_capabilities():
    client = FakeClient(FakeSnapshots(), capabilities=["remap-ids"])
    assert remap.snapshotter_capabilities(client, "overlayfs") == ["remap-ids"]
    assert client.filters == [["type==io.containerd.snapshotter.v1, id==overlayfs"]]
    with pytest.raises(
        RuncoreError, match="^inspection service could not find snapshotter nope plugin$"
    ):
        remap.snapshotter_capabilities(FakeClient(FakeSnapshots()), "nope")


@needs_root
def test_mounted_bind_is_read_write_and_cleaned_up(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    src = tmp_path / "src"
    src.mkdir()
    with remap.mounted([Mount("bind", str(src), ["rbind", "rw"])]) as target:
        assert os.path.basename(target).startswith("containerd-mount")
        with open(os.path.join(target, "written"), "w") as fh:
            fh.write("x")
    assert (src / "written").exists()
    assert not os.path.exists(target)
    with open("/proc/self/mountinfo") as fh:
        assert target not in fh.read()
