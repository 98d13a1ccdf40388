"""Unified records → upstream Patchwork 3.2.1 REST payloads, per API version (records ⇄ payloads'
render direction; ``mapping.py`` parses). Used by the REST compatibility layer (``rest.py``).

Values come from the records; what the unified model lacks (a project's maintainers and URL
formats, a patch's ``prefixes``/``tags``/``related``, a comment's headers, a user's first and
last name, an event's payload objects) comes from the record's ``raw`` native payload, parsed
through ``mapping`` where it holds records itself.

URLs point back at the gateway (``Urls.base`` = ``<gateway origin>/rest/<backend>``):

* API URLs are built, with the request's version exactly as Patchwork does: ``url`` fields
  echo the request's version (``/api/1.2/…``, or ``/api/…`` for an unversioned request) and
  a ``?format=…`` the request named, while ``comments``/``checks`` list URLs on patches and
  covers are always unversioned (``/api/patches/3/checks/``);
* web URLs (``web_url``, ``mbox``) of the backend are rewritten onto the gateway base, so
  ``mbox`` downloads go through the gateway too; URLs elsewhere (a project's own site,
  ``list_archive_url``) are left alone.

Fields per version (``version`` 10…13; unversioned = 13): 1.1 adds ``web_url``, ``comments``,
cover ``mbox``, ``subject_match``; 1.2 adds ``list_archive_url`` (+ project URL formats) and
``related``; 1.3 adds a comment's ``url`` and ``addressed``.

The module also holds the two pagination rules the wire format fixes: ``per_page_of`` and
``link_header`` (DRF's ``replace_query_param`` order and spelling).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from adapters.errors import BadPayload
from adapters.model import (
    Bundle,
    Check,
    Comment,
    Cover,
    Event,
    MessageRef,
    Patch,
    Person,
    Project,
    Series,
    SeriesRef,
)
from adapters.patchwork import mapping

Json = dict[str, Any]

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 250  # Patchwork's MAX_REST_RESULTS_PER_PAGE default
INDEX_NAMES = ("projects", "users", "people", "patches", "covers", "series", "events", "bundles")
_PLURAL = {"Patch": "patches", "Cover": "covers"}
# patchwork/api/project.py ProjectSerializer.Meta.fields, around the detail-only fields
_PROJECT_HEAD = (
    "id",
    "url",
    "name",
    "link_name",
    "list_id",
    "list_email",
    "web_url",
    "scm_url",
    "webscm_url",
)
_PROJECT_TAIL = ("list_archive_url", "list_archive_url_format", "commit_url_format")


# -- pagination on the wire -----------------------------------------------------------------


def per_page_of(raw: str | None) -> int:
    """Patchwork's page size: default 30, at most 250; 0, negative or non-numeric → 30."""
    try:
        value = int(raw or "")
    except ValueError:
        return DEFAULT_PER_PAGE
    return DEFAULT_PER_PAGE if value <= 0 else min(value, MAX_PER_PAGE)


def replace_query_param(url: str, key: str, value: str | None) -> str:
    """DRF's ``replace_query_param``/``remove_query_param``: keys sorted, urlencoded."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    if value is None:
        params.pop(key, None)
    else:
        params[key] = [value]
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )


def link_header(url: str, page: int, last: int | None, has_next: bool) -> str:
    """Patchwork's ``Link`` value for ``page`` of a list at ``url``: next, prev, first, last.

    ``prev`` to page 1 drops the ``page`` parameter, as DRF does.
    """
    links = []
    if has_next:
        links.append(f'<{replace_query_param(url, "page", str(page + 1))}>; rel="next"')
    if page > 1:
        prev = replace_query_param(url, "page", None if page == 2 else str(page - 1))
        links.append(f'<{prev}>; rel="prev"')
    links.append(f'<{replace_query_param(url, "page", "1")}>; rel="first"')
    if last is not None:
        links.append(f'<{replace_query_param(url, "page", str(last))}>; rel="last"')
    return ", ".join(links)


# -- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Urls:
    """Where rendered URLs point: the gateway's base for one backend, at one API version."""

    base: str  # "<gateway origin>/rest/<backend>", no trailing slash
    upstream: str  # the backend's URL: its web URLs are rewritten onto ``base``
    version: int  # 10, 11, 12 or 13 (unversioned /api/ behaves as 13)
    api: str  # "/api/1.3" or "/api"
    fmt: str = ""  # "?format=json" when the request named a format (DRF echoes it)

    def api_url(self, path: str) -> str:
        """An API URL at the request's version."""
        return f"{self.base}{self.api}/{path}{self.fmt}"

    def unversioned(self, path: str) -> str:
        """An unversioned API URL (comments/checks lists on patches and covers)."""
        return f"{self.base}/api/{path}"

    def web(self, url: str | None) -> str | None:
        """A backend web URL moved onto the gateway; other URLs unchanged."""
        upstream = self.upstream.rstrip("/")
        if url is not None and (url == upstream or url.startswith(upstream + "/")):
            return self.base + url[len(upstream) :]
        return url


