"""``runcore pull``, ``runcore login`` and ``runcore logout``."""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any, Optional, Tuple

import click

from runcore.api import GoInt, UsageError, global_options

if TYPE_CHECKING:  # pragma: no cover - credentials (subprocess, base64) load on use
    from .credentials import Credentials


def _split_user(text: str) -> Tuple[str, Optional[str]]:
    user, sep, password = text.partition(":")
    return user, (password if sep and password else None)


def _ask_password(prompt: str = "Password: ") -> str:
    import getpass

    try:
        with open("/dev/tty", "r+") as tty:
            tty.close()
    except OSError:
        raise UsageError(
            "a password is needed and there is no terminal to ask for it "
            "(give USER:PASSWORD, or use --password-stdin with login)"
        ) from None
    return getpass.getpass(prompt)


def run_pull(
    client: Any,
    ref: Any,
    opts: Any,
    stream: IO[str],
    quiet: bool,
    user: Optional[Tuple[str, str]] = None,
) -> Any:
    """Pull ``ref`` (a :class:`~.names.RemoteRef`) with progress on ``stream``."""
    from . import credentials as credmod
    from .progress import reporter
    from .pull import Puller

    given = credmod.Credentials(*user) if user else None

    def creds(host: str) -> Optional["Credentials"]:
        return given if given is not None else credmod.lookup(host)

    report = reporter(stream, quiet)
    ok = False
    try:
        result = Puller(client, ref, opts, report, creds).run()
        ok = True
        return result
    finally:
        report.close(ok)


@click.command("pull")
@click.argument("ref", metavar="REF")
@click.option(
    "--platform",
    "platform_",
    multiple=True,
    metavar="PLATFORM",
    help="Pull content for this platform (repeatable; default: this host's).",
)
@click.option("--all-platforms", is_flag=True, help="Pull content and metadata for all platforms.")
@click.option(
    "--snapshotter",
    envvar="CONTAINERD_SNAPSHOTTER",
    default="",
    show_envvar=True,
    help="Snapshotter to unpack into; empty: the namespace default, else overlayfs.",
)
@click.option("--no-unpack", is_flag=True, help="Fetch the content only; do not unpack it.")
@click.option(
    "--user",
    "-u",
    default="",
    metavar="USER[:PASSWORD]",
    help="Credentials for the registry (default: docker's config.json).",
)
@click.option("--plain-http", is_flag=True, help="Use plain HTTP for the registry.")
@click.option(
    "--hosts-dir",
    multiple=True,
    metavar="DIR",
    help="Registry host configuration directory (hosts.toml); repeatable. Default: "
    "$RUNCORE_HOSTS_DIR (colon-separated), else /etc/containerd/certs.d, then "
    "/etc/docker/certs.d.",
)
@click.option(
    "--skip-verify", "-k", is_flag=True, help="Do not verify the registry's TLS certificate."
)
@click.option(
    "--max-concurrent-downloads",
    type=GoInt("int"),
    default=0,
    help="Fetch at most N blobs at once (0 or less: up to 16).",
)
@click.option(
    "--label", multiple=True, metavar="KEY=VALUE", help="Label for the image record (repeatable)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def pull_command(
    ref: str,
    platform_: Tuple[str, ...],
    all_platforms: bool,
    snapshotter: str,
    no_unpack: bool,
    user: str,
    plain_http: bool,
    hosts_dir: Tuple[str, ...],
    skip_verify: bool,
    max_concurrent_downloads: int,
    label: Tuple[str, ...],
    quiet: bool,
) -> None:
    """Pull an image from a registry into the namespace, as 'ctr images pull' stores it.

    Short names are normalized as docker does (busybox -> docker.io/library/busybox:latest).
    """
    from runcore.api import parse_key_values, platforms

    from . import names
    from .pull import PullOptions

    for p in platform_:
        platforms.parse(p)
    parsed = names.parse(ref)
    creds = None
    if user:
        name, password = _split_user(user)
        if not name:
            raise UsageError("--user needs a user name")
        creds = (name, password if password is not None else _ask_password())
    opts = PullOptions(
        platforms=list(platform_),
        all_platforms=all_platforms,
        snapshotter=snapshotter,
        unpack=not no_unpack,
        plain_http=plain_http,
        skip_verify=skip_verify,
        hosts_dirs=list(hosts_dir) or None,
        max_concurrent=max_concurrent_downloads,
        labels=parse_key_values(label),
    )
    client = global_options(click.get_current_context()).client()
    result = run_pull(client, parsed, opts, sys.stdout, quiet, creds)
    if not quiet:
        click.echo(f"{result.name}: {result.target['digest']}")


def _server_host(server: str) -> str:
    from . import names

    s = server
    if "://" in s:
        s = s.split("://", 1)[1]
    s = s.split("/", 1)[0]
    if not s:
        raise UsageError("a registry server name is needed")
    if s in ("index.docker.io", "registry-1.docker.io"):
        return "docker.io"
    names.is_qualified(s + "/x")
    return s


@click.command("login")
@click.argument("server", required=False, default="docker.io", metavar="[SERVER]")
@click.option("--username", "-u", default="", help="User name.")
@click.option("--password", "-p", default="", help="Password (prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--plain-http", is_flag=True, help="Use plain HTTP to check the credentials.")
@click.option(
    "--hosts-dir", multiple=True, metavar="DIR", help="Registry host configuration directory."
)
@click.option(
    "--skip-verify", "-k", is_flag=True, help="Do not verify the registry's TLS certificate."
)
def login_command(
    server: str,
    username: str,
    password: str,
    password_stdin: bool,
    plain_http: bool,
    hosts_dir: Tuple[str, ...],
    skip_verify: bool,
) -> None:
    """Check credentials against a registry and save them in docker's config.json."""
    from . import credentials as credmod
    from . import hosts as hostsmod
    from .names import RemoteRef
    from .remote import Remote

    host = _server_host(server)
    if password_stdin:
        if password:
            raise UsageError("--password and --password-stdin are mutually exclusive")
        password = sys.stdin.read().rstrip("\r\n")
    if not username:
        if not os.isatty(0):
            raise UsageError("a user name is needed (--username)")
        username = click.prompt("Username")
    if not password:
        password = _ask_password()
    creds = credmod.Credentials(username, password)
    ref = RemoteRef(name=host, host=host, repository="", tag="", digest="")
    eps = hostsmod.endpoints(
        host, hosts_dirs=list(hosts_dir) or None, plain_http=plain_http, skip_verify=skip_verify
    )
    remote = Remote(ref, eps, lambda _h: creds)
    remote.auth.scope = ""
    try:
        remote.ping()
    finally:
        remote.close()
    where = credmod.store(host, creds)
    click.echo(f"Login Succeeded (credentials saved in {where})")


@click.command("logout")
@click.argument("server", required=False, default="docker.io", metavar="[SERVER]")
def logout_command(server: str) -> None:
    """Remove the saved credentials of a registry from docker's config.json."""
    from . import credentials as credmod

    host = _server_host(server)
    if credmod.erase(host):
        click.echo(f"Removing login credentials for {host}")
    else:
        click.echo(f"Not logged in to {host}")
