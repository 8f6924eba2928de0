"""Test support: playing the kubelet against a private containerd through CRI.

* :class:`CRI` - a small client of CRI's ``runtime.v1`` RuntimeService over containerd's
  gRPC socket, with messages from the hand-written protos in
  ``plugins/nri/protos/nri_cri_testing`` (no generated stubs: raw unary calls).
* :func:`build_pause_archive` - the busybox test image with ``Cmd = sleep`` so it can
  serve as the pod sandbox ("pause") image.
* :class:`Pods` - creates host-network pods and their containers, remembers them and
  removes everything at the end (a failed pod keeps its sandbox until removed).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import grpc

from nri_cri_testing.runtime.v1 import api_pb2 as cri

RUNTIME = "runtime.v1.RuntimeService"
#: Pods use host networking (no CNI on the test machines): NamespaceMode NODE.
NODE = cri.NODE
#: Every test pod's cgroup parent, so the cgroups can be found and removed afterwards.
CGROUP_PARENT_PREFIX = "/runcore-nri-test"
CGROUP_V1_ROOT = "/sys/fs/cgroup"


class CRIError(Exception):
    """A CRI call failed: ``code`` (grpc.StatusCode) and ``details`` (the error text)."""

    def __init__(self, method: str, code: Any, details: str) -> None:
        super().__init__(f"{method}: {code.name}: {details}")
        self.method = method
        self.code = code
        self.details = details


class CRI:
    """The kubelet's side of CRI, for the calls the tests need."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.insecure_channel("unix://" + os.path.abspath(address))

    def close(self) -> None:
        self.channel.close()

    def call(self, method: str, request: Any, response_type: Any, timeout: float = 120) -> Any:
        fn = self.channel.unary_unary(
            f"/{RUNTIME}/{method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString,
        )
        try:
            return fn(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise CRIError(method, exc.code(), exc.details() or "") from None

    def version(self) -> Any:
        return self.call("Version", cri.VersionRequest(version="v1"), cri.VersionResponse)

    def run_pod(self, config: Any) -> str:
        return self.call(
            "RunPodSandbox", cri.RunPodSandboxRequest(config=config), cri.RunPodSandboxResponse
        ).pod_sandbox_id

    def stop_pod(self, pod_id: str) -> None:
        self.call(
            "StopPodSandbox",
            cri.StopPodSandboxRequest(pod_sandbox_id=pod_id),
            cri.StopPodSandboxResponse,
        )

    def remove_pod(self, pod_id: str) -> None:
        self.call(
            "RemovePodSandbox",
            cri.RemovePodSandboxRequest(pod_sandbox_id=pod_id),
            cri.RemovePodSandboxResponse,
        )

    def pods(self) -> List[Any]:
        return list(
            self.call(
                "ListPodSandbox", cri.ListPodSandboxRequest(), cri.ListPodSandboxResponse
            ).items
        )

    def create_container(self, pod_id: str, config: Any, pod_config: Any) -> str:
        return self.call(
            "CreateContainer",
            cri.CreateContainerRequest(
                pod_sandbox_id=pod_id, config=config, sandbox_config=pod_config
            ),
            cri.CreateContainerResponse,
        ).container_id

    def start_container(self, container_id: str) -> None:
        self.call(
            "StartContainer",
            cri.StartContainerRequest(container_id=container_id),
            cri.StartContainerResponse,
        )

    def stop_container(self, container_id: str, timeout: int = 0) -> None:
        self.call(
            "StopContainer",
            cri.StopContainerRequest(container_id=container_id, timeout=timeout),
            cri.StopContainerResponse,
        )

    def remove_container(self, container_id: str) -> None:
        self.call(
            "RemoveContainer",
            cri.RemoveContainerRequest(container_id=container_id),
            cri.RemoveContainerResponse,
        )

    def containers(self, pod_id: str = "") -> List[Any]:
        request = cri.ListContainersRequest()
        if pod_id:
            request.filter.pod_sandbox_id = pod_id
        return list(self.call("ListContainers", request, cri.ListContainersResponse).containers)

    def exec_sync(self, container_id: str, cmd: Sequence[str], timeout: int = 30) -> Any:
        return self.call(
            "ExecSync",
            cri.ExecSyncRequest(container_id=container_id, cmd=list(cmd), timeout=timeout),
            cri.ExecSyncResponse,
            timeout=timeout + 30,
        )


class Pods:
    """Host-network pods and containers made by one test; :meth:`cleanup` removes them."""

    def __init__(self, client: CRI, image: str, tag: str = "") -> None:
        self.cri = client
        self.image = image
        self.tag = tag or uuid.uuid4().hex[:8]
        self.cgroup_parent = f"{CGROUP_PARENT_PREFIX}-{os.getpid()}-{self.tag}"
        self.pod_ids: List[str] = []

    def pod_config(self, name: str, annotations: Optional[Dict[str, str]] = None) -> Any:
        config = cri.PodSandboxConfig(
            metadata=cri.PodSandboxMetadata(name=name, uid=uuid.uuid4().hex, namespace="default"),
            annotations=annotations or {},
            linux=cri.LinuxPodSandboxConfig(
                cgroup_parent=self.cgroup_parent,
                security_context=cri.LinuxSandboxSecurityContext(
                    namespace_options=cri.NamespaceOption(network=NODE)
                ),
            ),
        )
        return config

    def run_pod(self, name: str, annotations: Optional[Dict[str, str]] = None) -> "Pod":
        config = self.pod_config(name, annotations)
        pod_id = self.cri.run_pod(config)
        self.pod_ids.append(pod_id)
        return Pod(self, pod_id, config)

    def cleanup(self) -> List[str]:
        """Stop and remove every pod this test made (and so their containers); remove
        the pods' cgroups. Returns problems."""
        problems = []
        try:
            for pod_id in self.pod_ids:
                try:
                    for container in self.cri.containers(pod_id):
                        self.cri.stop_container(container.id, timeout=0)
                        self.cri.remove_container(container.id)
                except CRIError as exc:
                    problems.append(str(exc))
                try:
                    self.cri.stop_pod(pod_id)
                    self.cri.remove_pod(pod_id)
                except CRIError as exc:
                    problems.append(str(exc))
            self.pod_ids.clear()
        finally:
            remove_cgroups(self.cgroup_parent)
        return problems


class Pod:
    """One pod sandbox."""

    def __init__(self, pods: Pods, pod_id: str, config: Any) -> None:
        self.pods = pods
        self.id = pod_id
        self.config = config

    def create(
        self,
        name: str,
        command: Sequence[str] = ("/bin/sleep", "3600"),
        annotations: Optional[Dict[str, str]] = None,
    ) -> str:
        config = cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name=name),
            image=cri.ImageSpec(image=self.pods.image),
            command=list(command),
            annotations=annotations or {},
            linux=cri.LinuxContainerConfig(),
        )
        return self.pods.cri.create_container(self.id, config, self.config)


