"""Patchwork 3.2.1's REST API views as OPTIONS names them (shared by the compat layer and
the simulator).

DRF's ``SimpleMetadata`` answers OPTIONS with the view's name — the class name, CamelCase
split into words, a trailing ``View`` dropped (``rest_framework.views.get_view_name``) — and
its description — the class docstring, dedented (``get_view_description``). Derived from
patchwork/api/{index,project,person,user,patch,check,comment,cover,series,event,bundle}.py
and patchwork/urls.py at tag v3.2.1: keys are API paths with ids as ``<id>``.
"""

from __future__ import annotations

from collections.abc import Mapping


def _crud(noun: str, *verbs: str) -> str:
    """A docstring of the ``get:`` / ``patch:`` … form."""
    parts = [f"get:\nShow {noun}."]
    parts += [f"{verb}:\n{action} {noun}." for verb, action in _ACTIONS if verb in verbs]
    return "\n\n".join(parts)


_ACTIONS = (("patch", "Update"), ("put", "Update"), ("delete", "Delete"))

VIEWS: Mapping[str, tuple[str, str]] = {
    "": ("Index", ""),  # IndexView has no docstring
    "projects": ("Project List", "List projects."),
    "projects/<id>": ("Project Detail", _crud("a project", "patch", "put")),
    "people": ("Person List", "List users."),
    "people/<id>": ("Person Detail", "Show a user."),
    "users": ("User List", "List users."),
    "users/<id>": ("User Detail", _crud("a user", "patch", "put")),
    "patches": ("Patch List", "List patches."),
    "patches/<id>": ("Patch Detail", _crud("a patch", "patch", "put")),
    "patches/<id>/checks": ("Check List Create", "get:\nList checks.\n\npost:\nCreate a check."),
    "patches/<id>/checks/<id>": ("Check Detail", "Show a check."),
    "patches/<id>/comments": ("Patch Comment List", "List patch comments"),
    "patches/<id>/comments/<id>": (
        "Patch Comment Detail",
        _crud("a patch comment", "patch", "put"),
    ),
    "covers": ("Cover List", "List cover letters."),
    "covers/<id>": ("Cover Detail", "Show a cover letter."),
    "covers/<id>/comments": ("Cover Comment List", "List cover comments"),
    "covers/<id>/comments/<id>": ("Cover Comment Detail", _crud("a cover comment", "patch", "put")),
    "series": ("Series List", "List series."),
    "series/<id>": ("Series Detail", "Show a series."),
    "events": ("Event List", "List events."),
    "bundles": ("Bundle List", "List or create bundles."),
    "bundles/<id>": ("Bundle Detail", _crud("a bundle", "patch", "put", "delete")),
}

RENDERS = ["application/json", "text/html"]
PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]


def view_key(parts: list[str]) -> str:
    """The ``VIEWS`` key of an API path's parts (``["patches", "3"]`` → ``patches/<id>``)."""
    return "/".join(p if i % 2 == 0 else "<id>" for i, p in enumerate(parts))


def metadata(parts: list[str]) -> dict[str, object]:
    """OPTIONS without ``actions`` (what a caller who may not write gets)."""
    name, description = VIEWS.get(view_key(parts), ("", ""))
    return {"name": name, "description": description, "renders": RENDERS, "parses": PARSES}
