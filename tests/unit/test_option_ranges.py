"""Every integer option of the core and of every first-party plugin is declared with its Go
type and refuses values outside it (issue 18, defect 3).

The test discovers the options generically: all options the plugin set registers for
``run``/``create``/``spec`` plus every option of every command and sub-command of the CLI
(core and plugin commands). An integer or float option without a Go type fails the
test; each :class:`~runcore.options_types.GoInt` option is walked at its bounds ±1, in
process and through the real command line.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Dict, Iterator, List, Tuple

import click
import pytest

from runcore.cli.main import cli
from runcore.options_types import GoFloat, GoInt

#: Options that must be found (so the walk cannot silently find nothing): flag -> Go type.
EXPECTED = {
    "--cpu-shares": "int",
    "--cpu-quota": "int64",
    "--cpu-period": "uint64",
    "--memory-limit": "uint64",
    "--gpus": "int",
}
FIRST_PARTY = {"seccomp", "apparmor", "nvidia", "blockio", "cni", "userns"}


def _walk_commands(
    group: click.Command, ctx: click.Context, path: Tuple[str, ...]
) -> Iterator[Tuple[str, click.Parameter]]:
    for param in group.params:
        yield " ".join(path), param
    if isinstance(group, click.Group):
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            if sub is None:
                continue
            yield from _walk_commands(
                sub, click.Context(sub, parent=ctx, info_name=name), path + (name,)
            )


@pytest.fixture(scope="module")
def all_options() -> Iterator[List[Tuple[str, str, click.Parameter]]]:
    """(command, owner, parameter) for every option runcore and its plugins declare."""
    from runcore.cli import plugin_set as ps

    pset = ps.init_plugin_set([], environ={})
    try:
        loaded = {rec.id for rec in pset.registry.infos}
        assert FIRST_PARTY <= loaded, f"first-party plugins not all installed: {sorted(loaded)}"
        found: List[Tuple[str, str, click.Parameter]] = []
        for command in ("run", "create", "spec"):
            for reg in pset.options(command).options:
                found.append((command, reg.plugin_id, reg.option))
        ctx = click.Context(cli, info_name="runcore")
        for where, param in _walk_commands(cli, ctx, ("runcore",)):
            found.append((where, "cli", param))
        yield found
    finally:
        ps.reset_plugin_set()


def _numeric(param: click.Parameter) -> bool:
    t = param.type
    return isinstance(
        t, (click.types.IntParamType, click.types.FloatParamType, GoInt, GoFloat)
    ) or t in (click.INT, click.FLOAT)


def test_every_numeric_option_declares_its_go_type(all_options):
    untyped = [
        f"{cmd}: {'/'.join(p.opts)} ({owner}) has type {p.type!r}"
        for cmd, owner, p in all_options
        if _numeric(p) and not isinstance(p.type, (GoInt, GoFloat))
    ]
    assert not untyped, "declare these with runcore.api.GoInt/GoFloat:\n" + "\n".join(untyped)


def test_expected_integer_options_are_found(all_options):
    seen: Dict[str, str] = {}
    for _, _, p in all_options:
        if isinstance(p.type, GoInt):
            for flag in p.opts:
                seen[flag] = p.type.go_type
    for flag, go_type in EXPECTED.items():
        assert seen.get(flag) == go_type, (flag, seen)


def _go_int_options(all_options) -> List[Tuple[str, click.Option]]:
    out, done = [], set()
    for cmd, _, p in all_options:
        if isinstance(p.type, GoInt) and (cmd, p.name) not in done:
            done.add((cmd, p.name))
            out.append((cmd, p))
    return out


def test_every_integer_option_at_its_bounds(all_options):
    walked = 0
    for cmd, p in _go_int_options(all_options):
        t: GoInt = p.type  # type: ignore[assignment]
        for value in (t.min, t.max, 0 if t.min <= 0 <= t.max else t.min):
            assert t.convert(str(value), p, None) == value, (cmd, p.opts, value)
        for value in (t.min - 1, t.max + 1):
            with pytest.raises(click.BadParameter) as info:
                t.convert(str(value), p, None)
            message = str(info.value.message)
            if value < 0 and t.unsigned:
                assert message.endswith("invalid syntax"), message  # Go: a sign is not a uint
            else:
                assert message.endswith("value out of range"), message
            assert f'parsing "{value}"' in message
        walked += 1
    assert walked >= len(EXPECTED)


@pytest.mark.parametrize("flag,go_type", sorted(EXPECTED.items()))
def test_out_of_range_on_the_command_line(flag, go_type):
    """Through the real CLI: one line, exit 1, before containerd is contacted."""
    t = GoInt(go_type)
    for command in ("spec", "create"):
        if flag == "--gpus" and command == "create":
            continue
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "runcore",
                "--address",
                "/nonexistent.sock",
                command,
                flag,
                str(t.max + 1),
                "img",
                "id",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 1, r
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("runcore: "), r.stderr
        assert f'parsing "{t.max + 1}": value out of range' in r.stderr, r.stderr
        assert "containerd" not in r.stderr


@pytest.mark.parametrize(
    "text,value",
    [
        ("0x10", 16),
        ("0o17", 15),
        ("010", 8),
        ("0b11", 3),
        ("1_000", 1000),
        ("+5", 5),
        ("-9223372036854775808", -(1 << 63)),
    ],
)
def test_go_flag_syntax(text, value):
    assert GoInt("int64").convert(text, None, None) == value


@pytest.mark.parametrize("text", ["", " 1", "1 ", "1.0", "1e3", "_1", "0x", "１", "--1"])
def test_go_flag_syntax_errors(text):
    with pytest.raises(click.BadParameter, match="invalid syntax"):
        GoInt("int64").convert(text, None, None)


@pytest.mark.parametrize(
    "text,ok", [("1.5", 1.5), ("1e3", 1000.0), ("inf", float("inf")), ("-0", -0.0)]
)
def test_go_float(text, ok):
    assert GoFloat().convert(text, None, None) == ok


@pytest.mark.parametrize(
    "text,reason",
    [
        ("1e400", "value out of range"),
        ("abc", "invalid syntax"),
        ("1_0", "invalid syntax"),
        (" 1", "invalid syntax"),
    ],
)
def test_go_float_errors(text, reason):
    with pytest.raises(click.BadParameter, match=reason):
        GoFloat().convert(text, None, None)


# ----------------------------------------------------------------------------- properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

GO_TYPES = ["int", "int64", "uint64", "uint32", "int32", "uint16", "uint8", "int8"]


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.sampled_from(GO_TYPES), st.integers(min_value=-(1 << 70), max_value=1 << 70))
def test_any_integer_is_accepted_exactly_within_its_go_type(go_type, n):
    t = GoInt(go_type)
    if t.min <= n <= t.max:
        assert t.convert(str(n), None, None) == n
    else:
        with pytest.raises(click.BadParameter):
            t.convert(str(n), None, None)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(
    st.sampled_from(GO_TYPES),
    st.one_of(st.text(max_size=30), st.from_regex(r"[+-]?0[xXoObB]?[0-9a-fA-F_]{0,25}")),
)
def test_any_text_is_a_number_in_range_or_a_one_line_usage_error(go_type, text):
    t = GoInt(go_type)
    try:
        value = t.convert(text, None, None)
    except click.BadParameter as exc:
        assert "\n" not in exc.message and exc.message.startswith("strconv.Parse")
    else:
        assert t.min <= value <= t.max
        assert (
            value == int(text.replace("_", ""), 0)
            if text.lstrip("+-")[:2].lower() in ("0x", "0o", "0b")
            or not text.lstrip("+-").startswith("0")
            or text.lstrip("+-") == "0"
            else True
        )