@functools.lru_cache(maxsize=65536)  # ids recur on every page of a list: parse each once
def _id(native: str) -> int | str:
    """Patchwork ids are integers; user ids lose the unified model's ``u`` prefix."""
    bare = native.removeprefix("u")
    return int(bare) if bare.isdigit() else native


class _Mail(Protocol):
    """A mail-backed record (patch, cover, comment, or their summaries)."""

    @property
    def msgid(self) -> str | None: ...

    @property
    def list_archive_url(self) -> str | None: ...

    @property
    def date(self) -> datetime | None: ...


def _date(value: datetime | None) -> str | None:
    return None if value is None else _format_date(value)


@functools.lru_cache(maxsize=65536)  # datetimes are immutable; lists repeat them per request
def _format_date(value: datetime) -> str:
    return mapping.format_date(value)


def _server_date(value: datetime, raw: Mapping[str, Any], backend: str) -> str:
    """A server-clock date (check, event) as the server spelled it: in its ``time_zone``."""
    spelled = raw.get("date")
    if isinstance(spelled, str):
        try:
            if mapping.parse_server_date(spelled, backend) == value:
                return spelled
        except BadPayload:  # an unparseable spelling is not reused
            pass
    return mapping.format_server_date(value, backend)


def _keep(value: Any, raw: Mapping[str, Any], key: str) -> Any:
    """The record's value, or the native one where the record normalized it away (``""``)."""
    return raw.get(key, value) if value is None else value


