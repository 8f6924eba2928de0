"""runcore plugin ``nvidia``: ``--gpus`` as ctr 1.7, and CDI devices.

* ``--gpus N`` (repeatable) writes the prestart hook of containerd 1.7's
  ``contrib/nvidia``: ``containerd oci-hook -- nvidia-container-cli --load-kmods
  configure --device=N,... --compute ... {{rootfs}}`` with the process environment. Both
  programs are looked up on ``$PATH`` during configure, so a missing one stops the
  command before anything is created (ctr's error text).
* ``--nvidia-gpu-mode cdi`` (or the configuration default ``nvidia_gpu_mode = "cdi"``)
  resolves ``--gpus N`` as the CDI device ``nvidia.com/gpu=N`` instead, as containerd
  2.3 does.
* CDI names given to the core's ``--device`` (``vendor.com/class=name``, ``=all``) are
  resolved through :func:`runcore_resolve_device` from the spec directories
  (``--nvidia-cdi-spec-dirs``, ``RUNCORE_CDI_SPEC_DIRS``, configuration default
  ``nvidia_cdi_spec_dirs``; default ``/etc/cdi:/var/run/cdi``).
* ``runcore devices [--json]`` lists the CDI devices found.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from runcore.api import (
    CommandRegistrar,
    OptionRegistrar,
    RunContext,
    SpecEditor,
    StashKey,
    hookimpl,
)

PLUGIN = "nvidia"
#: The CDI session of this command (spec directories read once).
CDI_SESSION = StashKey[Any]()
#: ``--gpus`` in hook mode: ``{"paths": ..., "ids": [...]}``.
GPU_HOOK = StashKey[Dict[str, Any]]()
#: ``--gpus`` in CDI mode: one ``apply(spec)`` per GPU.
GPU_APPLIERS = StashKey[List[Callable[[SpecEditor], None]]]()


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    import click

    from runcore.api import GoInt

    from ._cli import DEFAULT_SPEC_DIRS_TEXT, GPU_MODES, SPEC_DIRS_ENV

    registrar.add(
        "--gpus",
        type=GoInt("int", base=10, func="Atoi"),
        multiple=True,
        metavar="ID",
        help="Add gpus to the container (repeatable).",
    )
    registrar.add(
        "--nvidia-gpu-mode",
        type=click.Choice(GPU_MODES),
        default="hook",
        show_default=True,
        help="How --gpus is done: 'hook' (nvidia-container-cli prestart hook, as ctr "
        "1.7) or 'cdi' (CDI devices nvidia.com/gpu=ID).",
    )
    registrar.add(
        "--nvidia-cdi-spec-dirs",
        envvar=SPEC_DIRS_ENV,
        default=DEFAULT_SPEC_DIRS_TEXT,
        show_default=True,
        metavar="DIR[:DIR...]",
        help=f"CDI spec directories, later ones taking priority (environment: {SPEC_DIRS_ENV}).",
    )


@hookimpl
def runcore_add_commands(registrar: CommandRegistrar) -> None:
    from .commands import devices_command

    registrar.add(devices_command)


def _session(ctx: RunContext) -> Any:
    from .cdi.registry import spec_dirs_from
    from .cdi.session import Session

    if CDI_SESSION not in ctx.stash:
        ctx.stash[CDI_SESSION] = Session(spec_dirs_from(ctx.opt("nvidia_cdi_spec_dirs")))
    return ctx.stash[CDI_SESSION]


@hookimpl
def runcore_resolve_device(value: str, ctx: RunContext) -> Optional[Any]:
    """Resolve a fully qualified CDI name given to ``--device``."""
    from .cdi import names

    if not names.is_qualified(value):
        return None
    from runcore.api import UsageError

    from .cdi.registry import CDIError

    try:
        return _session(ctx).request(value)
    except CDIError as exc:
        raise UsageError(str(exc)) from None


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    from runcore.api import UsageError

    ctx.stash.pop(GPU_HOOK, None)
    ctx.stash.pop(GPU_APPLIERS, None)
    if ctx.uses_config_file or not ctx.is_set("gpus"):
        return
    ids = list(ctx.opt("gpus", ()) or ())
    if ctx.opt("nvidia_gpu_mode", "hook") == "cdi":
        from .cdi.registry import CDIError

        appliers = []
        for gpu in ids:
            try:
                appliers.append(_session(ctx).request(f"nvidia.com/gpu={gpu}"))
            except CDIError as exc:
                raise UsageError(f"--gpus {gpu}: {exc}") from None
        ctx.stash[GPU_APPLIERS] = appliers
        return
    from .hook import lookup
    from .lookpath import LookPathError

    try:
        paths = lookup()
    except LookPathError as exc:
        raise UsageError(
            str(exc),
            hint="--gpus needs containerd and nvidia-container-cli "
            "(libnvidia-container) on PATH, or --nvidia-gpu-mode cdi",
        ) from None
    ctx.stash[GPU_HOOK] = {"paths": paths, "ids": ids}


@hookimpl
def runcore_spec_mounts(spec: SpecEditor, ctx: RunContext) -> None:
    hook = ctx.stash.get(GPU_HOOK, None)
    if hook is not None:
        from .hook import prestart_hook

        spec.append("hooks.prestart", prestart_hook(hook["paths"], hook["ids"]))
    for apply in ctx.stash.get(GPU_APPLIERS, []):
        apply(spec)
