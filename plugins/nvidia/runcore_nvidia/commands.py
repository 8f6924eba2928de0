"""``runcore devices``: the CDI devices found in the spec directories."""

from __future__ import annotations

import json
import os
from typing import Optional

import click

from runcore.api import warn

from ._cli import SPEC_DIRS_ENV


def _configured_dirs() -> Optional[str]:
    """The administrator's default (``[defaults] nvidia_cdi_spec_dirs``), if any."""
    try:
        from runcore.api import load_config

        value = load_config().defaults.get("nvidia_cdi_spec_dirs")
    except Exception:  # a broken configuration is reported by the commands that need it
        return None
    return value if isinstance(value, str) and value else None


@click.command(
    "devices",
    help="List the CDI devices found in the CDI spec directories (names to give to --device).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--spec-dirs",
    default=None,
    metavar="DIR[:DIR...]",
    help=f"CDI spec directories (default: ${SPEC_DIRS_ENV}, the configuration's "
    "nvidia_cdi_spec_dirs, or /etc/cdi:/var/run/cdi).",
)
def devices_command(as_json: bool, spec_dirs: Optional[str]) -> None:
    from .cdi.registry import Registry, spec_dirs_from

    value = spec_dirs or os.environ.get(SPEC_DIRS_ENV) or _configured_dirs()
    registry = Registry.load(spec_dirs_from(value))
    rows = []
    for dev in registry.all_devices():
        rows.append(
            {
                "name": dev.qualified,
                "kind": dev.spec.kind,
                "device": dev.name,
                "spec": dev.spec.path,
                "cdiVersion": dev.spec.raw["cdiVersion"],
                "annotations": dev.raw.get("annotations") or {},
            }
        )
    problems = [{"spec": b.path, "error": b.error} for b in registry.broken]
    problems += [{"spec": d, "error": "cannot read directory"} for d in registry.dir_errors]
    conflicts = [
        {"device": name, "specs": files} for name, files in sorted(registry.conflicts.items())
    ]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "specDirs": registry.dirs,
                    "devices": rows,
                    "errors": problems,
                    "conflicts": conflicts,
                },
                indent=2,
            )
        )
        return
    width = max([len("DEVICE")] + [len(r["name"]) for r in rows])
    click.echo(f"{'DEVICE'.ljust(width)}  SPEC FILE")
    for row in rows:
        click.echo(f"{row['name'].ljust(width)}  {row['spec']}")
    for problem in problems:
        warn(f"CDI spec {problem['spec']}: {problem['error']}")
    for conflict in conflicts:
        warn(
            f"CDI device {conflict['device']} is defined by more than one spec file "
            f"({', '.join(conflict['specs'])}) and cannot be used"
        )
