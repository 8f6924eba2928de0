"""Start-up cost: the light commands never import grpc or the generated protobuf modules."""
from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = r"""
import sys
sys.argv = ["runcore"] + sys.argv[1:]
from runcore.cli.main import main
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules
               if m == "grpc" or m.startswith(("grpc.", "runcore._pb", "google.protobuf")))
sys.stderr.write("HEAVY=" + ",".join(heavy) + "\n")
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["plugins"], ["plugins", "--json"],
                                  ["run", "--help"], ["create", "--help"]])
def test_light_commands_do_not_import_grpc(args):
    r = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                       timeout=60)
    line = [l for l in r.stderr.splitlines() if l.startswith("HEAVY=")]
    assert line, r.stderr
    assert line[0] == "HEAVY=", f"{args} imported {line[0][6:]}"


def test_probe_can_see_grpc():
    """The probe itself works: a command that does connect imports grpc."""
    r = subprocess.run([sys.executable, "-c", PROBE, "--address", "/nonexistent.sock",
                        "--connect-timeout", "100ms", "ls"], capture_output=True, text=True,
                       timeout=60)
    assert "grpc" in r.stderr.split("HEAVY=")[-1]
