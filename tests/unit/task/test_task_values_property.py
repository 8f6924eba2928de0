"""Property tests over the task commands' untrusted values (signal names, detach keys,
--format paths, exec env): a result or a UsageError/ValueError, never anything else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from runcore.errors import UsageError
from runcore.task.attach import parse_detach_keys
from runcore.task.exec_process import merge_env
from runcore.task.inspect import select
from runcore.task.signals import parse_signal

BUDGET = settings(max_examples=300, derandomize=True, deadline=None)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@BUDGET
@given(TEXT)
def test_signal_values(text: str) -> None:
    try:
        number = parse_signal(text)
    except ValueError as exc:
        assert str(exc).startswith("invalid signal: ")
    else:
        assert 1 <= number <= 255


@BUDGET
@given(TEXT)
def test_detach_keys(text: str) -> None:
    try:
        keys = parse_detach_keys(text)
    except UsageError:
        return
    assert keys


@BUDGET
@given(
    TEXT,
    st.recursive(
        st.none() | st.integers() | TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
        max_leaves=8,
    ),
)
def test_format_paths(path: str, data: object) -> None:
    try:
        select(data, path)
    except UsageError:
        pass


@BUDGET
@given(st.lists(TEXT, max_size=5), st.lists(TEXT, max_size=5))
def test_exec_env(env: list, extra: list) -> None:
    try:
        merged = merge_env(env, extra)
    except UsageError:
        return
    last = {item.split("=", 1)[0]: item for item in extra}
    for item in last.values():
        assert item in merged
