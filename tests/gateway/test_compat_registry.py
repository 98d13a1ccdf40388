"""The compat framework: every backend kind registers a router factory, whose routers refuse
a source of another kind, and whose sources can act as a caller's own backend user."""

from __future__ import annotations

import pytest

from adapters.base import CallerCredentials
from adapters.http import Credentials
from adapters.registry import COMPAT_ROUTERS, FACTORIES, BackendSpec, build_source
from gateway.settings import BACKEND_KINDS


def test_compat_every_kind_is_registered() -> None:
    assert set(COMPAT_ROUTERS) == set(BACKEND_KINDS) == set(FACTORIES)


@pytest.mark.parametrize("kind", BACKEND_KINDS)
def test_compat_router_factory_checks_the_kind(kind: str) -> None:
    source = build_source(
        BackendSpec(name="b", kind=kind, url="http://127.0.0.1:9", credentials=Credentials())
    )
    assert callable(COMPAT_ROUTERS[kind].router(source))
    assert isinstance(source, CallerCredentials)
    token = "user:secret" if kind == "gerrit" else "t0ken"
    acting = source.with_token(token)
    assert acting is not source and acting.name == "b" and acting.kind == kind
    for other in BACKEND_KINDS:
        if other != kind:
            with pytest.raises(TypeError):
                COMPAT_ROUTERS[other].router(source)
