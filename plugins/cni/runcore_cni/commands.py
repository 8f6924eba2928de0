"""``runcore cni``: look at the default network and CHECK a running container's."""

from __future__ import annotations

import json
from typing import Any

import click

from runcore.api import ExitStatus, NotFound, RuncoreError

from runcore_cni import config


def _dirs_options(function: Any) -> Any:
    function = click.option(
        "--cni-bin-dir",
        envvar=config.BIN_DIR_ENV,
        default=config.DEFAULT_BIN_DIR,
        show_default=True,
        metavar="DIR[:DIR...]",
        help="Where the CNI plugins are.",
    )(function)
    function = click.option(
        "--cni-conf-dir",
        envvar=config.CONF_DIR_ENV,
        default=config.DEFAULT_CONF_DIR,
        show_default=True,
        metavar="DIR",
        help="Where the network configuration is.",
    )(function)
    return function


@click.group("cni", context_settings={"help_option_names": ["-h", "--help"]})
def cni_group() -> None:
    """The CNI networking of --cni: default network, CHECK."""


@cni_group.command("config")
@_dirs_options
@click.option("--json", "as_json", is_flag=True, help="Print the network list as JSON.")
def config_command(cni_conf_dir: str, cni_bin_dir: str, as_json: bool) -> None:
    """Show the network 'run --cni' would use and where its plugins are."""
    bin_dirs = config.split_dirs(cni_bin_dir) or [config.DEFAULT_BIN_DIR]
    try:
        network = config.load_default(cni_conf_dir)
    except config.ConfigError as exc:
        raise RuncoreError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(network.to_json(), indent=2))
        return
    click.echo(f"file:       {network.path}")
    click.echo(f"network:    {network.name}")
    click.echo(f"cniVersion: {network.cni_version or '(none: 0.1.0)'}")
    missing = 0
    kinds = []
    for plugin in network.plugins:
        kinds.append(plugin["type"])
        ipam = config.ipam_type(plugin)
        if ipam:
            kinds.append(ipam)
    for kind in dict.fromkeys(kinds):
        try:
            where = config.find_plugin(kind, bin_dirs)
        except config.ConfigError as exc:
            where = f"MISSING ({exc})"
            missing += 1
        click.echo(f"plugin:     {kind:<12} {where}")
    if missing:
        raise ExitStatus(1)


@cni_group.command("check")
@click.argument("container_id")
def check_command(container_id: str) -> None:
    """Run the plugins' CHECK for a running container's network."""
    from runcore.api import global_options

    from runcore_cni import cache, cni_id
    from runcore_cni.network import IFNAME, from_cache_entry

    globals_ = global_options(click.get_current_context())
    identifier = cni_id(globals_.namespace, container_id)
    entries = cache.find(cache.cache_dir(), identifier, IFNAME)
    if not entries:
        raise RuncoreError(
            f"container {container_id!r} has no CNI network set up by runcore "
            f"(no cached result for {identifier} in {cache.cache_dir()})"
        )
    client = globals_.client()
    try:
        process = client.tasks.Get(container_id=container_id).process
    except NotFound:
        raise RuncoreError(f"container {container_id!r} has no task") from None
    if not process.pid:
        raise RuncoreError(f"the task of {container_id!r} has no process")
    for entry in entries:
        try:
            attachment = from_cache_entry(entry, netns=f"/proc/{process.pid}/ns/net")
        except config.ConfigError as exc:
            raise RuncoreError(f"cached network ({entry['_path']}): {exc}") from None
        attachment.check(entry.get("result") or {})
        click.echo(f"{container_id}: network {attachment.network.name!r} ok")
