"""The ``Link`` header parser (``adapters/http_model.py``): what pagination follows; and the
query parameters of a page's URL."""

from __future__ import annotations

from yarl import URL

from adapters.http import Response, parse_link_header
from adapters.http_model import Params, _with_params


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


def test_query_parameters_keep_their_order_and_spelling() -> None:
    params: Params = {
        "q": "a b&c",
        "page": 2,
        "archived": False,
        "state": ["new", "accepted"],
        "n": (1, 2),
        "e": "",
    }
    url = _with_params(URL("http://b/api/"), params)
    assert str(url) == (
        "http://b/api/?q=a+b%26c&page=2&archived=false&state=new&state=accepted&n=1&n=2&e="
    )
