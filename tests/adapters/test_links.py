"""``adapters/links.py``: keys read out of messages and mails, and the evidence rules — each
evidence kind where it is, and not where only a look-alike is."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest

from adapters import links
from adapters.links import Evidence, LinkKeys
from adapters.patchwork import mapping as pw_mapping

CID = "I" + "0123456789" * 4
OTHER = "I" + "9876543210" * 4
SHA = "0123456789abcdef" * 2 + "01234567"
FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_change_id_trailers_and_links_come_from_the_last_paragraph() -> None:
    msg = (
        "net: fix it\n\nA body that mentions Change-Id: " + OTHER + " in passing.\n\n"
        "Signed-off-by: Ada <ada@example.org>\n"
        "Link: https://lore.kernel.org/r/20261201.1-ada@example.org\n"
        "Change-Id: " + CID + "\n"
    )
    assert links.keys_of_message(msg) == (
        frozenset({CID}),
        frozenset({"20261201.1-ada@example.org"}),
    )


@pytest.mark.parametrize(
    "msg",
    [
        # quoted in a reply: not a trailer
        f"Re: net: fix it\n\nOn Monday Ada wrote:\n> net: fix it\n>\n> Change-Id: {CID}\n",
        # in the middle of the text
        f"net: fix it\n\nChange-Id: {CID}\n\nMore text after it, as a paragraph.\n",
        # a block of prose with one trailer-looking line: fewer than one in four
        f"net: fix it\n\nwe saw\nthat the\nfix works\nand more\nChange-Id: {CID}\n",
        # not a Change-Id: too short, upper-case hex
        "net: fix it\n\nChange-Id: I0123456789\n",
        "net: fix it\n\nChange-Id: I" + "0123456789ABCDEF" * 2 + "01234567\n",
    ],
)
def test_no_change_id_where_only_a_look_alike_is(msg: str) -> None:
    assert links.keys_of_message(msg)[0] == frozenset()


def test_trailers_stop_at_the_diffstat() -> None:
    content = (
        f"net: fix it\n\nbody\n\nChange-Id: {CID}\n---\n net/core/skbuff.c | 2 +-\n"
        "diff --git a/x b/x\n"
    )
    assert links.keys_of_message(content)[0] == frozenset({CID})


@pytest.mark.parametrize(
    ("url", "msgid"),
    [
        ("https://lore.kernel.org/r/20261201.1-ada@example.org", "20261201.1-ada@example.org"),
        ("https://patch.msgid.link/20261201.1-ada@example.org", "20261201.1-ada@example.org"),
        ("https://lore.kernel.org/netdev/abc@x.org/T/#u", "abc@x.org"),
        ("https://example.org/mail/%3Cabc%40x.org%3E", "abc@x.org"),
        ("https://bugzilla.example.org/show_bug.cgi?id=1", None),
        ("not a url", None),
    ],
)
def test_link_urls_name_the_message_id_they_end_in(url: str, msgid: str | None) -> None:
    assert links.link_msgid(url) == msgid


def test_shas_are_whole_object_names_only() -> None:
    assert links.sha(SHA.upper()) == SHA
    assert links.sha(SHA[:12]) is None
    assert links.sha("v6.1") is None
    assert links.sha(None) is None


def test_message_ids_lose_their_brackets() -> None:
    assert links.msgid(" <a@b> ") == "a@b"
    assert links.msgid("<>") is None
    mail = "From: Ada <ada@example.org>\nMessage-ID: <a@b>\nSubject: x\n\nMessage-Id: <c@d>\n"
    assert links.header_msgid(mail) == "a@b"  # the header, not the body
    assert links.header_msgid("Subject: x\n\nbody") is None


def test_titles_lose_their_mail_prefixes() -> None:
    assert links.plain_title("[PATCH v2 1/2] net: fix") == "net: fix"
    assert links.plain_title("[RFC,1/4][net] net: fix") == "net: fix"
    assert links.plain_title("net: fix [v2]") == "net: fix [v2]"


def _keys(
    message_ids: Iterable[str] = (),
    change_ids: Iterable[str] = (),
    link_msgids: Iterable[str] = (),
    shas: Iterable[str] = (),
    patch_id: str | None = None,
) -> LinkKeys:
    return LinkKeys(
        frozenset(message_ids),
        frozenset(change_ids),
        frozenset(link_msgids),
        frozenset(shas),
        patch_id,
    )


def test_evidence_kinds_and_confidence() -> None:
    patch = _keys(message_ids={"m@x"}, change_ids={CID}, shas={SHA}, patch_id="p1")
    gerrit = _keys(change_ids={CID}, link_msgids={"m@x"}, shas={SHA}, patch_id="p1")
    found = links.evidence(patch, gerrit)
    assert found == [
        Evidence.CHANGE_ID_TRAILER,
        Evidence.COMMIT_SHA,
        Evidence.LINK_TRAILER,
        Evidence.PATCH_ID,
    ]
    assert links.evidence(gerrit, patch) == found  # symmetric
    assert links.confidence(found) == 1.0
    assert links.confidence([Evidence.PATCH_ID]) == 0.9
    assert links.confidence([Evidence.LINK_TRAILER, Evidence.PATCH_ID]) == 0.95
    assert links.confidence([]) == 0.0
    assert links.evidence(_keys(message_ids={"m@x"}), _keys(message_ids={"m@x"})) == [
        Evidence.MESSAGE_ID
    ]
    # two changes linking the same mail are linked by it
    assert links.evidence(_keys(link_msgids={"m@x"}), _keys(link_msgids={"m@x"})) == [
        Evidence.LINK_TRAILER
    ]


def test_no_evidence_without_a_shared_key() -> None:
    a = _keys(message_ids={"a@x"}, change_ids={CID}, shas={SHA}, patch_id="p1")
    b = _keys(message_ids={"b@x"}, change_ids={OTHER}, shas={"f" * 40}, patch_id="p2")
    assert links.evidence(a, b) == []
    assert links.evidence(_keys(), _keys()) == []  # no patch-id on either: not equal
    assert not _keys()


def test_query_of_unions_keys_and_drops_what_was_searched() -> None:
    q = links.query_of(
        [_keys(message_ids={"a@x"}, link_msgids={"b@x"}, change_ids={CID}, shas={SHA})],
        ["[PATCH] t", ""],
    )
    assert q.message_ids == {"a@x", "b@x"} and q.change_ids == {CID} and q.shas == {SHA}
    assert q.titles == {"[PATCH] t"}
    again = links.query_of([_keys(message_ids={"a@x", "c@x"}, shas={SHA})])
    assert again.without(q) == links.LinkQuery(message_ids=frozenset({"c@x"}))
    assert not links.LinkQuery()


def test_recorded_patchwork_patch_keys() -> None:
    """A real Patchwork 3.2.1 detail: Message-Id and the diff's patch-id, no commit yet."""
    d = json.loads((FIXTURES / "patchwork-3.2.1" / "v1.3" / "patch-3.json").read_text())
    patch = pw_mapping.patch("pw", d)
    keys = links.patch_keys(patch)
    assert keys.message_ids == {d["msgid"].strip("<>")}
    assert keys.patch_id is not None and len(keys.patch_id) == 40
    assert keys.change_ids == frozenset() and keys.shas == frozenset()
    assert links.patch_keys(replace(patch, commit_ref=SHA)).shas == {SHA}
    assert links.patch_keys(replace(patch, commit_ref=SHA[:12])).shas == frozenset()


def test_every_kind_provides_the_link_ports() -> None:
    from adapters.abf.source import AbfSource
    from adapters.gerrit.source import GerritSource
    from adapters.patchwork.source import PatchworkSource
    from adapters.patchwork_fdo.source import AnonymousFdoSource, FdoSource

    for cls in (PatchworkSource, FdoSource, AnonymousFdoSource, GerritSource, AbfSource):
        assert issubclass(cls, links.LinkKeyReader), cls
        assert issubclass(cls, links.LinkFinder), cls
