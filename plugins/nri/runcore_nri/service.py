"""NRI's ``Plugin`` service: what runcore answers containerd, request by request.

Only ``CreateContainer`` does work: the container's spec as NRI shows it
(:mod:`runcore_nri.spec`) goes through the active plugin set's configure hooks, spec
phases and validation (``runcore.api.edit_spec``) with options from the pod's
annotations (:mod:`runcore_nri.options`); the difference becomes the adjustment
(:mod:`runcore_nri.adjust`). Every error is returned to containerd as an error status
whose message is one ``runcore: ...`` line, which CRI returns to the kubelet.

containerd calls plugins one request at a time and drops a plugin that does not answer
within its request timeout (``plugin_request_timeout``, 2 s by default) - and then
creates containers *without* it. So the plugin work runs in a worker thread with a
deadline shorter than the request's: a plugin that hangs or is very slow makes that
one container's creation fail (fail closed) and the connection, and every other
container, carry on.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Sequence, Tuple

from runcore_nri import ttrpc
from runcore_nri.adjust import diff, owners_from_changes, refusal, to_message
from runcore_nri.options import AnnotationOptions, OptionError, blockio_class
from runcore_nri.spec import spec_from_container

PLUGIN_SERVICE = "nri.pkg.api.v1alpha1.Plugin"
RUNTIME_SERVICE = "nri.pkg.api.v1alpha1.Runtime"

#: Events this plugin subscribes to: only CreateContainer (bit 1 << (4 - 1)).
EVENT_MASK = 1 << (4 - 1)

#: Share of the runtime's request deadline the plugins may use; the rest is for the
#: answer to travel back.
DEADLINE_SHARE = 0.75
#: Budget when a request carries no deadline.
DEFAULT_BUDGET = 10.0


def api() -> Any:
    """The generated NRI v0.6.1 message module."""
    from runcore_nri._pb.nri.v1alpha1 import api_pb2

    return api_pb2


@dataclass
class Decision:
    """What was decided for one container (one log line)."""

    container: str
    pod: str
    container_id: str
    outcome: str  # "adjusted", "unchanged", "refused"
    plugins: List[str] = field(default_factory=list)
    fields: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)
    options: List[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


class Refused(Exception):
    """The container's creation must fail with this one-line message."""

    def __init__(self, message: str, code: int = ttrpc.FAILED_PRECONDITION) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PluginService:
    """Answers containerd's requests.

    :param plugin_set: the process's plugin set.
    :param options: annotation → option translation.
    :param best_effort: plugin ids whose inexpressible changes are dropped, not refused.
    :param record: called with every :class:`Decision`.
    """

    def __init__(
        self,
        plugin_set: Any,
        options: AnnotationOptions,
        best_effort: Sequence[str],
        record: Callable[[Decision], None],
        on_event: Optional[Callable[[str, str], None]] = None,
    ) -> None:
        self.plugin_set = plugin_set
        self.options = options
        self.best_effort = list(best_effort)
        self.record = record
        self.on_event = on_event or (lambda _method, _detail: None)
        self._inflight = 0
        self._idle = threading.Condition()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no container request is being answered (for a clean stop)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, timeout)

    # ------------------------------------------------------------------ dispatch
    def handle(
        self, service: str, method: str, payload: bytes, timeout: float
    ) -> Tuple[bytes, int, str]:
        """ttrpc handler: ``(response payload, status code, message)``."""
        pb = api()
        if service != PLUGIN_SERVICE:
            return b"", ttrpc.UNIMPLEMENTED, f"service {service}"
        if method == "Configure":
            request = pb.ConfigureRequest.FromString(payload)
            self.on_event("configured", f"{request.runtime_name} {request.runtime_version}")
            return pb.ConfigureResponse(events=EVENT_MASK).SerializeToString(), ttrpc.OK, ""
        if method == "Synchronize":
            request = pb.SynchronizeRequest.FromString(payload)
            self.on_event(
                "synchronized", f"{len(request.pods)} pods, {len(request.containers)} containers"
            )
            return pb.SynchronizeResponse().SerializeToString(), ttrpc.OK, ""
        if method == "CreateContainer":
            request = pb.CreateContainerRequest.FromString(payload)
            with self._idle:
                self._inflight += 1
            try:
                return self.create_container(request, timeout)
            finally:
                with self._idle:
                    self._inflight -= 1
                    self._idle.notify_all()
        if method == "UpdateContainer":
            return pb.UpdateContainerResponse().SerializeToString(), ttrpc.OK, ""
        if method == "StopContainer":
            return pb.StopContainerResponse().SerializeToString(), ttrpc.OK, ""
        if method in ("StateChange", "Shutdown"):
            return b"", ttrpc.OK, ""
        return b"", ttrpc.UNIMPLEMENTED, f"method {method}"

    # ------------------------------------------------------------------ containers
    def create_container(self, request: Any, timeout: float) -> Tuple[bytes, int, str]:
        """Run the plugins with a deadline; answer the adjustment or the refusal."""
        budget = timeout * DEADLINE_SHARE if timeout > 0 else DEFAULT_BUDGET
        pod, container = request.pod, request.container
        decision = Decision(
            container=container.name,
            container_id=container.id,
            pod=f"{pod.namespace}/{pod.name}",
            outcome="refused",
        )
        box: List[Any] = []
        start = time.monotonic()

        def work() -> None:
            try:
                box.append(self.adjustment(pod, container, decision))
            except BaseException as exc:  # reported below, never raised in this thread
                box.append(exc)

        worker = threading.Thread(target=work, name=f"nri-create-{container.id[:12]}", daemon=True)
        worker.start()
        worker.join(budget)
        decision.seconds = time.monotonic() - start
        if not box:
            decision.error = (
                f"runcore: the plugins did not finish within {budget:.2f}s "
                f"(NRI request timeout {timeout:.2f}s); creation refused"
            )
            self.record(decision)
            return b"", ttrpc.DEADLINE_EXCEEDED, decision.error
        result = box[0]
        if isinstance(result, BaseException):
            code = result.code if isinstance(result, Refused) else ttrpc.FAILED_PRECONDITION
            decision.error = _one_line(result)
            self.record(decision)
            return b"", code, decision.error
        self.record(decision)
        return result.SerializeToString(), ttrpc.OK, ""

    def adjustment(self, pod: Any, container: Any, decision: Decision) -> Any:
        """The ``CreateContainerResponse`` for one container (runs in the worker).

        :raises Refused: bad annotation, plugin error or an inexpressible change.
        """
        from runcore.api import RunContext, RuncoreError, edit_spec

        pb = api()
        try:
            values, sources = self.options.resolve(pod.annotations, container.name)
        except OptionError as exc:
            raise Refused(str(exc), ttrpc.INVALID_ARGUMENT) from None
        decision.options = self.options.annotated_flags(sources)
        ctx = RunContext(
            command="create",
            options=values,
            sources=sources,
            container_id=container.id,
            plugins=self.plugin_set.registry,
        )
        before = spec_from_container(container)
        try:
            editor = edit_spec(before, ctx)
        except RuncoreError as exc:
            message = exc.message if not exc.hint else f"{exc.message} ({exc.hint})"
            raise Refused(f"runcore: {message}") from None
        except Exception as exc:
            raise Refused(f"runcore: plugin failure: {type(exc).__name__}: {exc}") from None
        owners_of = owners_from_changes(editor.changes)
        result = diff(before, editor.spec, owners_of, self.best_effort, blockio_class(values))
        if result.refused:
            raise Refused(refusal(result.refused))
        adj = result.adjustment
        decision.fields = list(adj.fields)
        decision.dropped = [f"{i.path} ({', '.join(i.owners)})" for i in result.dropped]
        plugins: List[str] = []
        for change in editor.changes:
            if change.owner != "default" and change.owner not in plugins:
                plugins.append(change.owner)
        decision.plugins = plugins
        decision.outcome = "adjusted" if not adj.empty() else "unchanged"
        response = pb.CreateContainerResponse()
        if not adj.empty():
            response.adjust.CopyFrom(to_message(adj, pb))
        return response


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    text = " ".join(str(text).split())
    return text if text.startswith("runcore: ") else f"runcore: {text}"


def register_request(name: str, index: str) -> bytes:
    """The serialized ``RegisterPluginRequest``."""
    return api().RegisterPluginRequest(plugin_name=name, plugin_idx=index).SerializeToString()


def warm_up(service: PluginService) -> Optional[str]:
    """Run the plugins once over an empty container so imports happen before the first
    real request; returns an error text when even that fails."""
    pb = api()
    container = pb.Container(id="runcore-nri-warm-up", name="warm-up")
    container.linux.SetInParent()
    try:
        service.adjustment(pb.PodSandbox(), container, Decision("", "", "", ""))
    except Refused as exc:
        return exc.message
    return None
