"""The local Ray the service starts listens on loopback only: its GCS, raylet, workers and
agents talk to each other on this machine, and nothing of theirs is reachable from the network.

One exception Ray does not let us close: each Serve replica opens a gRPC server for calls
between deployments on ``[::]:0``, written into Ray (``ray/serve/_private/replica.py``, 2.60)
with no setting; Ray's token authentication guards it. The test allows exactly that one per
replica, so any other listener beyond loopback fails it.

The session's Ray is started the way ``serve.runner.start_ray`` starts a local one."""

from __future__ import annotations

import ipaddress
import os

import psutil
import ray


def listening(process: psutil.Process) -> list[tuple[int, str, str, int]]:
    """``(pid, name, address, port)`` of each socket the process listens on (none once it
    has ended: idle workers come and go)."""
    try:
        return [
            (process.pid, process.name(), c.laddr.ip, c.laddr.port)
            for c in process.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@ray.remote
def worker_pid() -> int:
    return os.getpid()


class TestWhereTheLocalRayListens:
    def test_no_ray_process_listens_beyond_loopback(self, ray_cluster: None) -> None:
        # A worker has started, so its server is among those checked.
        worker = psutil.Process(ray.get(worker_pid.remote(), timeout=60))
        me = psutil.Process()
        processes = {me, *me.children(recursive=True)}
        assert worker in processes
        sockets = {entry for process in processes for entry in listening(process)}
        names = {name for _, name, _, _ in sockets}
        # Something was checked: the GCS and the raylet at least.
        assert {"gcs_server", "raylet"} <= names, sockets
        beyond = [entry for entry in sockets if not loopback(entry[2])]
        replicas = [pid for pid, name, _, _ in beyond if name.startswith("ray::ServeReplica")]
        assert len(replicas) == len(beyond), beyond
        assert len(set(replicas)) == len(replicas), beyond
