"""run_task / remove_container against a scripted fake containerd (no daemon needed)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest

from runcore.containerd import pb
from runcore.errors import ContainerdError, FailedPrecondition, NotFound, RuncoreError, UsageError
from runcore.task import errors as task_errors
from runcore.task import lifecycle
from runcore.task import options as task_options
from runcore.task import status as task_states
from runcore.task.cleanup import no_deadline
from runcore.task.remove import remove_container

CID = "c1"


class World:
    """The fake daemon's state and a log of every call."""

    def __init__(self) -> None:
        self.calls: List[tuple] = []
        self.container: Optional[Any] = pb.containers.Container(
            id=CID,
            image="img",
            snapshotter="overlayfs",
            snapshot_key=CID,
            runtime=pb.containers.Container.Runtime(name="io.containerd.runc.v2"),
        )
        self.task: Optional[Dict[str, Any]] = None
        self.exited = threading.Condition()
        self.fail: Dict[str, Exception] = {}
        self.exit_on_start: Optional[int] = None

    def log(self, name: str, **kw: Any) -> None:
        self.calls.append((name, kw))

    def names(self) -> List[str]:
        return [c[0] for c in self.calls]

    def maybe_fail(self, name: str) -> None:
        if name in self.fail:
            raise self.fail[name]

    def exit(self, status: int) -> None:
        with self.exited:
            if self.task is not None and self.task["status"] != task_states.STOPPED:
                self.task["status"] = task_states.STOPPED
                self.task["exit_status"] = status
            self.exited.notify_all()


class Svc:
    def __init__(self, world: World, impl: Dict[str, Any]) -> None:
        self._world = world
        self._impl = impl

    def __getattr__(self, name: str) -> Any:
        impl = self._impl[name]

        def call(request: Any = None, *, timeout: Optional[float] = None, **kw: Any) -> Any:
            if request is not None:
                kw = {f.name: v for f, v in request.ListFields()}
                kw["_request"] = request
            self._world.log(f"{self._prefix}/{name}", **{k: v for k, v in kw.items()})
            self._world.maybe_fail(f"{self._prefix}/{name}")
            return impl(timeout=timeout, **kw)

        return call


