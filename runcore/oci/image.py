"""oci.WithImageConfig for Linux: env, args, cwd and user from an image config."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from .defaults import DEFAULT_UNIX_ENV
from .env import replace_or_append
from .errors import SpecError
from .rootfs import RootFS
from .spec import process
from .user import with_additional_gids, with_user

#: Config media types WithImageConfig accepts.
IMAGE_CONFIG_MEDIA_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)


def check_config_media_type(media_type: str) -> None:
    """Raise ``unknown image config media type <mt>`` unless WithImageConfig accepts ``media_type``."""
    if media_type not in IMAGE_CONFIG_MEDIA_TYPES:
        raise SpecError(f"unknown image config media type {media_type}")


def config_field(config: Optional[Mapping[str, Any]], name: str) -> Any:
    """Field ``name`` of an image config object matched like Go's json decoding (exact, else case-insensitive; last wins)."""
    if not config:
        return None
    found: Any = None
    for key, value in config.items():
        if key == name or key.lower() == name.lower():
            found = value
    return found


def _strings(value: Any) -> List[str]:
    """A JSON string array (null → empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError("image config: expected an array of strings")
    return list(value)


def _string(value: Any) -> str:
    """A JSON string (null → empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SpecError("image config: expected a string")
    return value


def image_config_section(image_config: Mapping[str, Any]) -> Dict[str, Any]:
    """The ``config`` object of a whole image config document ({} when absent)."""
    return dict(config_field(image_config, "config") or {})


def apply_image_config(
    spec: Dict[str, Any],
    config: Optional[Mapping[str, Any]],
    rootfs: RootFS,
    env_overrides: Optional[Sequence[str]] = None,
) -> None:
    """Apply the image config's ``config`` object to ``spec`` like oci.WithImageConfig on Linux (§7.2).

    env = image Env (or the default PATH) merged with ``env_overrides`` (default:
    the env already in the spec, i.e. env-file + --env); args = Entrypoint + Cmd;
    cwd = WorkingDir or "/"; then WithUser(User) + WithAdditionalGIDs(<uid>) when
    User is set, else WithAdditionalGIDs("root"). Mutates ``spec``.
    """
    proc = process(spec)
    if spec.get("linux") is None:
        raise SpecError("spec does not contain Linux or Windows section")
    env = _strings(config_field(config, "Env"))
    defaults = env if env else list(DEFAULT_UNIX_ENV)
    overrides = proc.get("env") if env_overrides is None else env_overrides
    proc["env"] = replace_or_append(defaults, overrides)
    args = _strings(config_field(config, "Entrypoint")) + _strings(config_field(config, "Cmd"))
    if args:
        proc["args"] = args
    else:
        proc.pop("args", None)
    proc["cwd"] = _string(config_field(config, "WorkingDir")) or "/"
    user_value = _string(config_field(config, "User"))
    if user_value != "":
        with_user(spec, user_value, rootfs)
        with_additional_gids(spec, "%d" % spec["process"]["user"]["uid"], rootfs)
    else:
        with_additional_gids(spec, "root", rootfs)
