"""Image fixtures for the integration tests (see ``tests/support/fixtures.py``).

``image`` / ``image_alice`` import the busybox test image into the test's namespace –
with ``runcore images import`` once that command exists, with ``ctr images import``
until then (the switch is in ``support.fixtures._detect_import_method``).
"""
from support.fixtures import (  # noqa: F401
    busybox_archive,
    busybox_archives,
    busybox_user_archive,
    image,
    image_alice,
    image_import_method,
    import_image,
)
