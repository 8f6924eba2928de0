"""The leak check blames a test only for FIFO directories of its own containers (issue 18,
"Also"): other clients create directories in /run/containerd/fifo at the same time."""

from __future__ import annotations

import json
import os
import tempfile

from runcore.testing.daemon import EventLog, _fifo_dir_is_ours


def _log(lines) -> EventLog:
    log = EventLog.__new__(EventLog)
    log._proc = None
    log._file = tempfile.TemporaryFile(mode="w+")
    for ns, topic, body in lines:
        log._file.write(
            f"2026-11-30 00:11:46.878097188 +0000 UTC {ns} {topic} {json.dumps(body)}\n"
        )
    return log


def test_event_log_gives_the_tests_names_and_fifo_dirs() -> None:
    log = _log(
        [
            ("t-mine", "/containers/create", {"id": "c1"}),
            (
                "t-mine",
                "/tasks/create",
                {
                    "container_id": "c1",
                    "io": {
                        "stdin": "/run/containerd/fifo/111/c1-stdin",
                        "stdout": "/run/containerd/fifo/111/c1-stdout",
                    },
                },
            ),
            ("t-mine", "/tasks/exec-added", {"container_id": "c1", "exec_id": "e1"}),
            ("t-other", "/containers/create", {"id": "theirs"}),
            (
                "t-other",
                "/tasks/create",
                {
                    "container_id": "theirs",
                    "io": {"stdout": "/run/containerd/fifo/222/theirs-stdout"},
                },
            ),
        ]
    )
    names, dirs = log.owned("t-mine")
    assert names == {"c1", "c1-e1"}
    assert dirs == {"/run/containerd/fifo/111"}


def test_fifo_dirs_are_attributed_by_what_they_serve(tmp_path) -> None:
    mine, exec_dir, theirs, empty = (tmp_path / n for n in ("1", "2", "3", "4"))
    for d in (mine, exec_dir, theirs, empty):
        d.mkdir()
    os.mkfifo(mine / "c1-stdout")
    os.mkfifo(exec_dir / "c1-e1-stdin")
    os.mkfifo(theirs / "c1x-stdout")
    names = {"c1", "c1-e1"}
    assert _fifo_dir_is_ours(str(mine), names, set())
    assert _fifo_dir_is_ours(str(exec_dir), names, set())
    assert not _fifo_dir_is_ours(str(theirs), names, set())
    assert not _fifo_dir_is_ours(str(empty), names, set())
    assert _fifo_dir_is_ours(str(empty), names, {str(empty)})  # named by a task's IO
