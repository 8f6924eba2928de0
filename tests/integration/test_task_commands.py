"""The task commands end to end: start, exec, attach, kill, stop, wait, ps, pause/resume,
logs, inspect, ls – and their errors – against a real containerd (1.7 and 1.6).

Every test runs the CLI as a subprocess in a fresh namespace; the ``namespace`` fixture's
leak check proves that nothing (container, task, snapshot, lease, FIFO directory, mount)
was left. ``ctr`` 1.7 is the oracle where the two overlap (``ctr tasks …``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import List

import pytest

from runcore.testing.busybox_image import build_busybox_oci_archive
from runcore.testing.cli import SLEEPER, TIMEOUT, cli_env, one_line_error, stderr_text
from runcore.testing.terminal import Terminal

pytestmark = pytest.mark.containerd


@pytest.fixture
def sigint_image(import_image, tmp_path_factory) -> str:
    """The busybox image with ``StopSignal: SIGINT``."""
    path = tmp_path_factory.mktemp("sigint") / "rcbox-sigint.tar"
    archive = build_busybox_oci_archive(
        path, name="docker.io/library/rcbox:sigint", stop_signal="SIGINT"
    )
    return import_image(archive)


# --------------------------------------------------------------------------- the lifecycle


def test_create_start_exec_pause_resume_stop_rm(rc, sigint_image) -> None:
    r = rc("create", sigint_image, "life1", *SLEEPER)
    assert r.returncode == 0, stderr_text(r)
    assert rc.status("life1") is None
    r = rc("start", "-d", "--fifo-dir", rc.fifo_dir, "life1")
    assert r.returncode == 0, stderr_text(r)
    rc.wait_status("life1", "running")
    ls = {row["id"]: row for row in json.loads(rc("ls", "--json").stdout)}
    assert ls["life1"]["pid"] > 0
    table = rc("ls").stdout.decode()
    assert "PID" in table.splitlines()[0] and str(ls["life1"]["pid"]) in table

    # exec, non-tty, stdin piped (EOF delivered), stdout and stderr apart
    r = rc(
        "exec",
        "--fifo-dir",
        rc.fifo_dir,
        "life1",
        "sh",
        "-c",
        "cat; echo err >&2",
        input=b"piped\n",
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, b"piped\n", b"err\n")

    r = rc("pause", "life1")
    assert r.returncode == 0, stderr_text(r)
    assert rc.status("life1") == "paused"
    assert rc.ctr("tasks", "ls").stdout.split("\n")[1].split()[-1] == "PAUSED"
    r = rc("resume", "life1")
    assert r.returncode == 0, stderr_text(r)
    assert rc.status("life1") == "running"

    # stop: the image's StopSignal (SIGINT) reaches the trap, then the task is deleted
    started = time.monotonic()
    r = rc("stop", "-t", "30", "life1")
    assert r.returncode == 0, stderr_text(r)
    assert time.monotonic() - started < 25, "stop waited for the timeout: SIGINT not sent"
    assert rc.status("life1") is None
    assert rc.ctr("tasks", "ls", "-q").stdout.strip() == ""
    r = rc("rm", "life1")
    assert r.returncode == 0, stderr_text(r)


def test_stop_kills_after_the_timeout(rc, image) -> None:
    rc.detached(image, "stop2", "sh", "-c", "trap '' TERM QUIT INT; while true; do sleep 1; done")
    started = time.monotonic()
    r = rc("stop", "-t", "1", "stop2")
    assert r.returncode == 0, stderr_text(r)
    assert time.monotonic() - started < 20
    assert rc.status("stop2") is None
    # stopped containers start again
    r = rc("start", "-d", "--fifo-dir", rc.fifo_dir, "stop2")
    assert r.returncode == 0, stderr_text(r)
    rc.wait_status("stop2", "running")
    rc.rm("stop2")


def test_start_foreground_gives_output_and_status_and_rm(rc, image) -> None:
    assert rc("create", image, "fg1", "sh", "-c", "cat; echo out; exit 5").returncode == 0
    r = rc("start", "--rm", "--fifo-dir", rc.fifo_dir, "fg1", input=b"in\n")
    assert (r.returncode, r.stdout) == (5, b"in\nout\n"), stderr_text(r)
    assert rc.status("fg1") is None and rc("inspect", "fg1").returncode == 1


def test_start_pid_file_and_restart_after_exit(rc, image, tmp_path) -> None:
    assert rc("create", image, "pf1", "sh", "-c", "echo $$").returncode == 0
    pid_file = tmp_path / "pid"
    r = rc("start", "--fifo-dir", rc.fifo_dir, "--pid-file", str(pid_file), "pf1")
    assert r.returncode == 0, stderr_text(r)
    assert int(pid_file.read_text()) > 0
    # the stopped task is replaced by a fresh one
    r = rc("start", "--fifo-dir", rc.fifo_dir, "pf1")
    assert (r.returncode, r.stdout) == (0, b"1\n"), stderr_text(r)
    rc.rm("pf1")


@pytest.mark.parametrize("script,code", [("exit 0", 0), ("exit 3", 3), ("kill -9 $$", 137)])
def test_exec_exit_codes(rc, image, script, code) -> None:
    rc.detached(image, "ex1")
    r = rc("exec", "--fifo-dir", rc.fifo_dir, "ex1", "sh", "-c", script)
    assert r.returncode == code, stderr_text(r)
    assert stderr_text(r) == ""
    assert "ExecID" not in rc.ctr("tasks", "ps", "ex1").stdout  # the exec process is gone
    rc.rm("ex1")


@pytest.mark.parametrize(
    "cmd,code,text",
    [
        ("nosuch", 127, 'exec: "nosuch": executable file not found in $PATH'),
        ("/etc/passwd", 126, 'exec: "/etc/passwd": permission denied'),
    ],
)
def test_exec_command_errors(rc, image, cmd, code, text) -> None:
    rc.detached(image, "ex2")
    r = rc("exec", "--fifo-dir", rc.fifo_dir, "ex2", cmd)
    assert r.returncode == code
    assert one_line_error(r) == f"runcore: {text}"
    assert "ExecID" not in rc.ctr("tasks", "ps", "ex2").stdout
    rc.rm("ex2")


def test_exec_user_env_cwd(rc, image, tmp_path) -> None:
    rc.detached(image, "ex3")
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=1\n\nPATH=/bin\n")
    r = rc(
        "exec",
        "--fifo-dir",
        rc.fifo_dir,
        "-u",
        "nobody",
        "--cwd",
        "/tmp",
        "--env-file",
        str(env_file),
        "-e",
        "A=b",
        "ex3",
        "sh",
        "-c",
        "id -u; pwd; echo $A $FROM_FILE $PATH",
    )
    assert r.returncode == 0, stderr_text(r)
    assert r.stdout.decode().split("\n")[:3] == ["65534", "/tmp", "b 1 /bin"]
    r = rc("exec", "-u", "nosuchuser", "ex3", "true")
    assert r.returncode == 1
    assert one_line_error(r) == "runcore: no users found"  # ctr's text
    rc.rm("ex3")


def test_exec_tty(rc, image) -> None:
    rc.detached(image, "ex4")
    args = ("-t", "--fifo-dir", rc.fifo_dir, "ex4", "sh", "-c", "tty; read x; echo got:$x; exit 7")
    with Terminal() as term, rc.start("exec", *args, **term.stdio()) as p:
        term.read_until(b"/dev/pts")
        term.write(b"abc\r")
        assert p.wait(TIMEOUT) == 7
        assert b"got:abc" in term.read_rest(), term.out
    rc.rm("ex4")


def test_exec_forwards_signals_to_its_process(rc, image) -> None:
    rc.detached(image, "ex6")
    p = rc.popen(
        "exec",
        "--fifo-dir",
        rc.fifo_dir,
        "ex6",
        "sh",
        "-c",
        "trap 'exit 9' TERM; echo ready; while :; do sleep 0.2; done",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 9, err
    assert rc.status("ex6") == "running"  # only the exec process got it
    rc.rm("ex6")


def test_exec_detached_and_exec_id_in_use(rc, image) -> None:
    rc.detached(image, "ex5")
    r = rc("exec", "-d", "--exec-id", "x1", "--fifo-dir", rc.fifo_dir, "ex5", "sleep", "60")
    assert r.returncode == 0, stderr_text(r)
    ps = rc("ps", "ex5").stdout.decode()
    assert "ExecID:x1" in ps and ps.startswith("PID")
    r = rc("exec", "--exec-id", "x1", "ex5", "true")
    assert r.returncode == 1
    assert one_line_error(r) == 'runcore: exec id "x1" is already in use in container "ex5"'
    r = rc("kill", "--exec-id", "x1", "-s", "KILL", "ex5")
    assert r.returncode == 0, stderr_text(r)
    rc.rm("ex5")  # also removes the exec's FIFO directory (leak check)


def test_exec_process_matches_ctr_tasks_exec(rc, image) -> None:
    """What the process sees (ids, groups, caps, env, cwd, no_new_privs) is the same for
    ``runcore exec`` and ``ctr tasks exec``, with and without --user."""
    rc.detached(image, "par1")
    probe = (
        "id; pwd; env | sort; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; "
        "cat /proc/self/attr/current 2>/dev/null || true"
    )
    for n, user in enumerate(([], ["--user", "nobody"], ["--user", "1000:1000"])):
        mine = rc("exec", "--fifo-dir", rc.fifo_dir, *user, "par1", "sh", "-c", probe)
        assert mine.returncode == 0, stderr_text(mine)
        for attempt in range(3):
            theirs = rc.ctr(
                "tasks",
                "exec",
                "--exec-id",
                f"ctr-probe-{n}-{attempt}",
                *user,
                "par1",
                "sh",
                "-c",
                probe,
            )
            if theirs.stdout:  # ctr may exit before copying a short process's output
                break
        assert mine.stdout.decode() == theirs.stdout, user
    rc.rm("par1")


# --------------------------------------------------------------------------- signals / wait


@pytest.mark.parametrize("sig", ["INT", "SIGINT", "2", "int"])
def test_kill_signal_forms_and_wait(rc, image, sig) -> None:
    rc.detached(image, "k1")
    time.sleep(0.5)  # the trap is set
    r = rc("kill", "-s", sig, "k1")
    assert r.returncode == 0, stderr_text(r)
    r = rc("wait", "k1")
    assert (r.returncode, r.stdout) == (42, b"42\n"), stderr_text(r)
    assert rc.status("k1") == "stopped"
    assert "stopped (42)" in rc("ls").stdout.decode()
    rc.rm("k1")


def test_kill_all_and_default_stop_signal(rc, image) -> None:
    # the test image's StopSignal is SIGQUIT: kill without -s sends it (as ctr 1.7)
    rc.detached(image, "k2", "sh", "-c", "trap 'exit 3' QUIT; while true; do sleep 0.2; done")
    time.sleep(0.5)
    assert rc("kill", "k2").returncode == 0
    assert rc("wait", "k2").returncode == 3
    rc.rm("k2")
    rc.detached(image, "k3", "sh", "-c", "sleep 100 & wait")
    assert rc("kill", "-a", "-s", "KILL", "k3").returncode == 0
    assert rc("wait", "k3").returncode == 137
    rc.rm("k3")


def test_ps_matches_ctr(rc, image) -> None:
    rc.detached(image, "ps1", "sh", "-c", "sleep 100 & sleep 100 & wait")
    time.sleep(0.5)
    mine = rc("ps", "ps1").stdout.decode()
    theirs = rc.ctr("tasks", "ps", "ps1").stdout
    assert sorted(mine.splitlines()) == sorted(theirs.splitlines())
    assert len(mine.splitlines()) == 4
    rc.rm("ps1")


# --------------------------------------------------------------------------- attach


def test_attach_gets_output_and_forwards_ctrl_c(rc, image) -> None:
    rc.detached(image, "at1")
    p = rc.popen(
        "attach",
        "at1",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 42, err
    assert b"got INT" in out
    rc.rm("at1")


def test_attach_detach_with_no_sig_proxy(rc, image) -> None:
    rc.detached(image, "at2", "sh", "-c", "while true; do echo tick; sleep 0.3; done")
    p = rc.popen(
        "attach",
        "--no-sig-proxy",
        "at2",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 0, err
    assert b"tick" in out
    assert rc.status("at2") == "running"
    rc.rm("at2")


def test_attach_tty_detach_keys(rc, image) -> None:
    script = "while true; do echo tick; sleep 0.3; done"
    with Terminal() as term:
        r = rc.run("-d", "-t", image, "at3", "sh", "-c", script, stdin=term.slave)
        assert r.returncode == 0, r.stderr
        with rc.start("attach", "at3", **term.stdio()) as p:
            term.read_until(b"tick")
            term.write(b"\x10\x11")  # Ctrl-P Ctrl-Q
            assert p.wait(TIMEOUT) == 0
    assert rc.status("at3") == "running"
    rc.rm("at3")


# --------------------------------------------------------------------------- logs / inspect


def test_logs_of_a_file_log_uri(rc, image, tmp_path) -> None:
    log = tmp_path / "out.log"
    r = rc(
        "run",
        "-d",
        "--log-uri",
        f"file://{log}",
        image,
        "lg1",
        "sh",
        "-c",
        "echo one; sleep 1; echo two",
    )
    assert r.returncode == 0, stderr_text(r)
    r = rc("logs", "-f", "lg1")
    assert (r.returncode, r.stdout) == (0, b"one\ntwo\n"), stderr_text(r)
    assert rc("logs", "lg1").stdout == b"one\ntwo\n"
    r = rc("attach", "lg1")
    assert r.returncode == 1
    rc.rm("lg1")


def test_inspect(rc, image) -> None:
    rc.detached(image, "in1")
    data = json.loads(rc("inspect", "in1").stdout)
    assert data["id"] == "in1" and data["image"] == image
    assert data["spec"]["process"]["args"] == SLEEPER
    assert data["task"]["status"] == "running" and data["task"]["pid"] > 0
    assert rc("inspect", "-f", ".task.status", "in1").stdout == b"running\n"
    assert rc("inspect", "-f", "{{.spec.process.args[0]}}", "in1").stdout == b"sh\n"
    rc.rm("in1")


# --------------------------------------------------------------------------- with ctr


def test_ctr_made_containers_are_handled_by_runcore(rc, image) -> None:
    rc.ctr("containers", "create", image, "mix1", *SLEEPER)
    r = rc("start", "-d", "--fifo-dir", rc.fifo_dir, "mix1")
    assert r.returncode == 0, stderr_text(r)
    rc.wait_status("mix1", "running")
    assert rc("exec", "mix1", "echo", "hi").stdout == b"hi\n"
    rc.ctr("run", "-d", image, "mix2", *SLEEPER)
    rc.wait_status("mix2", "running")
    r = rc("exec", "--fifo-dir", rc.fifo_dir, "mix2", "sh", "-c", "exit 4")
    assert r.returncode == 4
    time.sleep(0.5)
    assert rc("stop", "-t", "2", "mix1", "mix2").returncode == 0
    rc.rm("mix1", "mix2")


def test_runcore_made_containers_are_handled_by_ctr(rc, image) -> None:
    rc.detached(image, "mix3")
    theirs = rc.ctr("tasks", "exec", "--exec-id", "e1", "mix3", "echo", "from-ctr")
    assert theirs.stdout == "from-ctr\n"
    time.sleep(0.5)
    rc.ctr("tasks", "kill", "-s", "SIGINT", "mix3")
    assert rc("wait", "mix3").returncode == 42
    rc.ctr("tasks", "rm", "mix3")
    # ctr tasks rm leaves our FIFO dir (as for its own tasks); runcore rm finds nothing to do
    for d in os.listdir(rc.fifo_dir):
        for f in os.listdir(os.path.join(rc.fifo_dir, d)):
            os.unlink(os.path.join(rc.fifo_dir, d, f))
        os.rmdir(os.path.join(rc.fifo_dir, d))
    assert rc("rm", "mix3").returncode == 0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args",
    [
        ["start", "nope"],
        ["exec", "nope", "true"],
        ["kill", "nope"],
        ["stop", "nope"],
        ["attach", "nope"],
        ["wait", "nope"],
        ["ps", "nope"],
        ["pause", "nope"],
        ["resume", "nope"],
        ["logs", "nope"],
        ["inspect", "nope"],
    ],
)
def test_unknown_container(rc, args) -> None:
    r = rc(*args)
    assert r.returncode == 1
    assert one_line_error(r) == 'runcore: container "nope": not found'


@pytest.mark.parametrize(
    "args",
    [
        ["exec", "c", "true"],
        ["kill", "c"],
        ["stop", "c"],
        ["attach", "c"],
        ["wait", "c"],
        ["ps", "c"],
        ["pause", "c"],
        ["resume", "c"],
        ["logs", "c"],
    ],
)
def test_container_without_task(rc, image, args) -> None:
    assert rc("create", image, "c", "true").returncode == 0
    r = rc(*args)
    assert r.returncode == 1
    assert "has no task" in one_line_error(r)
    rc.rm("c")


@pytest.mark.parametrize(
    "args",
    [
        ["exec", "s", "true"],
        ["kill", "s"],
        ["pause", "s"],
        ["resume", "s"],
        ["attach", "s"],
    ],
)
def test_stopped_task(rc, image, args) -> None:
    r = rc("run", "-d", "--fifo-dir", rc.fifo_dir, image, "s", "true")
    assert r.returncode == 0
    rc.wait_status("s", "stopped")
    r = rc(*args)
    assert r.returncode == 1
    assert "has stopped" in one_line_error(r)
    rc.rm("s")


def test_start_of_a_running_container(rc, image) -> None:
    rc.detached(image, "run1")
    r = rc("start", "--rm", "run1")
    assert r.returncode == 1
    assert one_line_error(r).startswith('runcore: container "run1" already has a task (running')
    assert rc.status("run1") == "running"
    rc.rm("run1")


def test_attach_to_null_io_and_bad_signal(rc, image) -> None:
    r = rc("run", "-d", "--null-io", image, "nio", *SLEEPER)
    assert r.returncode == 0
    r = rc("attach", "nio")
    assert r.returncode == 1 and "--null-io" in one_line_error(r)
    r = rc("kill", "-s", "SIGNOPE", "nio")
    assert (r.returncode, one_line_error(r)) == (1, "runcore: invalid signal: SIGNOPE")
    rc.rm("nio")


def test_start_tty_mismatch(rc, image) -> None:
    assert rc("create", image, "tt", "true").returncode == 0
    r = rc("start", "-t", "tt")
    assert r.returncode == 1 and "without a terminal" in one_line_error(r)
    assert rc("create", "-t", image, "tt2", "true").returncode == 0
    r = rc("start", "tt2")
    assert r.returncode == 1 and "not a TTY" in one_line_error(r)
    assert rc.status("tt2") is None
    rc.rm("tt", "tt2")


# --------------------------------------------------------------------------- completion


def test_completion_of_ids_and_images(rc, image) -> None:
    """Driven as bash drives it: container ids for the id commands, image names for run."""
    assert rc("create", image, "comp-a", "true").returncode == 0
    assert rc("create", image, "comp-b", "true").returncode == 0
    env = {**cli_env(), "_RUNCORE_COMPLETE": "bash_complete"}

    def complete(*words: str) -> List[str]:
        line = " ".join(["runcore", "-a", rc.daemon.address, "-n", rc.namespace, *words])
        r = subprocess.run(
            rc.argv()[:3],
            env={**env, "COMP_WORDS": line, "COMP_CWORD": str(len(words) + 4)},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert r.returncode == 0 and r.stderr == "", r.stderr
        return [x.split(",", 1)[1] for x in r.stdout.splitlines()]

    for command in ("start", "exec", "kill", "stop", "attach", "wait", "rm", "inspect"):
        assert complete(command, "comp") == ["comp-a", "comp-b"], command
    assert complete("rm", "comp-a", "comp-") == ["comp-a", "comp-b"]
    assert complete("run", "docker.io/library/rc") == [image]
    rc.rm("comp-a", "comp-b")


# --------------------------------------------------------------------------- property


def test_untrusted_values_never_give_internal_errors(rc, image) -> None:
    """Random signal names, --format paths, env and exec ids against a real task: exit 0
    or one line with exit 1 (never 70, never a traceback); nothing left (leak check)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    text = st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=30,
    )
    rc.detached(
        image,
        "prop1",
        "sh",
        "-c",
        "trap '' TERM INT HUP USR1 USR2 QUIT; while true; do sleep 0.2; done",
    )

    @settings(max_examples=12, derandomize=True, deadline=None)
    @given(st.sampled_from(["kill-s", "inspect-f", "exec-env", "exec-id"]), text)
    def one(kind: str, value: str) -> None:
        args = {
            "kill-s": ["kill", "-s", value, "prop1"],
            "inspect-f": ["inspect", "-f", value, "prop1"],
            "exec-env": ["exec", "--fifo-dir", rc.fifo_dir, "-e", value, "prop1", "true"],
            "exec-id": ["exec", "--fifo-dir", rc.fifo_dir, "--exec-id", value, "prop1", "true"],
        }[kind]
        r = rc(*args)
        err = stderr_text(r)
        assert r.returncode in (0, 1), (args, r.returncode, err)
        assert "Traceback" not in err and "internal error" not in err, err
        if r.returncode:
            assert err.startswith("runcore: ") and err.count("\n") == 1, err

    one()
    rc.rm("prop1")
