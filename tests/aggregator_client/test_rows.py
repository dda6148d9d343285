"""A listing read row by row gives what `json.loads` gives, and refuses what it refuses."""

from __future__ import annotations

import json

import pytest

from winged_monkey_aggregator.rows import elements

ARRAYS = [
    "[]",
    " [ ]\n",
    "[1]",
    '[{"id": "i-1", "links": {"stop": {"href": "/x]", "method": "POST"}}}, {"id": "i-2"}]',
    ' [ {"a":[1,[2,{}]]} ,\n\t"x" , null , true , 1.5e3 , "caf\\u00e9 ✓" ]\r\n',
    '["]", "[", ","]',
]
NOT_ARRAYS = ["", " ", "{}", "1", '"[1]"', "[", "[1,]", "[,1]", "[1 2]", "[1]x", "[1][2]", "[] ]"]


@pytest.mark.parametrize("text", ARRAYS)
def test_an_array_reads_as_json_loads_reads_it(text: str) -> None:
    assert list(elements(text)) == json.loads(text)


@pytest.mark.parametrize("text", NOT_ARRAYS)
def test_what_is_no_json_array_is_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the contract: json.loads' own error)
        list(elements(text))


def test_a_fleet_sized_listing_reads_whole() -> None:
    rows = [{"id": f"i-{n:05d}", "name": f"web-{n}", "state": "running"} for n in range(10_000)]
    assert list(elements(json.dumps(rows))) == rows
