"""Global IDs (``schema/node.py``): decoded the same way every time they are asked."""

from __future__ import annotations

import pytest

from schema import node
from schema.errors import UserInputError


def test_an_id_decodes_the_same_every_time() -> None:
    value = node.encode("Patch", "pw", "44")
    first = node.decode(value)
    assert first == node.decode(value) == node.GlobalId("Patch", "pw", "44")
    assert node.decode(value, "Patch") == first
    with pytest.raises(UserInputError, match="is a Patch, expected Series or Cover"):
        node.decode(value, ("Series", "Cover"))  # a known ID of the wrong type


@pytest.mark.parametrize("value", ["garbage", "bm9wZQ", node.encode("Patch", "", "1"), "é"])
def test_a_bad_id_is_refused_every_time(value: str) -> None:
    for _ in range(2):
        with pytest.raises(UserInputError) as refused:
            node.decode(value)
        assert refused.value.code == "BAD_ID"
