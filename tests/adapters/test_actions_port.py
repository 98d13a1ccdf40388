"""Every kind implements the kind-neutral ``ChangeActor`` port (``adapters/actions.py``): its
source and views provide it, mypy checks the signatures (the typed assignments below), and
``action_support`` follows the credential, without an upstream request (nothing here can
reach a server: the URLs are ``.invalid``)."""

from __future__ import annotations

import pytest

from adapters import base
from adapters.abf.source import AbfSource
from adapters.actions import ActionSupport, ChangeActor
from adapters.gerrit.source import GerritSource
from adapters.http import Credentials
from adapters.patchwork.source import PatchworkSource
from adapters.patchwork_fdo.source import FdoSource
from adapters.registry import BackendSpec, build_source


def _actors(
    pw: PatchworkSource, fdo: FdoSource, gerrit: GerritSource, abf: AbfSource
) -> list[ChangeActor]:
    return [pw, fdo, gerrit, abf]  # mypy --strict checks each against the port


def _source(kind: str, credentials: Credentials | None = None) -> base.Source:
    spec = BackendSpec(
        name="x", kind=kind, url="http://x.invalid", credentials=credentials or Credentials()
    )
    return build_source(spec)


SIGNED = {
    "patchwork": ActionSupport("Patch", review=True, close=True, merge=True, report_check=True),
    "patchwork-fdo": ActionSupport("Patch", report_check=True),
    "gerrit": ActionSupport("GerritChange", True, True, True, True, True),
    "abf": ActionSupport("PullRequest", close=True, merge=True),
}


@pytest.mark.parametrize("kind", sorted(SIGNED))
def test_support_follows_the_credential(kind: str) -> None:
    signed = _source(kind, Credentials(token="t0ken", username="u", password="p"))
    anonymous = _source(kind)
    assert base.provides(signed, ChangeActor) and base.provides(anonymous, ChangeActor)
    assert signed.action_support() == SIGNED[kind]
    # without a credential a kind can do nothing (every forge's writes need a user)
    assert anonymous.action_support() == ActionSupport(SIGNED[kind].change_type)


def test_views_are_actors_too() -> None:
    pw, fdo, gerrit, abf = (
        _source(k, Credentials(token="t0ken"))
        for k in ("patchwork", "patchwork-fdo", "gerrit", "abf")
    )
    assert isinstance(pw, PatchworkSource) and isinstance(fdo, FdoSource)
    assert isinstance(gerrit, GerritSource) and isinstance(abf, AbfSource)
    views = [
        *_actors(pw, fdo, gerrit, abf),
        fdo.anonymous_view(),
        gerrit.anonymous_view(),
        abf.anonymous_view(),
        pw.with_token("other"),
        gerrit.with_token("u:other"),
    ]
    for view in views:
        assert base.provides(view, ChangeActor), view
        assert view.action_support().change_type in ("Patch", "GerritChange", "PullRequest")
