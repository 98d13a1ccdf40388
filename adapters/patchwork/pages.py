"""The web pages the compat layer's ``web_url`` fields point at, rendered from records.

Patchwork's own pages are its Django UI; the gateway does not copy that UI, but a
``web_url`` it hands out must lead somewhere rather than to a 404. These are small,
self-contained HTML pages (escaped, no scripts) with what a reader of the real page looks
for — subject, submitter, state, date, the series, and the download links (which go through
the gateway as well):

* ``project/<p>/patch/<msgid>/``  → ``patch_page``
* ``project/<p>/cover/<msgid>/``  → ``cover_page``
* ``project/<p>/list/?series=<id>`` → ``series_page``

Comment and bundle pages are not served (Patchwork's ``comment/<id>/`` is a redirect the API
gives no way to resolve; bundles are per-user UI).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape

from adapters.model import Cover, MessageRef, Patch, Person, Series, SeriesRef
from adapters.patchwork import mapping
from adapters.patchwork.render import Urls


def _person(person: Person | None) -> str:
    if person is None:
        return "-"
    if person.email:
        return f"{person.display_name} &lt;{escape(person.email)}&gt;"
    return escape(person.display_name)


def _link(url: str | None, label: str) -> str:
    if not url:
        return escape(label)
    return f'<a href="{escape(url)}">{escape(label)}</a>'


def _document(title: str, rows: Iterable[tuple[str, str]], body: str = "") -> bytes:
    table = "\n".join(f"    <tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    html = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        f"  <title>{escape(title)}</title>\n</head>\n<body>\n  <h1>{escape(title)}</h1>\n"
        f"  <table>\n{table}\n  </table>\n{body}</body>\n</html>\n"
    )
    return html.encode()


def _series_links(urls: Urls, series: tuple[SeriesRef, ...]) -> str:
    return ", ".join(_link(urls.web(s.web_url), s.name or f"series {s.id}") for s in series) or "-"


def _date(value: datetime | None) -> str:
    return "-" if value is None else mapping.format_date(value)


def patch_page(urls: Urls, patch: Patch) -> bytes:
    """A patch's page."""
    rows = [
        ("Message ID", escape(patch.msgid)),
        ("Submitter", _person(patch.submitter)),
        ("Date", _date(patch.date)),
        ("State", escape(patch.raw_state)),
        ("Archived", "yes" if patch.archived else "no"),
        ("Delegate", _person(patch.delegate) if patch.delegate else "-"),
        ("Series", _series_links(urls, patch.series)),
        (
            "Download",
            f"{_link(urls.web(patch.mbox_url), 'mbox')} | "
            f"{_link(urls.web(_raw(patch.mbox_url)), 'diff')}",
        ),
    ]
    body = f"  <pre>{escape(patch.diff)}</pre>\n" if patch.diff else ""
    return _document(patch.title, rows, body)


def cover_page(urls: Urls, cover: Cover) -> bytes:
    """A cover letter's page."""
    rows = [
        ("Message ID", escape(cover.msgid)),
        ("Submitter", _person(cover.submitter)),
        ("Date", _date(cover.date)),
        ("Series", _series_links(urls, cover.series)),
        ("Download", _link(urls.web(cover.mbox_url), "mbox")),
    ]
    body = f"  <pre>{escape(cover.content)}</pre>\n" if cover.content else ""
    return _document(cover.title, rows, body)


def series_page(urls: Urls, series: Series) -> bytes:
    """A series' page: its cover letter and patches, linked to their own pages."""
    refs: list[MessageRef] = [*([series.cover] if series.cover else []), *series.patches]
    items = "\n".join(f"    <li>{_link(urls.web(r.web_url), r.name)}</li>" for r in refs)
    rows = [
        ("Submitter", _person(series.submitter)),
        ("Date", _date(series.date)),
        ("Version", str(series.version)),
        ("Received", f"{series.received_total} of {series.total}"),
        ("Download", _link(urls.web(series.mbox_url), "mbox")),
    ]
    return _document(series.name or f"series {series.id}", rows, f"  <ul>\n{items}\n  </ul>\n")


def _raw(mbox_url: str | None) -> str | None:
    # Patchwork's raw diff sits next to the mbox (git-pw derives it the same way).
    if mbox_url and mbox_url.endswith("/mbox/"):
        return mbox_url[: -len("mbox/")] + "raw/"
    return None