class FakeClient:
    pb = pb

    @contextlib.contextmanager
    def without_deadline(self):
        self.deadline_cleared += 1
        yield

    def __init__(self, world: World) -> None:
        self.world = w = world
        self.deadline_cleared = 0

        def c_get(id: str, timeout: Any = None) -> Any:
            if w.container is None or w.container.id != id:
                raise NotFound(f'container "{id}" in namespace "ns": not found')
            return pb.containers.GetContainerResponse(container=w.container)

        def c_delete(id: str, timeout: Any = None) -> Any:
            if w.container is None:
                raise NotFound("not found")
            w.container = None

        def c_list(timeout: Any = None, **kw: Any) -> Any:
            return pb.containers.ListContainersResponse(
                containers=[w.container] if w.container else []
            )

        def s_mounts(snapshotter: str, key: str, timeout: Any = None) -> Any:
            return pb.snapshots.MountsResponse(
                mounts=[pb.mount.Mount(type="bind", source="/snap/" + key, options=["rbind"])]
            )

        def s_remove(snapshotter: str, key: str, timeout: Any = None) -> Any:
            return None

        def t_create(timeout: Any = None, **kw: Any) -> Any:
            w.task = {
                "status": task_states.CREATED,
                "pid": 4242,
                "exit_status": 0,
                "stdout": kw.get("stdout", ""),
            }
            return pb.tasks.CreateTaskResponse(container_id=CID, pid=4242)

        def t_start(container_id: str, timeout: Any = None) -> Any:
            w.task["status"] = task_states.RUNNING
            if w.exit_on_start is not None:
                threading.Timer(0.05, w.exit, args=(w.exit_on_start,)).start()
            return pb.tasks.StartResponse(pid=4242)

        def t_wait(container_id: str, timeout: Any = None) -> Any:
            end = None if timeout is None else time.monotonic() + timeout
            with w.exited:
                while w.task is not None and w.task["status"] != task_states.STOPPED:
                    left = None if end is None else end - time.monotonic()
                    if left is not None and left <= 0:
                        raise ContainerdError("context deadline exceeded")
                    w.exited.wait(left if left is not None else 0.05)
                if w.task is None:
                    raise NotFound("not found")
                return pb.tasks.WaitResponse(exit_status=w.task["exit_status"])

        def t_kill(container_id: str, signal: int, all: bool = False, timeout: Any = None) -> Any:
            if w.task is None or w.task["status"] == task_states.STOPPED:
                raise NotFound("process already finished: not found")
            if signal == 9:
                w.exit(137)

        def t_get(container_id: str, timeout: Any = None, **kw: Any) -> Any:
            if w.task is None:
                raise NotFound(f"no running task found: task {container_id} not found: not found")
            t = w.task
            return pb.tasks.GetResponse(
                process=pb.task.Process(
                    container_id=CID,
                    pid=t["pid"],
                    status=t["status"],
                    exit_status=t["exit_status"],
                    stdout=t["stdout"],
                )
            )

        def t_delete(container_id: str, timeout: Any = None) -> Any:
            if w.task is None:
                raise NotFound("not found")
            if w.task["status"] not in (task_states.STOPPED, task_states.CREATED):
                raise FailedPrecondition(
                    "task must be stopped before deletion: running: failed precondition"
                )
            t, w.task = w.task, None
            return pb.tasks.DeleteResponse(id=CID, pid=t["pid"], exit_status=t["exit_status"])

        def noop(timeout: Any = None, **kw: Any) -> Any:
            return None

        def t_list(timeout: Any = None, **kw: Any) -> Any:
            return pb.tasks.ListTasksResponse()

        self.containers = Svc(w, {"Get": c_get, "Delete": c_delete, "List": c_list})
        self.containers._prefix = "Containers"
        self.snapshots = Svc(w, {"Mounts": s_mounts, "Remove": s_remove})
        self.snapshots._prefix = "Snapshots"
        self.tasks = Svc(
            w,
            {
                "Create": t_create,
                "Start": t_start,
                "Wait": t_wait,
                "Kill": t_kill,
                "Get": t_get,
                "Delete": t_delete,
                "CloseIO": noop,
                "ResizePty": noop,
                "Resume": noop,
                "List": t_list,
                "ListPids": lambda timeout=None, **kw: pb.tasks.ListPidsResponse(),
            },
        )
        self.tasks._prefix = "Tasks"
        self.leases = Svc(w, {"List": lambda timeout=None, **kw: pb.leases.ListResponse()})
        self.leases._prefix = "Leases"

    def default_snapshotter(self) -> str:
        return "overlayfs"


class Plugins:
    def __init__(self) -> None:
        self.deleted: List[Any] = []
        self.options: Dict[str, Any] = {}
        self.on_created: Optional[Any] = None

    def call_each(self, hook: str, on_error: Any = None, **kw: Any) -> list:
        if hook == "runcore_task_options":
            kw["options"].update(self.options)
        elif hook == "runcore_task_created" and self.on_created:
            self.on_created(**kw)
        elif hook == "runcore_task_deleted":
            self.deleted.append(kw["task"])
        return []


class Ctx:
    command = "run"

    def __init__(self, client: FakeClient, **options: Any) -> None:
        self._client = client
        self.container_id = CID
        self.options = {"null_io": True, **options}
        self.plugins = Plugins()

    def opt(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name, default)
        return default if value is None else value

    def is_set(self, name: str) -> bool:
        return name in self.options

    def client(self) -> FakeClient:
        return self._client


@pytest.fixture
def world() -> World:
    return World()


def _ctx(world: World, **options: Any) -> Ctx:
    return Ctx(FakeClient(world), **options)


def test_foreground_exit_status_and_request(world: World) -> None:
    world.exit_on_start = 3
    ctx = _ctx(world)
    assert lifecycle.run_task(ctx) == 3
    names = world.names()
    assert names[:4] == [
        "Containers/Get",
        "Snapshots/Mounts",
        "Tasks/Create",
        "Tasks/Wait",
    ] or names[:3] == ["Containers/Get", "Snapshots/Mounts", "Tasks/Create"]
    create = dict(world.calls)["Tasks/Create"]["_request"]
    assert create.container_id == CID and not create.terminal
    assert (create.stdin, create.stdout, create.stderr) == ("", "", "")
    assert [m.source for m in create.rootfs] == ["/snap/c1"]
    assert not create.HasField("options")
    # Tasks/Wait returned: the task is known to be stopped, no Tasks/Get before Delete
    assert names[-1] == "Tasks/Delete" and "Tasks/Get" not in names
    assert world.container is not None  # no --rm
    assert world.task is None
    assert [(t.container_id, t.pid, t.exit_status) for t in ctx.plugins.deleted] == [(CID, 4242, 3)]


