"""Fixtures of the integration tests: images and the CLI (see ``runcore/testing/containerd.py``).

``image`` / ``image_alice`` import the busybox test image into the test's namespace –
with ``runcore images import`` once that command exists, with ``ctr images import``
until then (the switch is in ``runcore.testing.containerd._detect_import_method``).
``rc`` runs the CLI as a subprocess (:class:`runcore.testing.cli.RuncoreCli`).
"""

import pytest

from runcore.testing.containerd import (  # noqa: F401
    busybox_archive,
    busybox_archives,
    busybox_user_archive,
    image,
    image_alice,
    image_import_method,
    import_image,
)
from runcore.testing.cli import RuncoreCli


@pytest.fixture
def rc(containerd, namespace, fifo_dir) -> RuncoreCli:
    """The runcore CLI as a subprocess against the test's daemon, namespace and FIFO dir."""
    return RuncoreCli(containerd, namespace, fifo_dir)
