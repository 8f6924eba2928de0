"""runcore plugin ``apparmor``: ctr's ``--apparmor-default-profile`` and ``--apparmor-profile``.

Hooks:

* ``runcore_add_options`` – the two flags, as in ctr 1.7;
* ``runcore_configure`` – before anything is created: the two flags together are refused
  with ctr's message; for the default profile, a name that cannot be put into the profile
  text is refused, and so is a host whose kernel does not list AppArmor profiles (ctr fails
  there too, with ``open /sys/kernel/security/apparmor/profiles: ...``, but only while
  building the spec);
* ``runcore_spec_security`` – for the default profile, loads it when the kernel does not
  list it yet (``run``/``create`` only; ``spec`` loads nothing), then sets
  ``process.apparmorProfile``.

With ``--config`` ctr ignores every spec flag, these included; so does this plugin.
"""

from __future__ import annotations

import re

from runcore.api import OptionRegistrar, RunContext, RuncoreError, SpecEditor, UsageError, hookimpl

__version__ = "0.1.0"

PLUGIN = "apparmor"

#: Characters that would change the meaning of the rendered profile text.
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f{}(),#\"]")


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add(
        "--apparmor-default-profile",
        metavar="NAME",
        help="Enable AppArmor with the default profile with the specified name, "
        'e.g. "cri-containerd.apparmor.d".',
    )
    registrar.add(
        "--apparmor-profile",
        metavar="NAME",
        help="Enable AppArmor with an existing custom profile.",
    )


def _ignored(ctx: RunContext) -> bool:
    """ctr ignores the spec flags when the spec comes from ``--config``."""
    return ctx.uses_config_file


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    if _ignored(ctx):
        return
    default = ctx.opt("apparmor_default_profile", "")
    custom = ctx.opt("apparmor_profile", "")
    if custom and default:
        raise UsageError("apparmor-profile conflicts with apparmor-default-profile")
    if not default:
        return
    bad = _UNSAFE.search(default)
    if bad:
        raise UsageError(
            f"--apparmor-default-profile {default!r}: a profile name may not contain "
            f"{bad.group()!r} (it is written into the profile text)"
        )
    from runcore_apparmor import loader

    reason = loader.unavailable_reason()
    if reason:
        raise UsageError(
            f"--apparmor-default-profile {default}: AppArmor is not enabled on this host, "
            f"the kernel does not list its profiles ({reason})"
        )


@hookimpl
def runcore_spec_security(spec: SpecEditor, ctx: RunContext) -> None:
    if _ignored(ctx):
        return
    default = ctx.opt("apparmor_default_profile", "")
    custom = ctx.opt("apparmor_profile", "")
    if default:
        if ctx.command != "spec":
            from runcore_apparmor import loader

            try:
                loader.ensure_loaded(default)
            except loader.AppArmorError as exc:
                raise RuncoreError(f"--apparmor-default-profile {default}: {exc}") from None
        spec.set("process.apparmorProfile", default)
    elif custom:
        spec.set("process.apparmorProfile", custom)