def test_the_record_and_mounts_of_create_spare_two_calls(world: World) -> None:
    """``run`` hands the task code what Containers/Create and Snapshots/Prepare answered."""
    from runcore.context import CREATED_RECORD, PREPARED_MOUNTS, Stash

    world.exit_on_start = 0
    ctx = _ctx(world)
    ctx.stash = Stash()
    ctx.stash[CREATED_RECORD] = world.container
    mount = pb.mount.Mount(type="overlay", source="overlay", options=["lowerdir=/l"])
    ctx.stash[PREPARED_MOUNTS] = (CID, [mount])
    assert lifecycle.run_task(ctx) == 0
    names = world.names()
    assert "Containers/Get" not in names and "Snapshots/Mounts" not in names
    create = dict(world.calls)["Tasks/Create"]["_request"]
    assert list(create.rootfs) == [mount]
    # mounts prepared for another snapshot are not used
    world.exit_on_start = 0
    ctx.stash[PREPARED_MOUNTS] = ("other", [mount])
    world.calls.clear()
    assert lifecycle.run_task(ctx) == 0
    assert "Snapshots/Mounts" in world.names()


def test_rm_deletes_snapshot_then_record(world: World) -> None:
    world.exit_on_start = 0
    ctx = _ctx(world, rm=True)
    assert lifecycle.run_task(ctx) == 0
    names = world.names()
    assert names[-2:] == ["Snapshots/Remove", "Containers/Delete"]
    assert dict(world.calls)["Snapshots/Remove"] == {"snapshotter": "overlayfs", "key": CID}
    assert world.container is None
    assert len(ctx.plugins.deleted) == 1


def test_no_snapshot_no_mounts(world: World) -> None:
    world.container.snapshot_key = ""
    world.exit_on_start = 0
    assert lifecycle.run_task(_ctx(world, rm=True)) == 0
    assert "Snapshots/Mounts" not in world.names()
    assert "Snapshots/Remove" not in world.names()


def test_task_options_runc(world: World) -> None:
    world.exit_on_start = 0
    ctx = _ctx(world)
    ctx.plugins.options = {"no_pivot_root": True, "io_uid": 1000, "io_gid": 1000}
    lifecycle.run_task(ctx)
    options = dict(world.calls)["Tasks/Create"]["_request"].options
    assert options.type_url == "containerd.runc.v1.Options"
    decoded = pb.runc_options.Options.FromString(options.value)
    assert (decoded.no_pivot_root, decoded.io_uid, decoded.io_gid) == (True, 1000, 1000)
    assert not decoded.binary_name


def test_task_options_legacy_runtime(world: World) -> None:
    world.container.runtime.name = "io.containerd.kata.v2"
    world.exit_on_start = 0
    ctx = _ctx(world)
    ctx.plugins.options = {"no_pivot_root": True, "io_uid": 5}
    lifecycle.run_task(ctx)
    options = dict(world.calls)["Tasks/Create"]["_request"].options
    assert options.type_url == "containerd.linux.runc.CreateOptions"
    assert options.value == bytes([0x08, 0x01, 0x50, 0x05])


def test_is_runc_runtime() -> None:
    assert task_options.is_runc_runtime("io.containerd.runc.v2")
    assert task_options.is_runc_runtime("io.containerd.runc.v1")
    assert not task_options.is_runc_runtime("io.containerd.runsc.v1")
    assert not task_options.is_runc_runtime("io.containerd")


@pytest.mark.parametrize("rm", [False, True])
def test_missing_command_exits_127(world: World, rm: bool) -> None:
    world.fail["Tasks/Create"] = ContainerdError(
        "failed to create shim task: OCI runtime create failed: runc create failed: unable to "
        'start container process: exec: "nosuch": executable file not found in $PATH: unknown'
    )
    ctx = _ctx(world, rm=rm)
    with pytest.raises(task_errors.CommandError) as info:
        lifecycle.run_task(ctx)
    assert info.value.exit_code == 127
    assert str(info.value) == 'exec: "nosuch": executable file not found in $PATH'
    assert (world.container is None) == rm
    assert "Tasks/Delete" not in world.names()
    assert ctx.plugins.deleted == []


