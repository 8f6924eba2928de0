"""``runcore images``: import archives, list and remove images (like ``ctr images``).

grpc is imported only inside the command functions (through the client).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from typing import IO, Any, Dict, Optional

import click

from runcore import errors
from runcore.cli.common import global_options


@click.group("images", help="Manage images: import archives, list, remove.")
def images() -> None:
    pass


def _open_source(path: str) -> tuple[IO[bytes], str, Optional[int]]:
    if path == "-":
        return sys.stdin.buffer, "stdin", None
    try:
        f = open(path, "rb")
    except OSError as exc:
        from runcore.gocompat import path_error

        raise errors.UsageError(path_error("open", path, exc)) from None
    st = os.fstat(f.fileno())
    return f, path, st.st_size if stat.S_ISREG(st.st_mode) else None


@images.command("import")
@click.argument("file", metavar="FILE|-")
@click.option(
    "--snapshotter",
    envvar="CONTAINERD_SNAPSHOTTER",
    default="",
    show_envvar=True,
    help="Snapshotter name. Empty value stands for the default value.",
)
@click.option("--no-unpack", is_flag=True, help="Skip unpacking the images.")
@click.option(
    "--index-name",
    default="",
    metavar="NAME",
    help="Image name to keep the index as (by default the index is discarded).",
)
@click.option(
    "--base-name",
    default="",
    metavar="NAME",
    help="Base image name for added images; when given only images with this "
    "name prefix are imported.",
)
@click.option("--digests", is_flag=True, help="Also create digest images (<base>@<digest>).")
@click.option(
    "--skip-digest-for-named",
    is_flag=True,
    help="Skip --digests for images named in the archive (use with --digests).",
)
@click.option(
    "--platform",
    default="",
    metavar="PLATFORM",
    help="Import content for this platform only (e.g. linux/arm64).",
)
@click.option("--all-platforms", is_flag=True, help="Import content for all platforms.")
def import_command(
    file: str,
    snapshotter: str,
    no_unpack: bool,
    index_name: str,
    base_name: str,
    digests: bool,
    skip_digest_for_named: bool,
    platform: str,
    all_platforms: bool,
) -> None:
    """Import images from an OCI image-layout or `docker save` archive (FILE or - for stdin).

    Tag-only OCI reference names get the base name prefixed ("<base>:<tag>"); without
    --base-name the base is "import-<yyyy-MM-dd>". Docker archives are named from
    manifest.json's RepoTags, normalised (docker.io/library/...).
    """
    from runcore.images import ImportOptions, import_archive
    from runcore.images.platforms import parse
    from runcore.images.progress import Progress

    if skip_digest_for_named and not digests:
        raise errors.UsageError("--skip-digest-for-named must be specified with --digests option")
    if platform:
        parse(platform)
    opts = ImportOptions(
        base_name=base_name,
        index_name=index_name,
        digests=digests,
        skip_digest_for_named=skip_digest_for_named,
        platform=platform,
        all_platforms=all_platforms,
        no_unpack=no_unpack,
        snapshotter=snapshotter,
    )
    source, name, total = _open_source(file)
    options = global_options(click.get_current_context())
    client = options.client()
    # the window a containerd restart is waited out (as for task commands)
    client.reconnect_window = options.connect_timeout or None
    bar = Progress(f"importing {os.path.basename(name)}", total)

    def rewind() -> None:  # a containerd restart: the import starts over
        source.seek(0)
        bar.done = 0

    try:
        import_archive(
            client,
            source,
            opts,
            name=name,
            progress=bar,
            rewind=rewind if total is not None else None,
        )
    finally:
        bar.close()
        if source is not sys.stdin.buffer:
            source.close()


class _ReadOnce:
    """A read-only content store that reads each blob once per command: images share
    manifests and configs (tags of one image), and size and platforms read the same
    documents (content is addressed by digest, so a blob cannot change meanwhile)."""

    def __init__(self, client: Any) -> None:
        from runcore.images.store import ClientStore

        self._store = ClientStore(client)
        self._blobs: Dict[str, bytes] = {}

    def read(self, digest: str) -> bytes:
        if digest not in self._blobs:
            self._blobs[digest] = self._store.read(digest)
        return self._blobs[digest]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@images.command("ls")
@click.argument("filters", nargs=-1, metavar="[FILTER]...")
@click.option("-q", "--quiet", is_flag=True, help="Print only the image names.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def ls_command(filters: tuple[str, ...], quiet: bool, as_json: bool) -> None:
    """List images (name, type, digest, size, platforms, labels), like 'ctr images ls'."""
    from runcore.images.manifests import image_platforms, image_size
    from runcore.images.platforms import format_platform, only
    from runcore.images.progress import human_bytes
    from runcore.images.unpack import descriptor_from_pb

    client = global_options(click.get_current_context()).client()
    try:
        records = client.images.List(filters=list(filters)).images
    except errors.ContainerdError as exc:
        raise type(exc)(f"failed to list images: {exc}") from None
    if quiet:
        for rec in records:
            click.echo(rec.name)
        return
    store = _ReadOnce(client)
    rows = []
    for rec in records:
        target = descriptor_from_pb(rec.target)
        size: Optional[int]
        try:
            size = image_size(store, target, only())
        except errors.RuncoreError as exc:
            click.echo(f"runcore: failed calculating size for image {rec.name}: {exc}", err=True)
            size = None
        try:
            platforms = sorted({format_platform(p) for p in image_platforms(store, target)})
        except errors.RuncoreError as exc:
            click.echo(f"runcore: failed resolving platform for image {rec.name}: {exc}", err=True)
            platforms = []
        rows.append(
            {
                "name": rec.name,
                "type": rec.target.media_type,
                "digest": rec.target.digest,
                "size": size,
                "platforms": platforms,
                "labels": dict(sorted(rec.labels.items())),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = [["REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"]]
    for row in rows:
        labels = ",".join(f"{k}={v}" for k, v in row["labels"].items()) or "-"
        table.append(
            [
                row["name"],
                row["type"],
                row["digest"],
                human_bytes(row["size"] or 0),
                ",".join(row["platforms"]) or "-",
                labels,
            ]
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        click.echo(" ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())


@click.command("rm")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@click.option("--sync", is_flag=True, help="Remove synchronously (wait for garbage collection).")
def rm_command(names: tuple[str, ...], sync: bool) -> None:
    """Remove images by name; a missing image is reported and skipped."""
    client = global_options(click.get_current_context()).client()
    first_error: Optional[errors.RuncoreError] = None
    for i, name in enumerate(names):
        try:
            client.images.Delete(name=name, sync=sync and i == len(names) - 1)
        except errors.NotFound:
            click.echo(f"runcore: {name}: image not found", err=True)
            continue
        except errors.ContainerdError as exc:
            click.echo(f"runcore: unable to delete {name}: {exc}", err=True)
            first_error = first_error or type(exc)(f"unable to delete {name}: {exc}")
            continue
        click.echo(name)
    if first_error is not None:
        raise first_error


images.add_command(rm_command, "rm")
for _alias in ("remove", "delete", "del"):
    images.add_command(
        click.Command(
            _alias,
            callback=rm_command.callback,
            params=rm_command.params,
            help="Alias of 'rm'.",
            hidden=True,
        ),
        _alias,
    )