class Renderer:
    """Renders unified records of one Patchwork backend as its REST payloads for one request."""

    def __init__(self, urls: Urls) -> None:
        self.u = urls
        self.v = urls.version
        # URL pieces every object needs, built once per request rather than per field.
        self._api = f"{urls.base}{urls.api}/"
        self._fmt = urls.fmt
        self._unversioned = f"{urls.base}/api/"
        self._upstream = urls.upstream.rstrip("/")
        self._upstream_dir = self._upstream + "/"
        self._cut = len(self._upstream)
        self._base = urls.base

    def _web(self, url: str | None) -> str | None:
        """``Urls.web``, with its prefixes computed once (called several times per object)."""
        if url is not None and (url.startswith(self._upstream_dir) or url == self._upstream):
            return self._base + url[self._cut :]
        return url

    def _mail(self, out: Json, m: _Mail) -> None:
        """The fields every mail-backed object carries, in Patchwork's order."""
        out["msgid"] = m.msgid
        if self.v >= 12:
            out["list_archive_url"] = m.list_archive_url
        out["date"] = _date(m.date)

    # -- people and projects ----------------------------------------------------------------

    def user_embed(self, user: Person | None) -> Json | None:
        """A user account as embedded (delegate, owner, maintainer, actor, check user)."""
        if user is None:
            return None
        uid = _id(user.id)
        return {
            "id": uid,
            "url": f"{self._api}users/{uid}/{self._fmt}",
            "username": user.username,
            "first_name": user.raw.get("first_name", ""),
            "last_name": user.raw.get("last_name", ""),
            "email": user.email,
        }

    def user(self, user: Person) -> Json:
        """``users/<id>/``; ``settings`` (1.2+) only where the backend showed them."""
        out = self.user_embed(user)
        assert out is not None
        if self.v >= 12 and "settings" in user.raw:
            out["settings"] = dict(user.raw["settings"])
        return out

    def user_item(self, user: Person) -> Json:
        """An item of ``users/``."""
        out = self.user_embed(user)
        assert out is not None
        return out

    def person_embed(self, person: Person | None) -> Json | None:
        """A mail sender as embedded (submitter)."""
        if person is None:
            return None
        pid = _id(person.id)
        return {
            "id": pid,
            "url": f"{self._api}people/{pid}/{self._fmt}",
            "name": person.name,
            "email": person.email,
        }

    def person(self, person: Person) -> Json:
        """``people/`` items and detail: the sender and its linked user account."""
        out = self.person_embed(person)
        assert out is not None
        out["user"] = self.user_embed(mapping.user(person.backend, person.raw.get("user")))
        return out

    def project_embed(self, project: Project | None) -> Json | None:
        """A project as embedded in patches, covers, series, events and bundles."""
        if project is None:
            return None
        raw = project.raw
        pid = _id(project.id)
        out: Json = {
            "id": pid,
            "url": f"{self._api}projects/{pid}/{self._fmt}",
            "name": project.name,
            "link_name": project.link_name,
            "list_id": project.list_id,
            "list_email": project.list_email,
            "web_url": _keep(project.web_url, raw, "web_url"),
            "scm_url": _keep(project.scm_url, raw, "scm_url"),
            "webscm_url": _keep(project.webscm_url, raw, "webscm_url"),
        }
        if self.v >= 12:
            out["list_archive_url"] = _keep(project.list_archive_url, raw, "list_archive_url")
            out["list_archive_url_format"] = raw.get("list_archive_url_format")
            out["commit_url_format"] = raw.get("commit_url_format")
        return out

    def project(self, project: Project) -> Json:
        """``projects/`` items and detail: adds maintainers and ``subject_match`` (1.1+), in
        the serializer's field order (patchwork/api/project.py ``ProjectSerializer.Meta``:
        ``maintainers`` and ``subject_match`` before the 1.2 URL formats)."""
        embed = self.project_embed(project)
        assert embed is not None
        out: Json = {}
        for key in _PROJECT_HEAD:
            out[key] = embed[key]
        maintainers = project.raw.get("maintainers") or []
        out["maintainers"] = [
            self.user_embed(mapping.user(project.backend, m)) for m in maintainers
        ]
        if self.v >= 11:
            out["subject_match"] = project.raw.get("subject_match", "")
        for key in _PROJECT_TAIL:
            if key in embed:
                out[key] = embed[key]
        return out

    # -- embedded summaries -----------------------------------------------------------------

    def patch_embed(self, ref: MessageRef) -> Json:
        """A patch as embedded in series, bundles, events and ``related``."""
        out: Json = {"id": _id(ref.id), "url": self.u.api_url(f"patches/{ref.id}/")}
        if self.v >= 11:
            out["web_url"] = self.u.web(ref.web_url)
        self._mail(out, ref)
        out["name"] = ref.name
        out["mbox"] = self.u.web(ref.mbox_url)
        return out

    def cover_embed(self, ref: MessageRef | None) -> Json | None:
        """A cover letter as embedded in series and events."""
        if ref is None:
            return None
        out: Json = {"id": _id(ref.id), "url": self.u.api_url(f"covers/{ref.id}/")}
        if self.v >= 11:
            out["web_url"] = self.u.web(ref.web_url)
        self._mail(out, ref)
        out["name"] = ref.name
        if self.v >= 11:
            out["mbox"] = self.u.web(ref.mbox_url)
        return out

    def series_embed(self, ref: SeriesRef) -> Json:
        """A series as embedded in patches, covers and events."""
        out: Json = {"id": _id(ref.id), "url": f"{self._api}series/{ref.id}/{self._fmt}"}
        if self.v >= 11:
            out["web_url"] = self._web(ref.web_url)
        out["date"] = _date(ref.date)
        out["name"] = ref.name
        out["version"] = ref.version
        out["mbox"] = self._web(ref.mbox_url)
        return out

    def comment_embed(self, comment: Comment) -> Json:
        """A comment as embedded in a ``*-comment-created`` event (1.3)."""
        parent = _PLURAL.get(comment.parent_type, "patches")
        return {
            "id": _id(comment.id),
            "url": self.u.api_url(f"{parent}/{comment.parent_id}/comments/{comment.id}/"),
            "web_url": self.u.web(comment.web_url),
            "msgid": comment.msgid,
            "list_archive_url": comment.list_archive_url,
            "date": _date(comment.date),
        }

    def check_embed(self, check: Check) -> Json:
        """A check as embedded in a ``check-created`` event."""
        return {
            "id": _id(check.id),
            "url": self.u.api_url(f"patches/{check.change_id}/checks/{check.id}/"),
            "date": _server_date(check.date, check.raw, check.backend),
            "state": check.raw_state,
            "target_url": _keep(check.target_url, check.raw, "target_url"),
            "context": check.context,
        }

    # -- top-level objects ------------------------------------------------------------------

    def patch(self, patch: Patch) -> Json:
        """``patches/`` items and detail (a detail record adds headers, content, diff)."""
        raw = patch.raw
        pid = _id(patch.id)
        v = self.v
        web = self._web
        out: Json = {"id": pid, "url": f"{self._api}patches/{pid}/{self._fmt}"}
        if v >= 11:
            out["web_url"] = web(patch.web_url)
        out["project"] = self.project_embed(patch.project)
        self._mail(out, patch)
        out["name"] = patch.title
        out["commit_ref"] = patch.commit_ref
        out["pull_url"] = patch.pull_url
        out["state"] = patch.raw_state
        out["archived"] = patch.archived
        out["hash"] = patch.hash
        out["submitter"] = self.person_embed(patch.submitter)
        out["delegate"] = self.user_embed(patch.delegate)
        out["mbox"] = web(patch.mbox_url)
        out["series"] = [self.series_embed(s) for s in patch.series]
        if v >= 11:
            out["comments"] = f"{self._unversioned}patches/{pid}/comments/"
        check = patch.check_state
        out["check"] = mapping.CHECK_UNMAP[check] if check is not None else raw.get("check")
        out["checks"] = f"{self._unversioned}patches/{pid}/checks/"
        out["tags"] = dict(raw.get("tags") or {})
        # Patchwork's update answer has no ``related``: render it where the backend sent it.
        if v >= 12 and "related" in raw:
            related = raw["related"] or []
            out["related"] = [
                self.patch_embed(mapping.message_ref(patch.backend, r)) for r in related
            ]
        if patch.is_detail:
            out["headers"] = dict(patch.headers or {})
            out["content"] = patch.content
            out["diff"] = patch.diff
            out["prefixes"] = list(raw.get("prefixes") or [])
        return out

    def cover(self, cover: Cover) -> Json:
        """``covers/`` items and detail (a detail record adds headers and content)."""
        cid = _id(cover.id)
        out: Json = {"id": cid, "url": self.u.api_url(f"covers/{cid}/")}
        if self.v >= 11:
            out["web_url"] = self.u.web(cover.web_url)
        out["project"] = self.project_embed(cover.project)
        self._mail(out, cover)
        out["name"] = cover.title
        out["submitter"] = self.person_embed(cover.submitter)
        if self.v >= 11:
            out["mbox"] = self.u.web(cover.mbox_url)
        out["series"] = [self.series_embed(s) for s in cover.series]
        if self.v >= 11:
            out["comments"] = self.u.unversioned(f"covers/{cid}/comments/")
        if cover.headers is not None:
            out["headers"] = dict(cover.headers)
            out["content"] = cover.content
        return out

    def series(self, series: Series) -> Json:
        """``series/`` items and detail."""
        sid = _id(series.id)
        out: Json = {"id": sid, "url": self.u.api_url(f"series/{sid}/")}
        if self.v >= 11:
            out["web_url"] = self.u.web(series.web_url)
        out["project"] = self.project_embed(series.project)
        out["name"] = series.name
        out["date"] = _date(series.date)
        out["submitter"] = self.person_embed(series.submitter)
        out["version"] = series.version
        out["total"] = series.total
        out["received_total"] = series.received_total
        out["received_all"] = series.received_all
        out["mbox"] = self.u.web(series.mbox_url)
        out["cover_letter"] = self.cover_embed(series.cover)
        out["patches"] = [self.patch_embed(p) for p in series.patches]
        return out

    def comment(self, comment: Comment) -> Json:
        """``…/comments/`` items and (1.3) detail."""
        out: Json = {"id": _id(comment.id)}
        if self.v >= 13:
            parent = _PLURAL.get(comment.parent_type, "patches")
            out["url"] = self.u.api_url(f"{parent}/{comment.parent_id}/comments/{comment.id}/")
        if self.v >= 11:
            out["web_url"] = self.u.web(comment.web_url)
        self._mail(out, comment)
        out["subject"] = comment.subject
        out["submitter"] = self.person_embed(comment.submitter)
        out["content"] = comment.content
        out["headers"] = comment.raw.get("headers")
        if self.v >= 13:
            out["addressed"] = comment.addressed
        return out

    def check(self, check: Check) -> Json:
        """``patches/<id>/checks/`` items and detail, in the field order of
        patchwork/api/check.py ``CheckSerializer.Meta`` (``user`` after ``url``)."""
        embed = self.check_embed(check)
        out: Json = {"id": embed["id"], "url": embed["url"]}
        out["user"] = self.user_embed(check.user)
        for key in ("date", "state", "target_url", "context"):
            out[key] = embed[key]
        out["description"] = _keep(check.description, check.raw, "description")
        return out

    def event(self, event: Event) -> Json:
        """``events/`` items; the payload's objects come from the record's native payload."""
        backend = event.backend
        payload: Json = {}
        native = event.raw.get("payload") or {}
        for key, value in native.items():
            if key in ("patch", "cover") and value is not None:
                ref = mapping.message_ref(backend, value)
                payload[key] = self.patch_embed(ref) if key == "patch" else self.cover_embed(ref)
            elif key == "series" and value is not None:
                payload[key] = self.series_embed(mapping.series_ref(backend, value))
            elif key == "comment" and value is not None:
                kind, parent = (
                    ("Patch", event.patch_id) if event.patch_id else ("Cover", event.cover_id)
                )
                comment = mapping.comment(backend, value, kind, parent or "")
                payload[key] = self.comment_embed(comment)
            elif key == "check" and value is not None:
                payload[key] = self.check_embed(mapping.check(backend, value, event.patch_id or ""))
            elif key in ("previous_state", "current_state"):
                payload[key] = getattr(event, key)
            elif key in ("previous_delegate", "current_delegate"):
                payload[key] = self.user_embed(getattr(event, key))
            else:
                payload[key] = value
        return {
            "id": _id(event.id),
            "category": event.category,
            "project": self.project_embed(event.project),
            "date": _server_date(event.date, event.raw, event.backend),
            "actor": self.user_embed(event.actor),
            "payload": payload,
        }

    def bundle(self, bundle: Bundle) -> Json:
        """``bundles/`` items and detail."""
        bid = _id(bundle.id)
        out: Json = {"id": bid, "url": self.u.api_url(f"bundles/{bid}/")}
        if self.v >= 11:
            out["web_url"] = self.u.web(bundle.web_url)
        out["project"] = self.project_embed(bundle.project)
        out["name"] = bundle.name
        out["owner"] = self.user_embed(bundle.owner)
        out["patches"] = [self.patch_embed(p) for p in bundle.patches]
        out["public"] = bundle.public
        out["mbox"] = self.u.web(bundle.mbox_url)
        return out

    def index(self) -> Json:
        """The API root: one URL per resource, at the request's version."""
        return {name: self.u.api_url(f"{name}/") for name in INDEX_NAMES}
