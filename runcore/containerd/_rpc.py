"""Calling containerd: namespace/lease metadata, deadlines and error mapping.

Every RPC made through a :class:`Service` carries the ``containerd-namespace``
header, the ``containerd-lease`` header while a lease is active, and a deadline:
the per-call default bounded by the command's overall deadline.  gRPC failures
come out as :mod:`runcore.errors` exceptions whose message is containerd's text.
"""

from __future__ import annotations

import contextvars
import queue
import re
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Optional

import grpc
from google.protobuf import message_factory

from runcore import errors

NAMESPACE_HEADER = "containerd-namespace"
LEASE_HEADER = "containerd-lease"

#: Default deadline of one call, in seconds.
DEFAULT_CALL_TIMEOUT = 30.0

#: Calls that may legitimately take long: only the overall deadline applies.
UNBOUNDED_METHODS = frozenset(
    {
        "/containerd.services.tasks.v1.Tasks/Wait",
        "/containerd.services.events.v1.Events/Subscribe",
        "/containerd.services.content.v1.Content/Read",
        "/containerd.services.content.v1.Content/Write",
        "/containerd.services.diff.v1.Diff/Apply",
        "/containerd.services.diff.v1.Diff/Diff",
    }
)

_ERRORS = {
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.UNAVAILABLE: errors.Unavailable,
}


#: What gRPC says (in the status details) when the connection itself broke, not the call.
_TRANSPORT_DETAILS = (
    "Stream removed",
    "Socket closed",
    "failed to connect to all addresses",
    "Connection reset by peer",
    "Broken pipe",
    "GOAWAY received",
)


def _transport_error(code: Any, details: str) -> Optional[errors.ContainerdError]:
    """A plain one-line error for a broken connection (gRPC's own words are internal)."""
    if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL):
        return None
    if details.startswith("ttrpc: closed"):
        # containerd's own connection to the shim broke (it is restarting, or just did)
        return errors.Unavailable("containerd lost its connection to the task's shim")
    if not any(marker in details for marker in _TRANSPORT_DETAILS):
        return None
    if "RST_STREAM" in details:
        # containerd refused the request before reading it (typically: too large)
        return errors.ContainerdError(
            "containerd rejected the request (it is too large or malformed)"
        )
    if "failed to connect" in details:
        return errors.Unavailable("cannot reach containerd (it is not running or restarting)")
    return errors.Unavailable("lost the connection to containerd")


def map_error(err: grpc.RpcError) -> errors.ContainerdError:
    """The runcore error for a failed call; the message is containerd's text."""
    code = err.code() if hasattr(err, "code") else None
    details = err.details() if hasattr(err, "details") else None
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return errors.ContainerdError("context deadline exceeded")
    transport = _transport_error(code, details or "")
    if transport is not None:
        return transport
    if code == grpc.StatusCode.CANCELLED and not details:
        details = "context canceled"
    message = details or (code.name.lower().replace("_", " ") if code else str(err))
    return _ERRORS.get(code, errors.ContainerdError)(one_line(message))


_MULTI_ERROR = re.compile(r"\d+ errors? occurred:\s*(?:\*\s*)?")


def one_line(text: str) -> str:
    """containerd's text on one line: Go multi-error lists (``1 error occurred:\\n\\t* a\\n\\n``,
    e.g. from a ``binary://`` log URI) become ``a; b``; other line breaks become spaces."""
    if "\n" not in text:
        return text
    text = _MULTI_ERROR.sub("", text)
    parts = [p.strip() for p in re.split(r"\n\s*\*\s*", text)]
    joined = "; ".join(p for p in parts if p)
    joined = re.sub(r"\s*\n\s*", " ", joined)
    return re.sub(r"\s+:", ":", joined).strip()


class CallContext:
    """What every call of one client shares: namespace, active lease, deadlines."""

    def __init__(
        self,
        namespace: str,
        *,
        deadline: Optional[float] = None,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
    ) -> None:
        self.namespace = namespace
        self.deadline = deadline  # time.monotonic() value, or None
        self.call_timeout = call_timeout
        self.lease: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
            f"runcore-lease-{id(self)}", default=None
        )

    def metadata(self) -> list[tuple[str, str]]:
        md = [(NAMESPACE_HEADER, self.namespace)]
        lease = self.lease.get()
        if lease:
            md.append((LEASE_HEADER, lease))
        return md

    def timeout(self, method: str, override: Optional[float] = None) -> Optional[float]:
        """Seconds left for ``method``; raises when the overall deadline has passed."""
        if override is not None:
            per_call: Optional[float] = override
        elif method in UNBOUNDED_METHODS:
            per_call = None
        else:
            per_call = self.call_timeout
        if self.deadline is None:
            return per_call
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise errors.ContainerdError("context deadline exceeded")
        return left if per_call is None else min(per_call, left)


