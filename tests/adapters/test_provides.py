"""``base.provides`` answers as ``isinstance`` does, for every backend kind and every port.

It answers once per source class; the matrix below (each kind a real source, built the way
the registry builds it, and one object that is no source) must match the runtime protocol
check before and after the answer is cached, so a port a kind gains or loses shows here.
"""

from __future__ import annotations

import inspect

import pytest

from adapters import base
from adapters.registry import FACTORIES, BackendSpec, build_source

PORTS = [
    obj
    for _, obj in inspect.getmembers(base, inspect.isclass)
    if getattr(obj, "_is_runtime_protocol", False) and obj is not base.Source
]


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_provides_matches_isinstance_for_every_port(kind: str) -> None:
    source = build_source(BackendSpec(name="x", kind=kind, url="http://127.0.0.1:9"))
    expected = {port.__name__: isinstance(source, port) for port in PORTS}
    for _ in range(2):  # computed, then answered from the per-class table
        assert {port.__name__: base.provides(source, port) for port in PORTS} == expected
    assert expected["ChangeLister"]  # every kind joins the federated changes
    assert not all(expected.values())  # and none provides every port


def test_provides_refuses_what_is_no_source() -> None:
    assert len(PORTS) >= 10
    for _ in range(2):
        assert not any(base.provides(object(), port) for port in PORTS)


def test_the_answers_are_kept_per_class_and_bounded() -> None:
    """No unbounded process-wide table: the answers live in a bounded LRU keyed by class."""
    assert base._class_provides.cache_info().maxsize is not None
