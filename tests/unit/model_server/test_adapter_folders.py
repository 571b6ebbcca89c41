"""An adapter's name becomes a folder name and an inference component's name."""

from __future__ import annotations

import pytest

from noticebot.domain.errors import InvalidRequest
from noticebot.model_server.adapter_folders import check_adapter_name


@pytest.mark.parametrize("name", ["ft-1\n", "../ft-1", "ft/1", "", "-ft", "a" * 64, None])
def test_names_are_checked_whole(name):
    with pytest.raises(InvalidRequest):
        check_adapter_name(name)


def test_a_component_name_is_kept():
    assert check_adapter_name("noticebot-ws1-ft.2") == "noticebot-ws1-ft.2"
