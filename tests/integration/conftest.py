"""Image fixtures for the integration tests (see ``runcore/testing/containerd.py``).

``image`` / ``image_alice`` import the busybox test image into the test's namespace –
with ``runcore images import`` once that command exists, with ``ctr images import``
until then (the switch is in ``runcore.testing.containerd._detect_import_method``).
"""

from runcore.testing.containerd import (  # noqa: F401
    busybox_archive,
    busybox_archives,
    busybox_user_archive,
    image,
    image_alice,
    image_import_method,
    import_image,
)
