"""The project's containerd fixtures (daemon per version, namespace + leak check, images).

They ship with runcore as ``runcore.testing.containerd`` (documented there). Tests that do not ask for ``containerd`` need none of it.
"""

from runcore.testing.containerd import *  # noqa: F401,F403
