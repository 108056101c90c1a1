"""The shared Block Kit pieces stay inside Slack's limits."""

from __future__ import annotations

from bot.blocks.blockkit import md, small


def test_md_is_a_mrkdwn_section_cut_to_3000_characters() -> None:
    data = md("x" * 5000).to_dict()
    assert data["type"] == "section"
    assert data["text"]["type"] == "mrkdwn"
    assert len(data["text"]["text"]) == 3000


def test_small_is_a_context_block_one_element_a_line_each_cut_to_2000() -> None:
    data = small("one", "y" * 5000).to_dict()
    assert data["type"] == "context"
    assert [e["type"] for e in data["elements"]] == ["mrkdwn", "mrkdwn"]
    assert data["elements"][0]["text"] == "one"
    assert len(data["elements"][1]["text"]) == 2000