def remove_cgroups(parent: str) -> None:
    """rmdir ``parent`` and its (empty) children in every cgroup v1 hierarchy."""
    root = Path(CGROUP_V1_ROOT)
    if not root.is_dir():
        return
    for hierarchy in root.iterdir():
        top = hierarchy / parent.lstrip("/")
        if not top.is_dir():
            continue
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda t: -len(t[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def cgroup_file(cgroups_path: str, controller: str, name: str) -> str:
    """The host-side value of a cgroup v1 file of a container."""
    return Path(CGROUP_V1_ROOT, controller, cgroups_path.lstrip("/"), name).read_text().strip()


# --------------------------------------------------------------------------- images


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def build_pause_archive(
    source: Path, target: Path, name: str, cmd: Sequence[str] = ("/bin/sleep", "2147483647")
) -> Path:
    """Copy the OCI archive *source* (one image) to *target* as image *name* whose
    config's ``Cmd`` is *cmd* (a sandbox image must block forever)."""
    with tarfile.open(source) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    index = json.loads(files["index.json"])
    manifest_digest = index["manifests"][0]["digest"]
    manifest = json.loads(files["blobs/sha256/" + manifest_digest.split(":", 1)[1]])
    config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"].split(":", 1)[1]])
    config["config"]["Cmd"] = list(cmd)
    config_bytes = _canonical(config)
    manifest["config"] = {
        **manifest["config"],
        "digest": _sha(config_bytes),
        "size": len(config_bytes),
    }
    manifest_bytes = _canonical(manifest)
    index["manifests"][0] = {
        **index["manifests"][0],
        "digest": _sha(manifest_bytes),
        "size": len(manifest_bytes),
        "annotations": {
            "io.containerd.image.name": name,
            "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1],
        },
    }
    blobs = {k: v for k, v in files.items() if k.startswith("blobs/")}
    blobs["blobs/sha256/" + _sha(config_bytes).split(":", 1)[1]] = config_bytes
    blobs["blobs/sha256/" + _sha(manifest_bytes).split(":", 1)[1]] = manifest_bytes
    out = {"oci-layout": files["oci-layout"], "index.json": _canonical(index), **blobs}
    with tarfile.open(target, "w") as tar:
        for member_name in ["oci-layout", "index.json", *sorted(blobs)]:
            data = out[member_name]
            info = tarfile.TarInfo(member_name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return target


def restart_daemon(daemon: Any, client: CRI, timeout: float = 60) -> None:
    """Restart a CRI/NRI daemon in place and wait until CRI serves again (containerd
    answers "server is not initialized yet" for a moment after it is up)."""
    import time

    daemon.restart()
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.pods()
            if os.path.exists(daemon.nri_socket):
                return
        except CRIError as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"CRI not ready {timeout}s after restart: {exc}") from None
        time.sleep(0.1)
