"""The ``/api/v1`` routers: every module in this package that defines ``router`` is mounted,
so adding a resource is adding one module."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter


def api_routers() -> list[APIRouter]:
    routers = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers
