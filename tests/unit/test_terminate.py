"""SIGTERM before a task exists unwinds runcore cleanly: one line, exit 143."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time


def test_sigterm_while_connecting(tmp_path):
    path = str(tmp_path / "silent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)  # accepts at the kernel level, never speaks gRPC
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runcore", "--address", path, "--connect-timeout", "30s", "ls"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.0)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        server.close()
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == ["runcore: terminated by SIGTERM"]
