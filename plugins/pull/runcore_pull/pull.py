"""Pull an image into containerd as ``ctr images pull`` stores it.

Inside one lease (24 h expiry, as ctr's): resolve the reference; walk the content level by
level from the target (index → manifests for the wanted platforms → config and layers),
each level's blobs fetched concurrently; for each blob: stream it into the content store
(:func:`runcore.api.fetch_blob`: skipped when present, resumed when an ingest was left,
verified), then for an index or manifest the GC labels of all its children, then the
``containerd.io/distribution.source.<host>`` label. Then ``Images/Create`` (or a whole-record
``Images/Update``) and the core's unpack for each platform.
"""

from __future__ import annotations

import contextvars
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from runcore.api import (
    AlreadyExists,
    ClientStore,
    ContainerdError,
    ImageError,
    NotFound,
    fetch_blob,
    image_platforms,
    inspect_image,
    mediatypes,
    platforms,
    unpack_image,
    validate_media_type,
)

from . import hosts as hostsmod
from .credentials import Credentials
from .names import RemoteRef
from .progress import Reporter
from .remote import MT_DOCKER_LIST, MT_OCI_INDEX, SCHEMA1, Remote

_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
ANN_REF_NAME = "org.opencontainers.image.ref.name"
#: containerd skips a label whose key plus value is longer than this.
MAX_LABEL = 4096
#: Concurrent fetches when --max-concurrent-downloads is not given (ctr: unlimited).
DEFAULT_CONCURRENCY = 16


@dataclass
class PullOptions:
    platforms: Sequence[str] = ()
    all_platforms: bool = False
    snapshotter: str = ""
    unpack: bool = True
    plain_http: bool = False
    skip_verify: bool = False
    hosts_dirs: Optional[Sequence[str]] = None
    max_concurrent: int = 0
    labels: Dict[str, str] = field(default_factory=dict)


@dataclass
class PullResult:
    name: str
    target: Dict[str, Any]
    fetched: int  # blobs fetched by this pull


def ingest_ref(desc: Dict[str, Any]) -> str:
    """containerd's ``remotes.MakeRefKey``: ``<kind>-[<ref name>@]<digest>``."""
    key = desc["digest"]
    name = (desc.get("annotations") or {}).get(ANN_REF_NAME)
    if name:
        key = f"{name}@{key}"
    media_type = desc.get("mediaType", "")
    if mediatypes.is_index(media_type):
        return f"index-{key}"
    if mediatypes.is_manifest(media_type) or media_type in SCHEMA1:
        return f"manifest-{key}"
    if mediatypes.is_layer(media_type):
        return f"layer-{key}"
    if mediatypes.is_known_config(media_type):
        return f"config-{key}"
    return f"unknown-{key}"


