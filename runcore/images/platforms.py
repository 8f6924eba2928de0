"""Platform specifiers and matchers with containerd's semantics.

``parse("linux/arm64")``, ``only(p)`` (the default matcher: also matches what the
platform can run, e.g. 386 on amd64), ``only_strict(p)`` (``ctr images import
--platform``), ``ALL`` (``--all-platforms``), ``format_platform``.
"""

from __future__ import annotations

import json
import platform as _host
import re
from dataclasses import dataclass, field
from typing import Optional, Protocol, Sequence

from runcore import errors

_SPECIFIER = re.compile(r"^[A-Za-z0-9_-]+$")
_OS_AND_VERSION = re.compile(r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$")

_KNOWN_OS = {
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "zos",
}
_KNOWN_ARCH = {
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
}
_MACHINE_TO_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "i386": "386",
    "i686": "386",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loong64",
}


@dataclass(frozen=True)
class Platform:
    """An OCI platform (``os``/``architecture``/``variant``, optional OS version)."""

    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple = field(default=(), compare=False)

    @classmethod
    def from_json(cls, obj: dict) -> "Platform":
        return cls(
            os=obj.get("os", ""),
            architecture=obj.get("architecture", ""),
            variant=obj.get("variant", ""),
            os_version=obj.get("os.version", ""),
            os_features=tuple(obj.get("os.features") or ()),
        )

    def to_json(self) -> dict:
        """Go field order of ocispec.Platform, empty fields left out."""
        out: dict = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        return out

    def __str__(self) -> str:
        return format_platform(self)


def _host_arch() -> str:
    machine = _host.machine().lower()
    return _MACHINE_TO_ARCH.get(machine, machine)


def _host_variant(arch: str) -> str:
    if arch != "arm":
        return ""
    machine = _host.machine().lower()
    return "v6" if machine.startswith("armv6") else "v7"


def normalize_os(os_name: str) -> str:
    if not os_name:
        return "linux"
    os_name = os_name.lower()
    return "darwin" if os_name == "macos" else os_name


def normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        return "arm64", "" if variant in ("8", "v8") else variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            return "arm", "v7"
        if variant in ("5", "6", "8"):
            return "arm", "v" + variant
    return arch, variant


def normalize(p: Platform) -> Platform:
    arch, variant = normalize_arch(p.architecture, p.variant)
    return Platform(normalize_os(p.os), arch, variant, p.os_version, p.os_features)


def default_platform() -> Platform:
    """The host's platform (``linux/amd64`` on this project's hosts)."""
    arch = _host_arch()
    return Platform("linux", arch, _host_variant(arch))


def _quote(text: str) -> str:
    """Go's %q for the plain strings seen here."""
    return json.dumps(text, ensure_ascii=False)


def parse(specifier: str) -> Platform:
    """Parse ``os[(version)]``, ``arch`` or ``os/arch[/variant]`` as containerd does."""

    def bad(why: str) -> errors.UsageError:
        return errors.UsageError(f"{_quote(specifier)}: {why}: invalid argument")

    if "*" in specifier:
        raise bad("wildcards not yet supported")
    parts = specifier.split("/", 3)
    match = _OS_AND_VERSION.match(parts[0])
    if not match:
        raise bad(f"{_quote(parts[0])} is an invalid OS component")
    for part in parts[1:]:
        if not _SPECIFIER.match(part):
            raise bad(f"{_quote(part)} is an invalid component")
    os_name, os_version = normalize_os(match.group(1)), match.group(2) or ""
    if len(parts) == 1:
        if os_name in _KNOWN_OS:
            arch = _host_arch()
            return Platform(os_name, arch, _host_variant(arch) if arch == "arm" else "", os_version)
        arch, variant = normalize_arch(parts[0], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        if arch in _KNOWN_ARCH:
            return Platform("linux", arch, variant)
        raise bad("unknown operating system or architecture")
    if len(parts) == 2:
        arch, variant = normalize_arch(parts[1], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        return Platform(os_name, arch, variant, os_version)
    if len(parts) == 3:
        arch, variant = normalize_arch(parts[1], parts[2])
        if arch == "arm64" and not variant:
            variant = "v8"
        return Platform(os_name, arch, variant, os_version)
    raise bad("cannot parse platform specifier")


def format_platform(p: Platform) -> str:
    """``os/arch[/variant]`` (``unknown`` without an OS), as ``ctr images ls`` prints it."""
    if not p.os:
        return "unknown"
    return "/".join(x for x in (p.os, p.architecture, p.variant) if x)


class Matcher(Protocol):
    def match(self, p: Platform) -> bool: ...

    def less(self, a: Platform, b: Platform) -> bool: ...


def _same(want: Platform, p: Platform) -> bool:
    n = normalize(p)
    return want.os == n.os and want.architecture == n.architecture and want.variant == n.variant


class Ordered:
    """Matches any of ``platforms``, preferring them in the order given."""

    def __init__(self, platforms: Sequence[Platform]) -> None:
        self.platforms = [normalize(p) for p in platforms]

    def match(self, p: Platform) -> bool:
        return any(_same(w, p) for w in self.platforms)

    def less(self, a: Platform, b: Platform) -> bool:
        for want in self.platforms:
            am, bm = _same(want, a), _same(want, b)
            if am and not bm:
                return True
            if am or bm:
                return False
        return False

    def __repr__(self) -> str:
        return f"Ordered({', '.join(map(format_platform, self.platforms))})"


class _All:
    def match(self, p: Platform) -> bool:
        return True

    def less(self, a: Platform, b: Platform) -> bool:
        return False

    def __repr__(self) -> str:
        return "ALL"


#: Matches every platform (``--all-platforms``).
ALL: Matcher = _All()


def _vector(p: Platform) -> list[Platform]:
    """``p`` followed by the platforms it can also run (containerd's platformVector)."""
    out = [p]
    if p.architecture == "amd64":
        level = p.variant[1:] if p.variant.startswith("v") else p.variant
        if level.isdigit() and int(level) > 1:
            out += [
                Platform(p.os, "amd64", f"v{n}", p.os_version) for n in range(int(level) - 1, 0, -1)
            ]
        out.append(Platform(p.os, "386", "", p.os_version))
    elif p.architecture == "arm":
        level = p.variant[1:] if p.variant.startswith("v") else p.variant
        if level.isdigit() and int(level) > 5:
            out += [
                Platform(p.os, "arm", f"v{n}", p.os_version) for n in range(int(level) - 1, 4, -1)
            ]
    elif p.architecture == "arm64":
        out += _vector(Platform(p.os, "arm", p.variant or "v8", p.os_version))
    return out


def only(p: Optional[Platform] = None) -> Ordered:
    """``platforms.Only``: ``p`` (default: the host) and what it can run, in preference order."""
    return Ordered(_vector(normalize(p or default_platform())))


def only_strict(p: Platform) -> Ordered:
    """``platforms.OnlyStrict``: exactly ``p``."""
    return Ordered([normalize(p)])
