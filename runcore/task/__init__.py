"""The task side of runcore: IO, terminal, signals and the task's lifetime.

* :mod:`runcore.task.logurl` – ``--log-uri`` parsing (Go ``url.Parse`` compatible).
* :mod:`runcore.task.fifos` – FIFO sets (make, find, remove).
* :mod:`runcore.task.ioplan` – what ``Tasks/Create`` gets as stdio (tty, null, log URI, FIFOs).
* :mod:`runcore.task.copier` – the lossless copy threads between runcore's stdio and FIFOs.
* :mod:`runcore.task.tty` – the ``--tty`` checks, raw mode and window size.
* :mod:`runcore.task.signals` – catching and queueing signals for forwarding.
* :mod:`runcore.task.errors` – 127/126 command errors, interrupts.
* :mod:`runcore.task.options` – the ``Tasks/Create.options`` message per runtime.
* :mod:`runcore.task.status` – task states, looking tasks up.
* :mod:`runcore.task.cleanup` – kill, wait and delete a task; remove snapshot and record.
* :mod:`runcore.task.hooks` – calling the task hooks.
* :mod:`runcore.task.lifecycle` – ``run_task`` (create, start, wait, delete, clean up).
* :mod:`runcore.task.remove` – ``remove_container`` (``runcore rm``).

Nothing here imports grpc at import time; the containerd client is reached through
``ctx.client()``.
"""
