"""Container Device Interface (CDI) support: spec files, a registry, and spec edits.

Spec files (JSON or YAML, CDI spec versions 0.3.0 – 1.1.0) are read from the spec
directories (default ``/etc/cdi`` then ``/var/run/cdi``; later directories take
priority). A fully qualified name ``vendor.com/class=name`` resolves to that device's
container edits plus, once per spec file, the file's own container edits.
"""

DEFAULT_SPEC_DIRS = ("/etc/cdi", "/var/run/cdi")
