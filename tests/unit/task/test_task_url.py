"""--log-uri parsing: Go url.Parse results and error texts, String() round trips."""

from __future__ import annotations

import pytest

from runcore.errors import UsageError
from runcore.task.ioplan import plan_io
from runcore.task.logurl import go_quote, parse_log_uri, parse_url


@pytest.mark.parametrize(
    "raw, text",
    [
        ("/tmp/x", "/tmp/x"),
        ("relative/path", "relative/path"),
        ("file:///var/log/c.log", "file:///var/log/c.log"),
        ("file:/var/log/c.log", "file:/var/log/c.log"),
        ("file:///tmp/a b", "file:///tmp/a%20b"),
        ("file:///tmp/a%20b", "file:///tmp/a%20b"),
        ("binary:///usr/bin/logger?id=1&tag=x", "binary:///usr/bin/logger?id=1&tag=x"),
        ("BINARY:///usr/bin/logger", "binary:///usr/bin/logger"),
        ("fifo:///run/x", "fifo:///run/x"),
        ("a:b", "a:b"),  # opaque
        ("file://user:pw@host/x#frag ment", "file://user:pw@host/x#frag%20ment"),
        ("http://[::1]:80/a", "http://[::1]:80/a"),
        ("/tmp/x?", "/tmp/x?"),
        ("*", "*"),
    ],
)
def test_string_round_trip(raw: str, text: str) -> None:
    assert str(parse_url(raw)) == text


def test_fields() -> None:
    url = parse_url("binary:///usr/bin/logger?id=1&tag=x")
    assert (url.scheme, url.host, url.path, url.raw_query) == (
        "binary",
        "",
        "/usr/bin/logger",
        "id=1&tag=x",
    )
    assert parse_url("/tmp/x").scheme == ""
    assert parse_url("file:///tmp/a%20b").path == "/tmp/a b"


@pytest.mark.parametrize(
    "raw, message",
    [
        ("%zz", 'parse "%zz": invalid URL escape "%zz"'),
        ("/a%2", 'parse "/a%2": invalid URL escape "%2"'),
        ("://x", 'parse "://x": missing protocol scheme'),
        ("x://h:p/", 'parse "x://h:p/": invalid port ":p" after host'),
        ("a\x01b", 'parse "a\\x01b": net/url: invalid control character in URL'),
        ("http://a b/", 'parse "http://a b/": invalid character " " in host name'),
        ("1a:b", 'parse "1a:b": first path segment in URL cannot contain colon'),
        ("http://[::1/", "parse \"http://[::1/\": missing ']' in host"),
        ("/x#%zz", 'parse "/x#%zz": invalid URL escape "%zz"'),
    ],
)
def test_errors_like_go(raw: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_log_uri(raw)
    assert str(info.value) == message


def test_go_quote() -> None:
    assert go_quote('a"b\\c\n\t') == '"a\\"b\\\\c\\n\\t"'
    assert go_quote("\udcff") == '"\\xff"'
    assert go_quote("é") == '"é"'


def test_plan_null_and_log_uri() -> None:
    plan = plan_io("c1", null_io=True, log_uri="file:///x")
    assert (plan.stdin, plan.stdout, plan.stderr, plan.terminal, plan.fifos) == (
        "",
        "",
        "",
        False,
        None,
    )
    plan = plan_io("c1", log_uri="file:///var/log/a b")
    assert (plan.stdin, plan.stdout, plan.stderr) == (
        "",
        "file:///var/log/a%20b",
        "file:///var/log/a%20b",
    )
    assert plan.fifos is None
    # tty wins over null-io and log-uri (ctr's order), with stdin+stdout only
