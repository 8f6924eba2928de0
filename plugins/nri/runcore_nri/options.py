"""Option values for one CRI container, from pod annotations and the configuration.

Keys (``P`` = ``--annotation-prefix``, default :data:`DEFAULT_PREFIX`), on the **pod**:

* ``P/<flag>`` - the option ``--<flag>`` for every container of the pod;
* ``P/<flag>.container.<name>`` - only for the container named ``<name>``; wins over
  the pod-wide key.

Precedence, highest first: the per-container key, the pod-wide key, the configuration's
``[defaults]``, the option's own default - except that a ``locked`` option cannot be
changed by an annotation (the same refusal as on the command line). Values are what
the flag takes on the command line, converted and checked by the same option objects,
so a bad value gives the CLI's one-line message. Boolean flags take ``true``/``false``
(also ``1``/``0``, ``yes``/``no``); repeatable options take one value per line.

An option nobody set is left at its command-line default, except those in
:data:`NEUTRAL`, whose ctr default would overwrite what CRI chose. Options that act
on what CRI creates itself (snapshot, container record, runtime, task) are refused:
the hooks that would use them are not called under NRI (:data:`NOT_UNDER_NRI`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

DEFAULT_PREFIX = "runcore.io"
CONTAINER_MARK = ".container."

#: Options whose command-line default changes the spec (ctr's ``--cpu-shares 1024``):
#: under NRI, when nobody set them, they take this value, which changes nothing.
NEUTRAL: Dict[str, Any] = {"cpu_shares": 0}

#: Options refused when an annotation names them, and why: they act on what CRI makes
#: itself (snapshot, container record, runtime, task, network) through hooks NRI does
#: not call, or need the image's files, which NRI does not show.
NOT_UNDER_NRI: Dict[str, str] = {
    **{
        name: "CRI creates the snapshot, container record and task itself"
        for name in (
            "snapshotter",
            "snapshotter_label",
            "platform",
            "rootfs",
            "config",
            "runtime",
            "runtime_config_path",
            "runc_binary",
            "runc_root",
            "runc_systemd_cgroup",
            "sandbox",
            "label",
            "uidmap",
            "gidmap",
            "remap_labels",
            "tty",
        )
    },
    "cni": "CRI sets up the pod's network itself",
    "user": "resolving a user needs the image's files, which NRI does not show",
}

#: Source recorded for a value that came from an annotation (``ctx.source(name)``).
ANNOTATION = "annotation"


class OptionError(Exception):
    """A bad annotation: the message is the one line returned to CRI."""


@dataclass
class Given:
    """An option value given by an annotation."""

    name: str
    raw: str
    key: str
    option: Any  # the click.Option


def _is_unset(value: Any) -> bool:
    return type(value).__name__ == "Sentinel"


class AnnotationOptions:
    """Turns pod annotations into the option values of ``runcore create``.

    :param plugin_set: the process's plugin set (``runcore.api.plugin_set()``).
    :param prefix: the annotation prefix.
    """

    def __init__(self, plugin_set: Any, prefix: str = DEFAULT_PREFIX) -> None:
        import click

        self.prefix = prefix.rstrip("/")
        self.config = plugin_set.config
        self.registrar = plugin_set.options("create")
        params = []
        for reg in self.registrar.options:
            if reg.option.name in self.config.defaults:
                reg.option.default = self.config.defaults[reg.option.name]
            params.append(reg.option)
        self.command = click.Command("create", params=params)
        try:
            base = self.command.make_context("create", [])
        except click.ClickException as exc:
            raise OptionError(f"runcore: configuration default: {exc.format_message()}") from None
        self.base: Dict[str, Any] = {
            k: (None if _is_unset(v) else v) for k, v in base.params.items()
        }
        self.base_sources: Dict[str, str] = {
            name: "config" for name in self.config.defaults if name in self.base
        }

    # ------------------------------------------------------------------ keys
    def given(self, annotations: Mapping[str, str], container: str) -> Dict[str, Given]:
        """The options named by ``annotations`` for ``container``, by option name."""
        pod: Dict[str, Given] = {}
        own: Dict[str, Given] = {}
        lead = self.prefix + "/"
        for key in sorted(annotations):
            if not key.startswith(lead):
                continue
            rest = key[len(lead) :]
            target = pod
            if CONTAINER_MARK in rest:
                rest, _, name = rest.partition(CONTAINER_MARK)
                if name != container:
                    continue
                target = own
            reg = self.registrar.by_flag.get("--" + rest)
            if reg is None or not rest:
                raise OptionError(f"runcore: No such option: --{rest} (from annotation {key})")
            name = reg.option.name or rest.replace("-", "_")
            target[name] = Given(name, annotations[key], key, reg.option)
        pod.update(own)
        return pod

    # ------------------------------------------------------------------ values
    def resolve(
        self, annotations: Mapping[str, str], container: str
    ) -> Tuple[Dict[str, Any], Dict[str, str]]:
        """``(values, sources)`` for a container, as the CLI callback would have them.

        :raises OptionError: unknown key, bad value, locked option, or an option that
            has no effect under NRI.
        """
        import click

        values = dict(self.base)
        sources = dict(self.base_sources)
        ctx = click.Context(self.command, info_name="create")
        for name, given in self.given(annotations, container).items():
            option = given.option
            flag = option.opts[0]
            if name in NOT_UNDER_NRI:
                raise OptionError(
                    f"runcore: option {flag} has no effect under NRI: "
                    f"{NOT_UNDER_NRI[name]} (from annotation {given.key})"
                )
            raw: Any = given.raw
            if option.multiple:
                raw = [line.strip() for line in given.raw.splitlines() if line.strip()]
            try:
                value = option.process_value(ctx, raw)
            except click.ClickException as exc:
                raise OptionError(
                    f"runcore: {exc.format_message()} (from annotation {given.key})"
                ) from None
            if not option.expose_value:
                continue  # a stand-in that accepted an empty value
            locked_by = self.config.locked.get(name)
            if locked_by and name in self.config.defaults and value != self.base.get(name):
                raise OptionError(
                    f"runcore: option {name.replace('_', '-')!r} is locked by "
                    f"{locked_by} (from annotation {given.key})"
                )
            values[name] = value
            sources[name] = ANNOTATION
        for name, neutral in NEUTRAL.items():
            if name in values and name not in sources:
                values[name] = neutral
        return values, sources

    def annotated_flags(self, sources: Mapping[str, str]) -> List[str]:
        """The option names that came from annotations (for the log)."""
        return sorted(n for n, s in sources.items() if s == ANNOTATION)


def blockio_class(values: Mapping[str, Any]) -> Optional[str]:
    """The ``--blockio-class`` in effect, if any."""
    value = values.get("blockio_class")
    return str(value) if value else None
