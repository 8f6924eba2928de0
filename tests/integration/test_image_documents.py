"""Malformed image documents: ``runcore images import`` refuses what ``ctr images import``
refuses, with ctr's message, on one line, exit 1 – and accepts what ctr accepts (issue 18,
defect 5). The oracle is the real ctr 1.7.24 against the same daemon (its own namespace).
"""

from __future__ import annotations

import pytest

from support.daemon import cleanup_namespace
from support.image_docs import MALFORMED, malformed

pytestmark = pytest.mark.containerd


@pytest.fixture
def ctr_namespace(containerd, namespace):
    other = namespace + "-ctr"
    yield other
    cleanup_namespace(containerd, other)


def _message(stderr: str, prog: str) -> str:
    line = stderr.strip()
    return line[len(prog) + 2 :] if line.startswith(prog + ": ") else line


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_document_like_ctr(containerd, namespace, ctr_namespace, tmp_path, case):
    path = tmp_path / f"{case}.tar"
    path.write_bytes(malformed(case))
    ctr = containerd.ctr("images", "import", str(path), namespace=ctr_namespace, check=False)
    ours = containerd.runcore("images", "import", str(path), namespace=namespace, check=False)
    assert "Traceback" not in ours.stderr and "internal error" not in ours.stderr, ours.stderr
    if ctr.returncode == 0:
        assert ours.returncode == 0, f"ctr accepts {case}, runcore says: {ours.stderr}"
        assert containerd.lines("images", "ls", "-q", namespace=namespace) == containerd.lines(
            "images", "ls", "-q", namespace=ctr_namespace
        )
        for name in containerd.lines("images", "ls", "-q", namespace=namespace):
            containerd.ctr("images", "rm", "--sync", name, namespace=namespace)
        return
    assert ours.returncode == 1, (
        f"ctr refuses {case} ({ctr.stderr.strip()}), runcore: {ours.returncode} {ours.stderr}"
    )
    assert ours.stderr.count("\n") == 1 and ours.stderr.startswith("runcore: "), ours.stderr
    theirs = _message(ctr.stderr, "ctr")
    mine = _message(ours.stderr, "runcore")
    if "json: " in theirs or theirs.startswith(("invalid character", "Time.")):
        assert mine == theirs
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == []
    assert containerd.lines("leases", "ls", "-q", namespace=namespace) == []
