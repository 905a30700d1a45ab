"""Named, detached actors: the one way the service's long-lived actors are found or started.

Each lives under a name in the service's namespace, outlives the process that started it
(``lifetime="detached"``), is restarted by Ray after a crash (``max_restarts=-1``) and takes a
twentieth of a CPU (they wait on I/O; whole CPUs would let only two fit on a laptop).
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "campaign-manager"


def named_actor(actor_class: Any, name: str, *args: Any, **options: Any) -> Any:
    """The actor called ``name``, started with ``args`` if none runs; ``options`` add to or
    override the defaults above (``max_task_retries`` for instance)."""
    return actor_class.options(
        **{
            "name": name,
            "namespace": NAMESPACE,
            "get_if_exists": True,
            "lifetime": "detached",
            "max_restarts": -1,
            "num_cpus": 0.05,
            **options,
        }
    ).remote(*args)
