"""runcore-hello: a template plugin.

``--hello-greeting TEXT`` puts TEXT into the annotation ``org.example.hello/greeting`` and
the environment variable ``HELLO_GREETING`` of the container's process.

Keep module import cheap: runcore imports every enabled plugin to build its command line.
Import anything heavy inside the hook functions.
"""

from __future__ import annotations

from runcore.api import OptionRegistrar, RunContext, SpecEditor, UsageError, hookimpl

ANNOTATION = "org.example.hello/greeting"


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    """One option for run, create and spec; third-party flags start with --<plugin id>-."""
    registrar.add(
        "--hello-greeting",
        default="",
        metavar="TEXT",
        help="Greeting stored in an annotation and in $HELLO_GREETING.",
    )


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    """Validate before anything is created: raise UsageError with one clear line."""
    if "\n" in ctx.opt("hello_greeting", ""):
        raise UsageError("--hello-greeting must be a single line")


@hookimpl
def runcore_spec_process(spec: SpecEditor, ctx: RunContext) -> None:
    """Phase 1 (process): add the environment variable after the image's environment."""
    greeting = ctx.opt("hello_greeting", "")
    if greeting:
        spec.append("process.env", f"HELLO_GREETING={greeting}")


@hookimpl
def runcore_spec_finish(spec: SpecEditor, ctx: RunContext) -> None:
    """Phase 7 (finish): annotate the spec."""
    greeting = ctx.opt("hello_greeting", "")
    if greeting:
        spec.set(("annotations", ANNOTATION), greeting)
