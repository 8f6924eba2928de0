"""Hook specifications: the whole contract between runcore and its plugins.

A plugin is a module (or object) exposing functions named like the hooks below and
marked with :data:`runcore.hookimpl`. It is found through an entry point in the group
``runcore.plugins``; the entry point's name is the plugin's id.

How runcore calls the hooks
---------------------------
1. Start-up: :func:`runcore_add_options` and :func:`runcore_add_commands` build the
   command line. Nothing heavy may be imported here.
2. After parsing: :func:`runcore_configure` lets each plugin validate its options.
3. Spec phases, in this fixed order, each over every plugin:
   :func:`runcore_spec_process`, :func:`runcore_spec_namespaces`,
   :func:`runcore_spec_mounts`, :func:`runcore_spec_resources`,
   :func:`runcore_spec_privileges`, :func:`runcore_spec_security`,
   :func:`runcore_spec_finish`, then the check :func:`runcore_spec_validate`.
   A feature belongs in the phase that matches what it changes, so features never need
   ``tryfirst``/``trylast`` between each other: seccomp (security) always sees the final
   capabilities (privileges), which always see the final devices (mounts).
   Image supply (only when the image is missing, or a refresh was asked for):
   :func:`runcore_supply_image`.
4. Container record: :func:`runcore_prepare_snapshot` (before the spec, because user
   lookups read the snapshot), :func:`runcore_container_record`.
5. Task (``run`` and ``start``): :func:`runcore_task_options`,
   :func:`runcore_task_created`, then after the task is gone (foreground exit, ``stop``,
   ``rm``) :func:`runcore_task_deleted`. The task hooks get the *stored* container
   record in ``task.record`` and must decide from it alone (see "Task hooks and the
   stored record" below).
6. Exec (``exec``): :func:`runcore_exec_process` adjusts the extra process's spec.

Order inside one hook: the core's built-in plugins first, in their documented order,
then installed plugins sorted by id. The order is the same on every machine. Hooks are
called through pluggy; its ``tryfirst``/``trylast``/``wrapper``/``hookwrapper`` options
would change that order and are refused when the plugin is registered (it is then listed
as failed, with the reason).

Every hook takes keyword arguments only; a plugin may accept any subset of them.
Errors a user can cause are raised as :class:`runcore.api.UsageError` (or another
:class:`runcore.api.RuncoreError`); runcore prints them as one line and stops,
cleaning up whatever it created. Any other exception is a bug in the plugin: runcore
prints ``plugin 'ID' failed in HOOK: Type: message`` (exit status 1), and cleans up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Optional

import pluggy

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from runcore.context import CommandContext, RunContext
    from runcore.plugin.commands import CommandRegistrar
    from runcore.plugin.options import OptionRegistrar
    from runcore.record import ContainerRecord, SnapshotRequest, TaskInfo
    from runcore.spec_editor import SpecEditor

hookspec = pluggy.HookspecMarker("runcore")


# --------------------------------------------------------------------- command line
@hookspec
def runcore_add_options(registrar: "OptionRegistrar", command: str) -> None:
    """Declare the options this plugin adds to ``command``.

    :param registrar: Call ``registrar.add("--flag", help=..., **click_kwargs)`` once per
        option. The registrar records this plugin as the owner; a flag already owned by
        the core or by another plugin stops start-up with an error naming both owners.
        Third-party plugins should prefix their flags with ``--<plugin-id>-``.
    :param command: ``"run"``, ``"create"`` or ``"spec"``. Options that only make sense
        with a task (``--detach``, ``--null-io``) are added for ``"run"`` only.

    Called once per command while the CLI is built, before any argument is parsed.
    Must be cheap: import nothing heavy here. Declare the same options for the same
    installed code, configuration and ``RUNCORE_*``/``CONTAINERD_*`` environment:
    ``--help`` text is replayed while those are unchanged.
    """


@hookspec
def runcore_add_commands(registrar: "CommandRegistrar") -> None:
    """Add sub-commands (``runcore <name> ...``) with ``registrar.add(click_command)``.

    Called once while the CLI is built. A command name already taken stops start-up with
    an error naming both owners. Import heavy modules inside the command body.
    """


@hookspec
def runcore_configure(ctx: "RunContext") -> None:
    """Validate this plugin's parsed options before anything is created.

    :param ctx: the run context; ``ctx.options`` holds every parsed option value,
        ``ctx.is_set(name)`` tells whether an option was given on the command line or
        through its environment variable.

    Called once per command, after parsing and before connecting to containerd, for
    every plugin. Raise :class:`runcore.api.UsageError` for a bad value or a
    conflicting combination. Computed values for later hooks go in ``ctx.stash`` under
    the plugin's own :class:`~runcore.context.StashKey`. The built-in plugins run first, so
    the typed facts (``ctx.uses_image``, ``ctx.config_spec``, ``ctx.platform``, ...) are
    ready.
    """


# --------------------------------------------------------------------- spec phases
@hookspec
def runcore_spec_process(spec: "SpecEditor", ctx: "RunContext") -> None:
    """Phase 1, the process: image config, args, env, working directory, user, terminal.

    :param spec: the spec editor; read with ``spec.get(path)``, write with
        ``spec.set``/``spec.append``/``spec.remove``; every write made during the call is
        attributed to the plugin (``runcore spec --explain``).
    :param ctx: the run context (image config in ``ctx.image``, files of the container
        root through ``ctx.rootfs``).
    """


@hookspec
def runcore_spec_namespaces(spec: "SpecEditor", ctx: "RunContext") -> None:
    """Phase 2, namespaces and identity: namespaces, user-namespace mappings, hostname.

    Runs after the process phase, so environment changes (``HOSTNAME=``) apply on top
    of the image's environment.
    """


@hookspec
def runcore_spec_mounts(spec: "SpecEditor", ctx: "RunContext") -> None:
    """Phase 3, the filesystem: mounts, devices, OCI hooks, rootfs options."""


@hookspec
def runcore_spec_resources(spec: "SpecEditor", ctx: "RunContext") -> None:
    """Phase 4, cgroups: cpu, memory, block IO, RDT, cgroups path."""


@hookspec
def runcore_spec_privileges(spec: "SpecEditor", ctx: "RunContext") -> None:
    """Phase 5, what the process may do: capabilities, privileged mode, no-new-privileges.

    Runs after devices and mounts are final (privileged mode rewrites mount options).
    """


@hookspec
def runcore_spec_security(spec: "SpecEditor", ctx: "RunContext") -> None:
    """Phase 6, confinement computed from the final privileges: seccomp, AppArmor, SELinux.

    Runs after :func:`runcore_spec_privileges`, so a profile derived from the
    capability set sees the final one.
    """


@hookspec
def runcore_spec_finish(spec: "SpecEditor", ctx: "RunContext") -> None:
    """Phase 7, last changes derived from everything else (annotations from labels)."""


@hookspec
def runcore_spec_validate(spec: "SpecEditor", ctx: "RunContext") -> Optional[List[str]]:
    """Check the finished spec; must not change it.

    :return: a list of problems (one line each), or ``None``. All plugins are called and
        all problems are reported together; any problem stops the command before
        anything is created.
    """


@hookspec(firstresult=True)
def runcore_resolve_device(
    value: str, ctx: "RunContext"
) -> Optional[Callable[["SpecEditor"], None]]:
    """Resolve a ``--device`` value that is not a path on this host (a CDI name, say).

    :param value: the ``--device`` argument as given, e.g. ``vendor.com/gpu=0``.
    :return: ``None`` when this plugin does not know the value; otherwise a callable
        ``apply(spec)`` taking the :class:`~runcore.spec_editor.SpecEditor`. The core calls it
        in the mounts phase, in command-line order, with the change attributed to this plugin.

    Called during configure, once per such value; the first plugin (in call order) that
    returns something wins. Raise :class:`runcore.api.UsageError` for a value this
    plugin owns but cannot resolve (unknown device, broken spec file).
    """


# --------------------------------------------------------------------- image supply
@hookspec(firstresult=True)
def runcore_supply_image(ref: str, ctx: "RunContext") -> Optional[str]:
    """Supply the image ``ref`` from somewhere else (a registry, say) into the namespace.

    :param ref: the IMAGE argument of ``run``/``create``/``spec`` as typed.
    :param ctx: the run context; ``ctx.client()`` is connected, ``ctx.snapshotter`` is the
        snapshotter the container will use, ``ctx.platform`` the ``--platform`` asked for
        (``None``: the host's).
    :return: the name of the image record that now holds the image (it may differ from
        ``ref``, e.g. ``busybox`` -> ``docker.io/library/busybox:latest``), or ``None`` when
        this plugin does not supply it (the core then reports the image as not found).

    Called while the image is resolved, only when ``Images/Get(ref)`` finds no image, or
    before the look-up when a plugin asked for a fresh copy by setting
    ``ctx.refresh_image = True`` in :func:`runcore_configure` (as
    ``--pull always`` does). The first plugin returning a name wins. The core then
    resolves and unpacks that image as usual. Raise a
    :class:`runcore.errors.RuncoreError` (one line) when the image cannot be supplied;
    leave nothing behind but stored content.
    """


# --------------------------------------------------------------------- container record
@hookspec
def runcore_prepare_snapshot(snapshot: "SnapshotRequest", ctx: "RunContext") -> None:
    """Change how the container's snapshot is prepared, before it is prepared.

    :param snapshot: ``snapshotter``, ``key`` (the container id), ``parent`` (the image's
        chain id) and ``labels``, all writable. A plugin may create another committed
        snapshot through ``ctx.client()`` (inside the run's lease) and set ``parent`` to
        it, as user-namespace remapping does.

    Called once, image-based containers only, before the spec phases (user lookups read
    files from the prepared snapshot).
    """


@hookspec
def runcore_container_record(record: "ContainerRecord", ctx: "RunContext") -> None:
    """Change the container record before ``Containers/Create``.

    :param record: labels, runtime name and options, snapshotter, snapshot key,
        extensions and sandbox, all writable. The spec is not here: it was built by the
        spec phases and is attached afterwards.
    """


# --------------------------------------------------------------------- task
#
# Task hooks and the stored record
# --------------------------------
# A task is created by ``run`` right after ``create``, or by ``start`` (and an exec
# process by ``exec``) in a later invocation – possibly of a container made by ctr. So
# the task hooks must work from what containerd stored: ``task.record`` is the stored
# ``containers.v1.Container`` (labels, extensions, runtime, snapshot) and
# ``task.spec()`` its OCI spec. ``ctx.command`` says which command runs (``run``,
# ``start``, ``exec``, ``stop``, ``rm`` …) and ``ctx.options`` holds only *that*
# command's options: a plugin that needs to know "was this container made with my
# feature?" stores the answer in the record (an extension or label) at
# :func:`runcore_container_record` time and reads it back here.
@hookspec
def runcore_task_options(options: "dict[str, Any]", task: "TaskInfo", ctx: "RunContext") -> None:
    """Set runtime task options for ``Tasks/Create`` (and the IO owner of ``exec``).

    :param options: field name → value of ``containerd.runc.v1.Options``
        (``no_pivot_root``, ``io_uid``, ``io_gid``, ...). When it ends up non-empty it is
        sent as the task's options, which replace the record's runtime options for this
        task (as in ctr). ``io_uid``/``io_gid`` also set the owner of the IO FIFOs.
    :param task: ``container_id``, ``record`` (the stored container) and ``exec_id`` (set
        for ``exec``, where only ``io_uid``/``io_gid`` are used); no pid yet.
    """


@hookspec
def runcore_task_created(task: "TaskInfo", ctx: "RunContext") -> None:
    """React after ``Tasks/Create`` and before ``Tasks/Start`` (network setup, pid files).

    :param task: ``container_id``, ``pid`` (the task's init process; its network
        namespace is ``/proc/<pid>/ns/net``) and ``record`` (the stored container).

    Raising stops the run; the task and (with ``--rm``) the container are removed, and
    :func:`runcore_task_deleted` is still called so partial work can be undone.
    """


@hookspec
def runcore_task_deleted(task: "TaskInfo", ctx: "CommandContext") -> None:
    """React after the task was deleted (foreground exit, failure cleanup or ``runcore rm``).

    :param task: ``container_id``, ``pid`` (may be 0 when unknown) and ``record`` (the
        container record as stored, so a plugin can find its extension).
    :param ctx: the :class:`~runcore.context.RunContext` of the ``run`` that made the
        task, or, for ``runcore rm``, a :class:`~runcore.context.CommandContext` (namespace,
        client, no options).

    Must be idempotent and must not raise for "already gone"; errors are reported as
    warnings, the next plugin is still called, and the exit status does not change.
    """


# --------------------------------------------------------------------- exec
@hookspec
def runcore_exec_process(process: "dict[str, Any]", task: "TaskInfo", ctx: "RunContext") -> None:
    """Adjust the OCI process of ``runcore exec`` before ``Tasks/Exec``.

    :param process: the ``process`` object of the runtime spec (``args``, ``env``,
        ``cwd``, ``user``, ``capabilities``, ``apparmorProfile``, ``terminal`` …), derived
        from the container's stored spec as ``ctr tasks exec`` derives it, with the
        command, ``--user``, ``--cwd`` and ``--env`` already applied. Change it in place.
    :param task: ``container_id``, ``pid`` of the task, ``exec_id`` and ``record``.

    Raise :class:`runcore.errors.UsageError` to refuse the exec; nothing is created yet.
    """
