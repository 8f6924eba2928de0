"""Helpers of the runcore-pull tests (imported by the test modules)."""

from typing import Dict, List, Optional

from support.daemon import _clean_env


def listing(daemon, namespace: str, snapshotter: str = "overlayfs") -> Dict[str, List[str]]:
    """``ctr images ls``, ``ctr content ls`` (AGE column dropped) and ``ctr snapshots ls``
    of a namespace, whitespace collapsed, rows sorted."""
    out = {}
    for what in (
        ("images", "ls"),
        ("content", "ls"),
        ("snapshots", "--snapshotter", snapshotter, "ls"),
    ):
        text = daemon.ctr(*what, namespace=namespace).stdout
        rows = []
        for line in text.splitlines():
            cells = line.split()
            if not cells:
                continue
            if what[0] == "content":  # DIGEST SIZE AGE... LABELS (labels have no spaces)
                cells = [cells[0], cells[1], cells[-1]]
            rows.append(" ".join(cells))
        out[" ".join(what)] = sorted(rows)
    return out


def runcore(
    daemon,
    *args,
    namespace: Optional[str] = None,
    env: Optional[dict] = None,
    timeout: float = 300,
    check: bool = False,
    input=None,
):
    """``python -m runcore`` against ``daemon`` with extra environment."""
    import subprocess

    e = _clean_env()
    e.update(env or {})
    return subprocess.run(
        daemon.runcore_argv(*args, namespace=namespace),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=e,
        check=check,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
    )


def one_line_error(result) -> str:
    """Assert a failed command printed exactly one ``runcore: ...`` line on stderr."""
    assert result.returncode not in (0, 70), (result.returncode, result.stderr)
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("runcore: "), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return lines[0]


def active_ingests(daemon, namespace: str) -> List[str]:
    return [
        l
        for l in daemon.ctr("content", "active", namespace=namespace).stdout.splitlines()[1:]
        if l.strip()
    ]
