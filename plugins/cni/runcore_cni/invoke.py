"""Running one CNI plugin: environment, configuration on stdin, result or error on stdout.

A plugin gets the ``CNI_*`` variables on top of runcore's own environment (inherited
``CNI_*`` variables are dropped first so nothing leaks from the caller), its network
configuration as JSON on stdin, and answers with a JSON result (``ADD``) or nothing
(``DEL``, ``CHECK``) and exit status 0 – or a non-zero status and the error JSON
``{"cniVersion", "code", "msg", "details"}`` on stdout. Either way stderr is the plugin's
log and is only used when there is no error JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence

#: Error codes 0-99 are reserved by the specification; these are the ones it names.
WELL_KNOWN_CODES = {
    1: "incompatible CNI version",
    2: "unsupported field in network configuration",
    3: "container unknown or does not exist",
    4: "invalid necessary environment variables",
    5: "I/O failure",
    6: "failed to decode content",
    7: "invalid network config",
    11: "try again later",
}

#: How long one plugin may run before it is killed.
PLUGIN_TIMEOUT = float(os.environ.get("RUNCORE_CNI_PLUGIN_TIMEOUT", "120"))
#: Longest plugin message kept in an error line.
MAX_MESSAGE = 600


@dataclass
class RuntimeConf:
    """What the runtime tells every plugin about the container."""

    container_id: str
    netns: str
    ifname: str = "eth0"
    args: str = ""


class PluginFailure(Exception):
    """A plugin failed; ``str()`` is one line naming the plugin and the command."""

    def __init__(self, kind: str, command: str, message: str, code: Optional[int] = None) -> None:
        self.kind = kind
        self.command = command
        self.message = message
        self.code = code
        text = f'plugin "{kind}" failed ({command.lower()}): {message}'
        if code:
            meaning = WELL_KNOWN_CODES.get(code)
            text += f" (CNI error {code}" + (f": {meaning})" if meaning else ")")
        super().__init__(text)


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Whitespace runs (newlines included) become one space; long texts are cut."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 3] + "..."
    return line


def plugin_env(
    command: str, rt: RuntimeConf, bin_dirs: Sequence[str], base: Optional[Mapping[str, str]] = None
) -> Dict[str, str]:
    """The environment for one plugin call."""
    env = {
        k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("CNI_")
    }
    env.update(
        {
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": rt.container_id,
            "CNI_NETNS": rt.netns,
            "CNI_IFNAME": rt.ifname,
            "CNI_ARGS": rt.args,
            "CNI_PATH": os.pathsep.join(bin_dirs),
        }
    )
    return env


def plugin_config(
    plugin: Mapping[str, Any],
    name: str,
    cni_version: str,
    prev_result: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """One plugin's stdin: its configuration with the list's name and version (and the
    previous result)."""
    conf = dict(plugin)
    conf["name"] = name
    if cni_version:
        conf["cniVersion"] = cni_version
    else:
        conf.pop("cniVersion", None)
    conf.pop("prevResult", None)
    if prev_result is not None:
        conf["prevResult"] = prev_result
    return conf


def _failure_message(stdout: bytes, stderr: bytes, status: int) -> "tuple[str, Optional[int]]":
    try:
        data = json.loads(stdout) if stdout.strip() else None
    except ValueError:
        data = None
    if isinstance(data, dict) and ("msg" in data or "code" in data):
        message = str(data.get("msg") or "")
        details = data.get("details")
        if details:
            message = f"{message}; {details}" if message else str(details)
        code = data.get("code")
        return one_line(message or "no message"), code if isinstance(code, int) else None
    text = stderr.decode(errors="replace").strip() or stdout.decode(errors="replace").strip()
    if status < 0:
        suffix = f"killed by signal {-status}"
    else:
        suffix = f"exit status {status}"
    return (one_line(f"{text} ({suffix})") if text else suffix), None


def run_plugin(
    executable: str,
    kind: str,
    command: str,
    rt: RuntimeConf,
    bin_dirs: Sequence[str],
    conf: Mapping[str, Any],
    timeout: Optional[float] = None,
) -> Optional[Dict[str, Any]]:
    """Run ``executable`` for ``command``; the parsed result for ``ADD``, else ``None``."""
    stdin = json.dumps(conf, separators=(",", ":")).encode()
    try:
        proc = subprocess.run(
            [executable],
            input=stdin,
            capture_output=True,
            env=plugin_env(command, rt, bin_dirs),
            timeout=timeout or PLUGIN_TIMEOUT,
            cwd="/",
            close_fds=True,
        )
    except subprocess.TimeoutExpired:
        raise PluginFailure(
            kind, command, f"no answer after {timeout or PLUGIN_TIMEOUT:g}s (killed)"
        ) from None
    except OSError as exc:
        raise PluginFailure(
            kind, command, f"cannot run {executable}: {exc.strerror or exc}"
        ) from None
    if proc.returncode != 0:
        message, code = _failure_message(proc.stdout, proc.stderr, proc.returncode)
        raise PluginFailure(kind, command, message, code)
    if command != "ADD":
        return None
    try:
        result = json.loads(proc.stdout)
    except ValueError as exc:
        raise PluginFailure(kind, command, f"invalid result: {exc}") from None
    if not isinstance(result, dict):
        raise PluginFailure(kind, command, "invalid result: not a JSON object")
    return result