class Stream:
    """Responses of a streaming call; errors come out as runcore errors."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as err:
            raise map_error(err) from None

    def cancel(self) -> None:
        self._call.cancel()


class Duplex:
    """A bidirectional stream whose every request gets one answer, in order (how
    containerd's Content/Write works): :meth:`exchange` in lock step, or
    :meth:`send` ahead and :meth:`receive` the answers later."""

    _END = object()

    def __init__(self, start: Callable[[Iterable[Any]], Any]) -> None:
        self._requests: "queue.Queue[Any]" = queue.Queue()
        self._responses = Stream(start(self._iter_requests()))
        self._closed = threading.Event()

    def _iter_requests(self) -> Iterator[Any]:
        while True:
            item = self._requests.get()
            if item is self._END:
                return
            yield item

    def send(self, request: Any) -> None:
        """Queue one request without waiting for its answer (pipelined writes)."""
        self._requests.put(request)

    def receive(self) -> Any:
        """The next answer, in the order the requests were sent."""
        try:
            return next(self._responses)
        except StopIteration:
            raise errors.ContainerdError("stream closed by containerd") from None

    def exchange(self, request: Any) -> Any:
        """Send one request and wait for its answer."""
        self.send(request)
        return self.receive()

    def close(self, cancel: bool = False) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self._requests.put(self._END)
            if cancel:
                self._responses.cancel()


class Future:
    """A unary call in flight (see :meth:`Method.future`)."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def result(self) -> Any:
        """The response; a failed call raises its :mod:`runcore.errors` exception."""
        try:
            return self._call.result()
        except grpc.RpcError as err:
            raise map_error(err) from None

    def cancel(self) -> None:
        self._call.cancel()


class Method:
    """One RPC: ``method(request)`` or ``method(field=value, ...)``."""

    def __init__(self, ctx: CallContext, path: str, descriptor: Any, callable_: Any) -> None:
        self._ctx = ctx
        self.path = path
        self._descriptor = descriptor
        self._callable = callable_
        self.request_type = message_factory.GetMessageClass(descriptor.input_type)

    def __repr__(self) -> str:
        return f"<containerd method {self.path}>"

    def __call__(
        self, request: Any = None, *, timeout: Optional[float] = None, **fields: Any
    ) -> Any:
        if self._descriptor.client_streaming:
            raise TypeError(f"{self.path} is a client stream; use .open()")
        if request is None:
            request = self.request_type(**fields)
        elif fields:
            raise TypeError("pass either a request message or fields, not both")
        kwargs = {
            "metadata": self._ctx.metadata(),
            "timeout": self._ctx.timeout(self.path, timeout),
        }
        if self._descriptor.server_streaming:
            try:
                return Stream(self._callable(request, **kwargs))
            except grpc.RpcError as err:
                raise map_error(err) from None
        try:
            return self._callable(request, **kwargs)
        except grpc.RpcError as err:
            raise map_error(err) from None

    def future(
        self, request: Any = None, *, timeout: Optional[float] = None, **fields: Any
    ) -> "Future":
        """Start a unary call without waiting for it (independent calls overlap);
        :meth:`Future.result` waits and raises runcore errors."""
        if self._descriptor.client_streaming or self._descriptor.server_streaming:
            raise TypeError(f"{self.path} is a stream; only unary calls have futures")
        if request is None:
            request = self.request_type(**fields)
        elif fields:
            raise TypeError("pass either a request message or fields, not both")
        return Future(
            self._callable.future(
                request,
                metadata=self._ctx.metadata(),
                timeout=self._ctx.timeout(self.path, timeout),
            )
        )

    def open(self, *, timeout: Optional[float] = None) -> Duplex:
        """Start a bidirectional stream (for Content/Write)."""
        if not (self._descriptor.client_streaming and self._descriptor.server_streaming):
            raise TypeError(f"{self.path} is not a bidirectional stream")
        kwargs = {
            "metadata": self._ctx.metadata(),
            "timeout": self._ctx.timeout(self.path, timeout),
        }
        return Duplex(lambda requests: self._callable(requests, **kwargs))


def _multicallable(channel: Any, path: str, descriptor: Any) -> Any:
    """The grpc callable of one method, made from its descriptor (what a generated
    ``*_pb2_grpc`` stub would make, without importing the stub module)."""
    request = message_factory.GetMessageClass(descriptor.input_type)
    response = message_factory.GetMessageClass(descriptor.output_type)
    kind = (
        ("stream" if descriptor.client_streaming else "unary")
        + "_"
        + ("stream" if descriptor.server_streaming else "unary")
    )
    return getattr(channel, kind)(
        path,
        request_serializer=request.SerializeToString,
        response_deserializer=response.FromString,
        _registered_method=True,
    )


class Service:
    """One containerd service on a channel; every method goes through :class:`Method`.

    Methods are bound on first use.
    """

    def __init__(self, ctx: CallContext, channel: Any, service_descriptor: Any) -> None:
        self._ctx = ctx
        self._channel = channel
        self._descriptor = service_descriptor
        self._methods: dict[str, Method] = {}

    @property
    def name(self) -> str:
        return self._descriptor.full_name

    def __getattr__(self, name: str) -> Method:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._methods[name]
        except KeyError:
            pass
        md = self._descriptor.methods_by_name.get(name)
        if md is None:
            raise AttributeError(f"{self._descriptor.full_name} has no method {name}")
        path = f"/{self._descriptor.full_name}/{name}"
        method = Method(self._ctx, path, md, _multicallable(self._channel, path, md))
        self._methods[name] = method
        return method

    def __repr__(self) -> str:
        return f"<containerd service {self._descriptor.full_name}>"