def check_descriptor(obj: Any, where: str) -> Dict[str, Any]:
    """A descriptor from a registry document, checked (one-line ImageError otherwise)."""
    if not isinstance(obj, dict):
        raise ImageError(f"{where}: descriptor is not a JSON object")
    media_type = obj.get("mediaType", "")
    digest, size = obj.get("digest"), obj.get("size")
    if not isinstance(media_type, str):
        raise ImageError(f"{where}: descriptor mediaType is not a string")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ImageError(f"{where}: invalid or unsupported digest {str(digest)[:80]!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0 or size > (1 << 50):
        raise ImageError(f"{where}: invalid size {str(size)[:40]!r} for {digest}")
    annotations = obj.get("annotations")
    if annotations is not None and (
        not isinstance(annotations, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in annotations.items())
    ):
        raise ImageError(f"{where}: annotations of {digest} are not a map of strings")
    plat = obj.get("platform")
    if plat is not None and (
        not isinstance(plat, dict)
        or not all(
            isinstance(plat.get(k, ""), str)
            for k in ("os", "architecture", "variant", "os.version")
        )
        or not isinstance(plat.get("os.features") or [], list)
        or not all(isinstance(f, str) for f in plat.get("os.features") or [])
    ):
        raise ImageError(f"{where}: platform of {digest} is not valid")
    out: Dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": size}
    if annotations:
        out["annotations"] = dict(annotations)
    if plat is not None:
        out["platform"] = plat
    return out


def _document(data: bytes, desc: Dict[str, Any]) -> Dict[str, Any]:
    media_type = desc["mediaType"]
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{media_type} {desc['digest']}: invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ImageError(f"pull: invalid desc {desc['digest']}: not a JSON object")
    if doc.get("schemaVersion") == 1:
        raise ImageError(f"{desc['digest']}: schema 1 manifests are not supported")
    validate_media_type(data, media_type, desc["digest"], "pull")
    return doc


def children_of(data: bytes, desc: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The checked child descriptors of an index or manifest document."""
    doc = _document(data, desc)
    where = f"{desc['mediaType']} {desc['digest']}"
    if mediatypes.is_index(desc["mediaType"]):
        entries = doc.get("manifests") or []
        if not isinstance(entries, list):
            raise ImageError(f"{where}: manifests is not a list")
        return [check_descriptor(e, where) for e in entries]
    config = doc.get("config")
    layers = doc.get("layers") or []
    if config is None:
        raise ImageError(f"{where}: no config")
    if not isinstance(layers, list):
        raise ImageError(f"{where}: layers is not a list")
    return [check_descriptor(config, where)] + [check_descriptor(l, where) for l in layers]


class Puller:
    """One pull: a remote, a containerd client, options, a progress reporter."""

    def __init__(
        self,
        client: Any,
        ref: RemoteRef,
        opts: PullOptions,
        report: Reporter,
        credentials: Callable[[str], Optional[Credentials]],
    ) -> None:
        self.client = client
        self.ref = ref
        self.opts = opts
        self.report = report
        self.store = _DocumentCache(client)
        endpoints = hostsmod.endpoints(
            ref.host,
            hosts_dirs=opts.hosts_dirs,
            plain_http=opts.plain_http,
            skip_verify=opts.skip_verify,
        )
        self.remote = Remote(ref, endpoints, credentials)
        self.fetched = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        #: labels of each blob the walk visited, as they are after its updates
        self._labels: Dict[str, Dict[str, str]] = {}
        #: one event per blob of the walk, set once it is committed and labelled
        self._done: Dict[str, threading.Event] = {}
        self._walked = threading.Event()
        self._early: Optional[_EarlyUnpack] = None
        if opts.all_platforms:
            self.matcher: Any = None
        else:
            wanted = [platforms.parse(p) for p in opts.platforms] or [platforms.default_platform()]
            self.matcher = platforms.Ordered(wanted)
        self.wanted = list(opts.platforms)

    # ----------------------------------------------------------------- per blob

    def _handle(self, desc: Dict[str, Any]) -> List[Dict[str, Any]]:
        media_type, digest, size = desc["mediaType"], desc["digest"], desc["size"]
        if media_type in SCHEMA1:
            raise ImageError(f"{digest}: schema 1 manifests ({media_type}) are not supported")
        if size == 0:
            raise ImageError(
                f"unable to fetch descriptor ({digest}) which reports content size of zero"
            )
        key = ingest_ref(desc)
        started = [False]

        def opener(offset: int) -> Any:
            started[0] = True
            self.report.blob_started(key, size)
            for block in self.remote.open_blob(desc, offset):
                if self._stop.is_set():  # the pull was interrupted: the ingest is aborted
                    raise ImageError(f"{key}: interrupted")
                yield block

        try:
            # layers are hashed by containerd alone (it refuses a commit with another
            # digest); documents are small, hashed here too
            fetched = fetch_blob(
                self.client,
                key,
                opener,
                digest,
                size,
                progress=lambda n: self.report.advance(key, n),
                local_hash=not mediatypes.is_layer(media_type),
                window=8,
            )
        except ImageError as exc:
            raise ImageError(f"failed to fetch {key}: {exc}") from None
        if fetched:
            self.fetched += 1
        self.report.blob_done(key, size, fetched and started[0])
        kids: List[Dict[str, Any]] = []
        wanted: Dict[str, str] = {}
        if mediatypes.is_index(media_type) or mediatypes.is_manifest(media_type):
            data = self.store.read(digest)
            kids = children_of(data, desc)
            wanted.update(mediatypes.children_labels(kids))
            if mediatypes.is_index(media_type) and self.matcher is not None:
                kids = [k for k in kids if _platform_ok(k, self.matcher)]
        self._set_labels(digest, wanted)
        self._event(digest).set()
        return kids

    def _event(self, digest: str) -> threading.Event:
        with self._lock:
            return self._done.setdefault(digest, threading.Event())

    def wait_blob(self, digest: str) -> None:
        """Return once the walk committed ``digest`` or ended without it (then reading it
        fails as it would after the walk); raise if the walk stopped."""
        event = self._event(digest)
        while not event.wait(0.05):
            if self._stop.is_set():
                raise ImageError(f"{digest}: the pull stopped")
            if self._walked.is_set():
                return

    def _set_labels(self, digest: str, wanted: Dict[str, str]) -> None:
        """Set ``wanted`` and the distribution-source label, in one ``Content/Update``.

        ctr sends the GC labels of a document's children and the source label as two
        updates, each even when nothing changes; a label that already has its value is not
        sent again here, so a re-pull makes no metadata writes for them (the labels stored
        are the same).
        """
        key = self.ref.source_label
        _, labels = self.store.info(digest)
        repos = set(filter(None, (labels.get(key) or "").split(",")))
        repos.add(self.ref.repository)
        value = ",".join(sorted(repos))
        if len(key) + len(value) <= MAX_LABEL:
            wanted = {**wanted, key: value}
        changed = {k: v for k, v in wanted.items() if labels.get(k) != v}
        if changed:
            self.store.set_labels(digest, changed)
            labels.update(changed)
        with self._lock:
            self._labels[digest] = labels

    # ----------------------------------------------------------------- the walk

    def _walk(self, target: Dict[str, Any]) -> None:
        workers = self.opts.max_concurrent if self.opts.max_concurrent > 0 else DEFAULT_CONCURRENCY
        level = [target]
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pull")
        try:
            while level:
                if self._early is None and self._can_unpack_early():
                    if any(mediatypes.is_layer(d["mediaType"]) for d in level):
                        self._early = _EarlyUnpack(self, target, level)
                futures = [
                    pool.submit(contextvars.copy_context().run, self._handle, d) for d in level
                ]
                nxt: List[Dict[str, Any]] = []
                error: Optional[BaseException] = None
                for fut in futures:
                    try:
                        nxt.extend(fut.result())
                    except Exception as exc:  # noqa: BLE001 - first error wins, the others stop
                        error = error or exc
                        self._stop.set()
                if error is not None:
                    raise error
                seen = set()
                level = []
                for d in nxt:
                    if d["digest"] not in seen:
                        seen.add(d["digest"])
                        level.append(d)
        except BaseException:
            self._stop.set()  # SIGTERM, Ctrl-C or an error: running fetches stop at their next block
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _store_record(self, target: Dict[str, Any]) -> None:
        pb = self.client.pb
        image = pb.images.Image(
            name=self.ref.name,
            labels=self.opts.labels,
            target=pb.descriptor.Descriptor(
                media_type=target["mediaType"], digest=target["digest"], size=target["size"]
            ),
        )
        for _ in range(3):
            try:
                self.client.images.Create(image=image)
                return
            except AlreadyExists:
                pass
            try:
                # ctr replaces the record even when it is the same; a re-pull here does not
                # write it again (the record stored is the same)
                old = self.client.images.Get(name=image.name).image
                if old.target == image.target and dict(old.labels) == dict(image.labels):
                    return
                self.client.images.Update(image=image)
                return
            except NotFound:
                continue

    def _unpack(self, target: Dict[str, Any], announce: bool = True) -> None:
        if self.opts.all_platforms:
            found = image_platforms(self.store, target)
            wanted: List[Any] = []
            for p in found:
                if p not in wanted:
                    wanted.append(p)
        else:
            wanted = [platforms.parse(p) for p in self.wanted] or [platforms.default_platform()]
        for p in wanted:
            if announce:
                self.report.line(f"unpacking {platforms.format_platform(p)} {target['digest']}...")
            info = inspect_image(
                self.store, self.ref.name, target, dict(self.opts.labels), platforms.only(p)
            )
            if not self._unpacked(info):
                unpack_image(self.client, info, self.opts.snapshotter or None)

    def _unpacked(self, info: Any) -> bool:
        """Whether the image's top snapshot exists; then only the config's GC label is set.

        ctr checks every layer's chain (``Snapshots/Stat``) and finds each when the top one
        exists (a committed snapshot keeps its parents), then sets the config's
        ``gc.ref.snapshot`` label: the same result as this one ``Stat``, and the label is
        not written again when it already has its value.
        """
        if len(info.diff_ids) != len(info.layers):
            return False  # unpack_image reports it
        sn = self.client.resolve_snapshotter(self.opts.snapshotter or None)
        try:
            self.client.snapshots.Stat(snapshotter=sn, key=info.chain_id)
        except NotFound:
            return False
        digest = info.config_desc["digest"]
        key = f"{mediatypes.LABEL_GC_SNAPSHOT}{sn}"
        with self._lock:
            labels = self._labels.get(digest)
        if labels is None:
            _, labels = self.store.info(digest)
        if labels.get(key) != info.chain_id:
            self.store.set_labels(digest, {key: info.chain_id})
        return True

    def _can_unpack_early(self) -> bool:
        """One platform to unpack (the default, or one --platform): it unpacks while the
        layers download, each as soon as it and the ones below are committed."""
        return self.opts.unpack and not self.opts.all_platforms and len(self.wanted) <= 1

    def run(self) -> PullResult:
        """Resolve, fetch, record and unpack; everything inside one lease."""
        try:
            with self.client.lease():
                target = self.remote.resolve()
                try:
                    self._walk(target)
                except BaseException:
                    if self._early is not None:
                        self._early.abandon()
                    raise
                self._walked.set()
                self._store_record(target)
                if self.opts.unpack:
                    if self._early is not None:
                        p = self._early.platform
                        self.report.line(
                            f"unpacking {platforms.format_platform(p)} {target['digest']}..."
                        )
                        self._early.finish()
                    else:
                        self._unpack(target)
            return PullResult(self.ref.name, target, self.fetched)
        finally:
            self.remote.close()


class _EarlyUnpack:
    """The unpack of one platform in a thread of its own, started when the walk reaches the
    layers: it waits for the configs of that level, resolves the image as the unpack after
    the walk would (:func:`inspect_image` with ``platforms.only``), and applies each layer
    once its blob is committed (the core's unpack, told to wait before each layer).

    What is stored is what the unpack after the walk stores: the same snapshots, the same
    ``uncompressed`` labels and config label. When the walk fails, the snapshots this
    unpack committed are removed again (ctr's failed fetch has made none)."""

    def __init__(self, puller: Puller, target: Dict[str, Any], level: List[Dict[str, Any]]):
        self.puller = puller
        self.target = target
        wanted = puller.wanted
        self.platform = platforms.parse(wanted[0]) if wanted else platforms.default_platform()
        self.configs = [d["digest"] for d in level if not mediatypes.is_layer(d["mediaType"])]
        self.created: List[str] = []  # chains this unpack committed
        self.error: Optional[BaseException] = None
        self.later = False
        self.sn = ""
        self.thread = threading.Thread(
            target=contextvars.copy_context().run, args=(self._run,), name="unpack", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        p = self.puller
        try:
            for digest in self.configs:
                p.wait_blob(digest)
            try:
                info = inspect_image(
                    p.store,
                    p.ref.name,
                    self.target,
                    dict(p.opts.labels),
                    platforms.only(self.platform),
                )
            except (ImageError, ContainerdError):  # e.g. a nested index not walked yet
                self.later = True  # the unpack after the walk does it (or reports it)
                return
            if p._unpacked(info):
                return
            self.sn = p.client.resolve_snapshotter(p.opts.snapshotter or None)
            layers = info.layers
            unpack_image(
                p.client,
                info,
                self.sn,
                before_apply=lambda i: p.wait_blob(layers[i]["digest"]),
                applied=self.created,
            )
        except BaseException as exc:  # noqa: BLE001 - reported by finish()
            self.error = exc

    def finish(self) -> None:
        """Wait for the unpack; its error, if any, is the pull's. Interrupted (SIGTERM,
        Ctrl-C), it stops the unpack at its next layer before going on. When the image could
        not be resolved before the walk ended, it is unpacked now, as without this class."""
        try:
            self.thread.join()
        except BaseException:
            self.puller._stop.set()
            self.thread.join()
            raise
        if self.error is not None:
            raise self.error
        if self.later:
            self.puller._unpack(self.target, announce=False)

    def abandon(self) -> None:
        """The walk failed: wait for the unpack to stop and remove what it committed."""
        self.puller._stop.set()
        self.thread.join()
        for chain in reversed(self.created):
            try:
                with self.puller.client.without_deadline():
                    self.puller.client.snapshots.Remove(snapshotter=self.sn, key=chain)
            except Exception:  # noqa: BLE001 - absent (never committed) or already gone
                pass


class _DocumentCache(ClientStore):
    """A :class:`ClientStore` that reads each document once (the walk reads an index or
    manifest, the unpack reads it again; blobs are immutable, so the bytes are the same)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self._read: Dict[str, bytes] = {}

    def read(self, digest: str) -> bytes:
        data = self._read.get(digest)
        if data is None:
            data = self._read[digest] = super().read(digest)
        return data


def _platform_ok(desc: Dict[str, Any], matcher: Any) -> bool:
    p = desc.get("platform")
    if not isinstance(p, dict):
        return True
    return bool(matcher.match(platforms.Platform.from_json(p)))


def is_index(media_type: str) -> bool:
    return media_type in (MT_OCI_INDEX, MT_DOCKER_LIST)
