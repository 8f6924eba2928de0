"""A real container through a private containerd (runcore's ``containerd`` fixtures).

``containerd`` is a private daemon for the test session, ``namespace`` a fresh
containerd namespace whose leak check fails the test if anything is left behind,
``image`` the busybox test image imported into it, ``fifo_dir`` a per-test FIFO folder.
Without root or containerd these tests are skipped (with the reason); under ``CI=true``
they fail instead. ``runcore_containerd_bin`` in pyproject.toml says where containerd is.
"""

import json

import runcore_hello


def test_greeting_reaches_the_container(containerd, namespace, image, fifo_dir):
    out = containerd.runcore(
        "run",
        "--rm",
        "--fifo-dir",
        fifo_dir,
        "--hello-greeting",
        "hi",
        image,
        "hello-1",
        "sh",
        "-c",
        'echo "$HELLO_GREETING"',
        namespace=namespace,
    )
    assert out.stdout == "hi\n"


def test_created_container_carries_the_annotation(containerd, namespace, image):
    containerd.runcore("create", "--hello-greeting", "hi", image, "hello-2", namespace=namespace)
    info = json.loads(containerd.ctr("containers", "info", "hello-2", namespace=namespace).stdout)
    assert info["Spec"]["annotations"][runcore_hello.ANNOTATION] == "hi"
    containerd.runcore("rm", "hello-2", namespace=namespace)  # the leak check wants it gone


def test_bad_value_leaves_nothing_behind(containerd, namespace, image):
    r = containerd.runcore(
        "run",
        "--hello-greeting",
        "a\nb",
        image,
        "hello-3",
        "true",
        namespace=namespace,
        check=False,
    )
    assert r.returncode == 1
    assert r.stderr == "runcore: --hello-greeting must be a single line\n"