def test_command_error_classification() -> None:
    def code(text: str) -> Optional[int]:
        err = task_errors.command_error(ContainerdError(text))
        return err.exit_code if err else None

    assert code('... exec: "/etc/passwd": permission denied: unknown') == 126
    assert code('... exec: "/etc": is a directory: unknown') == 126
    assert code('... exec: "/nope": stat /nope: no such file or directory: unknown') == 127
    assert code("failed to create shim task: something else: unknown") is None


def _assert_cleaned(world: World, rm: bool, ctx: Ctx) -> None:
    assert world.task is None
    assert (world.container is None) == rm
    assert len(ctx.plugins.deleted) == 1


@pytest.mark.parametrize("rm", [False, True])
def test_start_failure_cleans_up(world: World, rm: bool) -> None:
    world.fail["Tasks/Start"] = ContainerdError("failed to start: boom")
    ctx = _ctx(world, rm=rm)
    with pytest.raises(ContainerdError, match="boom"):
        lifecycle.run_task(ctx)
    assert "Tasks/Kill" in world.names()
    _assert_cleaned(world, rm, ctx)


@pytest.mark.parametrize("rm", [False, True])
def test_task_created_hook_failure_cleans_up(world: World, rm: bool) -> None:
    ctx = _ctx(world, rm=rm)

    def fail(task: Any, ctx: Any) -> None:
        assert task.pid == 4242
        raise UsageError("cannot write pid file /nope/x: No such file or directory")

    ctx.plugins.on_created = fail
    with pytest.raises(UsageError, match="pid file"):
        lifecycle.run_task(ctx)
    assert "Tasks/Start" not in world.names()
    _assert_cleaned(world, rm, ctx)


def test_wait_error_cleans_up(world: World) -> None:
    world.fail["Tasks/Wait"] = ContainerdError("connection lost")
    ctx = _ctx(world, rm=True)
    with pytest.raises(ContainerdError, match="connection lost"):
        lifecycle.run_task(ctx)
    del world.fail["Tasks/Wait"]
    _assert_cleaned(world, True, ctx)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_before_start_cleans_up(world: World, signum: int) -> None:
    ctx = _ctx(world, rm=True)
    previous = signal.getsignal(signum)

    def interrupt(task: Any, ctx: Any) -> None:
        os.kill(os.getpid(), signum)

    ctx.plugins.on_created = interrupt
    with pytest.raises(task_errors.Interrupted) as info:
        lifecycle.run_task(ctx)
    assert info.value.exit_code == 128 + signum
    assert "Tasks/Start" not in world.names()
    _assert_cleaned(world, True, ctx)
    assert signal.getsignal(signum) == previous  # handlers restored


def test_keyboard_interrupt_cleans_up(world: World) -> None:
    ctx = _ctx(world, rm=True)

    def interrupt(task: Any, ctx: Any) -> None:
        raise KeyboardInterrupt

    ctx.plugins.on_created = interrupt
    with pytest.raises(KeyboardInterrupt):
        lifecycle.run_task(ctx)
    _assert_cleaned(world, True, ctx)


def test_signals_are_forwarded(world: World) -> None:
    ctx = _ctx(world, rm=True)

    def send() -> None:
        while "Tasks/Start" not in world.names():
            time.sleep(0.01)
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGCHLD)  # not forwarded
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)
        world.exit(143)

    threading.Thread(target=send, daemon=True).start()
    assert lifecycle.run_task(ctx) == 143
    kills = [kw["signal"] for name, kw in world.calls if name == "Tasks/Kill"]
    assert kills == [signal.SIGUSR1, signal.SIGTERM]


def test_detach_returns_after_start(world: World) -> None:
    ctx = _ctx(world, detach=True)
    assert lifecycle.run_task(ctx) == 0
    assert world.names()[-1] == "Tasks/Start"
    assert world.task["status"] == task_states.RUNNING
    assert ctx.plugins.deleted == []


