"""runcore plugin ``seccomp``: ctr's ``--seccomp`` and ``--seccomp-profile FILE``.

Hooks:

* ``runcore_add_options`` – the two flags, named and described as in ctr 1.7;
* ``runcore_configure`` – ctr's check (a profile file needs ``--seccomp``) and the whole
  profile file read, decoded and checked before anything is created;
* ``runcore_spec_security`` – ``linux.seccomp``: the file's profile, or containerd's
  default profile computed from the final bounding capabilities.

With ``--config`` ctr ignores every spec flag, these included; so does this plugin.
Importing this module is cheap: the profile modules are imported inside the hooks.
"""

from __future__ import annotations

from typing import Any, Dict

from runcore.api import (
    OptionRegistrar,
    RunContext,
    SpecEditor,
    StashKey,
    UsageError,
    hookimpl,
    warn,
)

__version__ = "0.1.0"

PLUGIN = "seccomp"
#: The ``--seccomp-profile`` profile, read while configuring.
PROFILE = StashKey[Dict[str, Any]]()


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add("--seccomp", is_flag=True, help="Enable the default seccomp profile.")
    registrar.add(
        "--seccomp-profile",
        metavar="FILE",
        help="File path to custom seccomp profile. seccomp must be set to true, "
        "before using seccomp-profile.",
    )


def _ignored(ctx: RunContext) -> bool:
    """ctr ignores the spec flags when the spec comes from ``--config``."""
    return ctx.uses_config_file


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    if _ignored(ctx):
        return
    path = ctx.opt("seccomp_profile", "")
    if path and not ctx.opt("seccomp"):
        raise UsageError("seccomp must be set to true, if using a custom seccomp-profile")
    if not (ctx.opt("seccomp") and path):
        return
    from runcore_seccomp.convert import ProfileError, load_profile, quote

    try:
        profile, docker_keys = load_profile(path)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    if docker_keys:
        warn(
            f"seccomp profile {quote(path)}: {', '.join(docker_keys)} ignored (Docker "
            "profile keys; the file is read as an OCI LinuxSeccomp, as ctr does)"
        )
    ctx.stash[PROFILE] = profile


@hookimpl
def runcore_spec_security(spec: SpecEditor, ctx: RunContext) -> None:
    if _ignored(ctx) or not ctx.opt("seccomp"):
        return
    profile = ctx.stash.get(PROFILE, None)
    if profile is None:
        from runcore_seccomp.profile import default_profile

        profile = default_profile(spec.get("process.capabilities.bounding"))
    spec.set("linux.seccomp", profile)
