"""The ``Link`` header parser (``adapters/http_model.py``): what pagination follows."""

from __future__ import annotations

from adapters.http import Response, parse_link_header


def test_link_header_parser_edge_cases() -> None:
    value = '</a?page=2>; rel="next last", <http://h/b>;title="x, y";rel=prev'
    assert parse_link_header(value, "http://h/base") == {
        "next": "http://h/a?page=2",
        "last": "http://h/a?page=2",
        "prev": "http://h/b",
    }
    assert parse_link_header("") == {}
    plain = Response(status=200, url="http://h/", headers={}, body=b"")
    assert plain.links() == {}
