"""The plugin discovery cache (runcore/plugin/cache.py): hits skip the scan, and every
change to what is installed (install, uninstall, upgrade, a rewritten entry_points.txt, a
new sys.path entry) is seen on the next command. Configuration is applied afresh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runcore.plugin import cache, loader
from runcore.testing.dists import write_dist


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A private cache directory, a site directory on sys.path, and a scan counter."""
    monkeypatch.setenv("RUNCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RUNCORE_NO_CACHE", raising=False)
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    cache.forget()
    scans = []
    real = loader._scan

    def counting():
        scans.append(1)
        return real()

    monkeypatch.setattr(loader, "_scan", counting)
    yield site, scans
    cache.forget()


def ours(eps, prefix="pc"):
    return {ep.name: ep for ep in eps if ep.name.startswith(prefix)}


def bump(path: Path) -> None:
    """Move a file's mtime on by a second (timestamps are coarse; pip takes longer)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_second_discovery_is_served_from_the_cache(env):
    site, scans = env
    write_dist(
        site,
        "rc-one",
        "1.0",
        {"pcone": "pc_one_mod"},
        modules={"pc_one_mod": "VALUE = 1\n"},
        requires=["runcore>=0.1"],
    )
    first = ours(loader.discover())
    assert list(first) == ["pcone"] and len(scans) == 1
    cache.forget()  # a new process: nothing remembered in memory
    second = ours(loader.discover())
    assert len(scans) == 1, "the cache was not used"
    ep = second["pcone"]
    assert (ep.name, ep.value, ep.dist.name, ep.dist.version) == (
        "pcone",
        "pc_one_mod",
        "rc-one",
        "1.0",
    )
    assert loader.runcore_requirement(ep.dist) == ">=0.1"
    assert ep.load().VALUE == 1


def test_install_is_seen(env):
    site, scans = env
    write_dist(site, "rc-one", "1.0", {"pcone": "pc_one_mod"})
    assert list(ours(loader.discover())) == ["pcone"]
    write_dist(site, "rc-two", "1.0", {"pctwo": "pc_two_mod"})
    assert list(ours(loader.discover())) == ["pcone", "pctwo"]
    assert len(scans) == 2


def test_uninstall_is_seen(env):
    site, scans = env
    write_dist(site, "rc-one", "1.0", {"pcone": "pc_one_mod"})
    info = write_dist(site, "rc-two", "1.0", {"pctwo": "pc_two_mod"})
    assert list(ours(loader.discover())) == ["pcone", "pctwo"]
    shutil.rmtree(info)
    assert list(ours(loader.discover())) == ["pcone"]


def test_upgrade_is_seen(env):
    site, scans = env
    old = write_dist(site, "rc-one", "1.0", {"pcone": "pc_one_mod"})
    assert ours(loader.discover())["pcone"].dist.version == "1.0"
    shutil.rmtree(old)  # what pip does: the old dist-info goes, the new one comes
    write_dist(site, "rc-one", "2.0", {"pcone": "pc_one_mod"})
    assert ours(loader.discover())["pcone"].dist.version == "2.0"


def test_entry_points_rewritten_in_place_are_seen(env):
    site, scans = env
    info = write_dist(site, "rc-one", "1.0", {"pcone": "pc_one_mod"})
    assert list(ours(loader.discover())) == ["pcone"]
    eps = info / "entry_points.txt"
    eps.write_text("[runcore.plugins]\npcone = pc_one_mod\npcuno = pc_one_mod\n")
    bump(eps)
    assert list(ours(loader.discover())) == ["pcone", "pcuno"]


def test_metadata_rewritten_in_place_is_seen(env):
    site, scans = env
    info = write_dist(site, "rc-one", "1.0", {"pcone": "pc_one_mod"}, requires=["runcore>=0.1"])
    assert loader.runcore_requirement(ours(loader.discover())["pcone"].dist) == ">=0.1"
    meta = info / "METADATA"
    meta.write_text(
        "Metadata-Version: 2.1\nName: rc-one\nVersion: 1.0\nRequires-Dist: runcore>=99\n"
    )
    bump(meta)
    assert loader.runcore_requirement(ours(loader.discover())["pcone"].dist) == ">=99"


def test_a_new_sys_path_entry_is_seen(env, tmp_path, monkeypatch):
    site, scans = env
    write_dist(site, "rc-one", "1.0", {"pcone": "pc_one_mod"})
    assert list(ours(loader.discover())) == ["pcone"]
    other = tmp_path / "other"
    write_dist(other, "rc-three", "1.0", {"pcthree": "pc_three_mod"})
    monkeypatch.syspath_prepend(str(other))
    assert list(ours(loader.discover())) == ["pcone", "pcthree"]
    monkeypatch.undo()  # sys.path back (and the env fixture's entries with it)


def test_configuration_is_applied_on_top_of_a_warm_cache(env, tmp_path):
    """Config files are not part of the key because nothing derived from them is cached."""
    from runcore import config

    site, scans = env
    write_dist(site, "rc-one", "1.0", {"pcone": "pc_one_mod"}, modules={"pc_one_mod": ""})
    loader.discover()
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text('[plugins]\ndisable = ["pcone"]\n')
    for disabled in (False, True):
        environ = {"RUNCORE_CONFIG": str(cfg_file)} if disabled else {}
        policy = loader.Policy.from_environment([], environ)
        config.load(environ).apply_to_policy(policy)
        rec = next(r for r in loader.load(policy) if r.id == "pcone")
        assert rec.status == (loader.DISABLED if disabled else loader.ACTIVE), rec.reason
    assert len(scans) == 1


def test_requirement_checks_are_cached_and_still_enforced(env):
    site, scans = env
    write_dist(
        site,
        "rc-new",
        "1.0",
        {"pcnew": "pc_new_mod"},
        requires=["runcore>=99"],
        modules={"pc_new_mod": ""},
    )
    loader.discover()
    data = json.loads(Path(cache.cache_file()).read_text())
    assert any(k.startswith(">=99\0") and v is False for k, v in data["compat"].items())
    cache.forget()
    rec = next(r for r in loader.load(loader.Policy()) if r.id == "pcnew")
    assert rec.status == loader.INCOMPATIBLE and len(scans) == 1


def test_a_warm_process_imports_neither_metadata_nor_packaging(env, tmp_path):
    site, scans = env
    write_dist(
        site,
        "rc-one",
        "1.0",
        {"pcone": "pc_one_mod"},
        requires=["runcore>=0.1,<1"],
        modules={"pc_one_mod": ""},
    )
    probe = textwrap.dedent("""
        import sys
        from runcore.plugin import loader
        recs = loader.load(loader.Policy())
        assert any(r.id == "pcone" and r.status == "active" for r in recs), recs
        print(",".join(m for m in ("importlib.metadata", "packaging.specifiers", "email")
                       if m in sys.modules))
    """)
    env_vars = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), *sys.path]))
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env_vars, timeout=60
        )
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr + runs[1].stderr
    assert "importlib.metadata" in runs[0].stdout  # the cold run scanned
    assert runs[1].stdout.strip() == ""  # the warm one did not


@pytest.mark.parametrize("how", ["corrupt", "unwritable", "off", "foreign"])
def test_a_broken_or_disabled_cache_is_ignored(env, tmp_path, monkeypatch, how):
    site, scans = env
    write_dist(site, "rc-one", "1.0", {"pcone": "pc_one_mod"})
    if how == "corrupt":
        path = Path(cache.cache_file())
        path.parent.mkdir(parents=True)
        path.write_text("{not json")
    elif how == "unwritable":
        blocker = tmp_path / "blocker"
        blocker.write_text("")
        monkeypatch.setenv("RUNCORE_CACHE_DIR", str(blocker / "cache"))
    elif how == "foreign":  # a file someone else owns is never trusted
        loader.discover()
        cache.forget()
        monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 4242)
    else:
        monkeypatch.setenv("RUNCORE_NO_CACHE", "1")
    for _ in range(2):
        assert list(ours(loader.discover())) == ["pcone"]
    assert len(scans) == (1 if how == "corrupt" else 3 if how == "foreign" else 2)


def test_cached_entry_point_loads_attributes():
    ep = cache.CachedEntryPoint("x", "os.path:join", "g", None)
    assert ep.load() is os.path.join
    assert cache.CachedEntryPoint("y", "os [extra]", "g", None).load() is os
