"""The task side of ``runcore run``: IO, terminal, signals and the task's lifetime.

* :mod:`runcore.task.io` – ``--log-uri`` parsing (Go ``url.Parse`` compatible), FIFO
  sets and the lossless copy threads between runcore's stdio and the task's FIFOs.
* :mod:`runcore.task.tty` – the ``--tty`` checks, raw mode and window size.
* :mod:`runcore.task.signals` – catching and queueing signals for forwarding.
* :mod:`runcore.task.lifecycle` – ``run_task`` (create, start, wait, delete, clean up)
  and ``remove_container`` (``runcore rm``).

Nothing here imports grpc at import time; the containerd client is reached through
``ctx.client()``.
"""