def test_tty_without_terminal_leaves_nothing(world: World, monkeypatch) -> None:
    monkeypatch.setattr(lifecycle.ttymod, "is_terminal", lambda fd=0: False)
    ctx = _ctx(world, tty=True, null_io=False)
    with pytest.raises(UsageError, match="the input device is not a TTY"):
        lifecycle.run_task(ctx)
    assert world.container is None
    assert "Tasks/Create" not in world.names()


def test_no_deadline_lifts_and_restores() -> None:
    from runcore.containerd._rpc import CallContext
    from runcore.containerd.client import Client

    client = Client.__new__(Client)  # no connection needed for the deadline switch
    client._ctx = CallContext("ns", deadline=12.0)
    with no_deadline(client):
        assert client._ctx.deadline is None
    assert client._ctx.deadline == 12.0


# --------------------------------------------------------------------------- rm


def _running(world: World, stdout: str = "") -> None:
    world.task = {"status": task_states.RUNNING, "pid": 99, "exit_status": 0, "stdout": stdout}


def test_rm_unknown() -> None:
    world = World()
    world.container = None
    with pytest.raises(NotFound) as info:
        remove_container(FakeClient(world), "nope")
    assert str(info.value) == 'container "nope": not found'


def test_rm_running_needs_force(world: World) -> None:
    _running(world)
    with pytest.raises(FailedPrecondition) as info:
        remove_container(FakeClient(world), CID)
    assert str(info.value) == f"cannot delete running task {CID}: failed precondition"
    assert world.container is not None and world.task is not None


def test_rm_force_kills_and_removes_fifos(world: World, tmp_path) -> None:
    from runcore.task.fifos import FifoSet

    fifos = FifoSet.create(str(tmp_path), CID)
    _running(world, stdout=fifos.stdout)
    plugins = Plugins()
    remove_container(FakeClient(world), CID, force=True, plugins=plugins)
    kill = [kw for name, kw in world.calls if name == "Tasks/Kill"]
    assert kill and kill[0]["signal"] == 9 and kill[0]["all"]
    assert world.task is None and world.container is None
    assert os.listdir(tmp_path) == []
    assert [(t.container_id, t.pid, t.exit_status) for t in plugins.deleted] == [(CID, 99, 137)]
    assert plugins.deleted[0].record.id == CID


def test_rm_stopped_task_without_force(world: World) -> None:
    _running(world)
    world.exit(0)
    remove_container(FakeClient(world), CID)
    assert "Tasks/Kill" not in world.names()
    assert world.task is None and world.container is None


def test_rm_hook_failure_is_a_warning(world: World, capsys) -> None:
    from runcore.plugin import loader, manager

    class EntryPoint:
        def __init__(self, name: str, plugin: Any) -> None:
            self.name = self.value = name
            self.plugin = plugin

        def load(self) -> Any:
            return self.plugin

    def boom(task: Any) -> None:
        raise RuntimeError("boom")

    seen: List[str] = []
    registry = manager.build(
        loader.Policy(),
        builtins=False,
        entry_points=[
            EntryPoint("bad", SimpleNamespace(runcore_task_deleted=boom)),
            EntryPoint(
                "good",
                SimpleNamespace(runcore_task_deleted=lambda task: seen.append(task.container_id)),
            ),
        ],
    )
    remove_container(FakeClient(world), CID, plugins=registry)
    assert world.container is None
    assert seen == [CID]  # the next plugin still ran
    err = capsys.readouterr().err
    assert (
        err == "runcore: warning: plugin 'bad' failed in runcore_task_deleted: RuntimeError: boom\n"
    )


def test_legacy_encoding_rejects_unknown() -> None:
    with pytest.raises(RuncoreError, match="binary_name"):
        task_options.task_options_any(FakeClient(World()), "io.other.runtime", {"binary_name": "x"})


def test_legacy_encoding_is_the_create_options_message() -> None:
    from runcore.runtime_options import LEGACY_OPTIONS_URL

    value = task_options.task_options_any(
        FakeClient(World()), "io.other.runtime", {"io_uid": 1000, "io_gid": 1000, "terminal": True}
    )
    assert value.type_url == LEGACY_OPTIONS_URL
    # field 4 (terminal) varint 1, field 10/11 (io_uid/io_gid) varint 1000
    assert value.value == bytes([0x20, 0x01, 0x50, 0xE8, 0x07, 0x58, 0xE8, 0x07])
