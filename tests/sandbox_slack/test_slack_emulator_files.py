"""files_upload_v2 through slack_sdk's real AsyncWebClient: URL, upload, completion, rules."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import RunningEmulator

CSV = "id,code\n1,GOOD100\n2,GOOD100"


async def slack_error(call: object) -> str:
    """The Slack error code of an awaited SDK call that must fail."""
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return str(caught.value.response["error"])


async def test_upload_v2_shares_the_file_in_a_thread(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    parent = await client.chat_postMessage(channel="C01SUPPORT", text="parent")
    answer = await client.files_upload_v2(
        channel="C01SUPPORT",
        thread_ts=parent["ts"],
        content=CSV,
        filename="log.csv",
        title="Audit log",
        initial_comment="all rows",
    )
    assert answer["file"]["name"] == "log.csv" and answer["file"]["title"] == "Audit log"
    [shared] = emulator.state.files_in("C01SUPPORT", parent["ts"])
    assert (shared.id, shared.name, shared.title) == (answer["file"]["id"], "log.csv", "Audit log")
    assert shared.content == CSV.encode() and shared.text == CSV
    assert shared.initial_comment == "all rows"
    assert emulator.state.files_in("C01SUPPORT") == []  # not at the top level
    methods = [c.method for c in emulator.state.calls()]
    assert methods[-3:] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert emulator.state.calls("upload")[0].args["length"] == len(CSV.encode())


async def test_upload_url_points_at_the_emulator(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    answer = await client.files_getUploadURLExternal(filename="a.csv", length=3)
    assert answer["upload_url"] == f"{emulator.base_url}/upload/{answer['file_id']}"
    async with httpx.AsyncClient() as http:
        posted = await http.post(answer["upload_url"], content=b"abc")
        missing = await http.post(f"{emulator.base_url}/upload/F404", content=b"abc")
    assert (posted.status_code, posted.text) == (200, "OK")
    assert missing.status_code == 404
    file = emulator.state.file(answer["file_id"])
    assert file is not None and file.content == b"abc"
    assert emulator.state.files == []  # uploaded, not completed


async def test_get_upload_url_needs_a_name_and_a_length(client: AsyncWebClient) -> None:
    no_length = client.api_call("files.getUploadURLExternal", params={"filename": "a.csv"})
    assert await slack_error(no_length) == "invalid_arguments"
    no_name = client.api_call("files.getUploadURLExternal", params={"length": "3"})
    assert await slack_error(no_name) == "invalid_arguments"


async def test_completion_needs_the_upload_and_happens_once(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    url = await client.files_getUploadURLExternal(filename="a.csv", length=3)
    files = [{"id": url["file_id"], "title": "A"}]
    never_uploaded = client.files_completeUploadExternal(files=files, channel_id="C01SUPPORT")
    assert await slack_error(never_uploaded) == "file_upload_not_found"
    async with httpx.AsyncClient() as http:
        await http.post(url["upload_url"], content=b"abc")
    await client.files_completeUploadExternal(files=files, channel_id="C01SUPPORT")
    again = client.files_completeUploadExternal(files=files, channel_id="C01SUPPORT")
    assert await slack_error(again) == "file_not_found"
    unknown = client.files_completeUploadExternal(files=[{"id": "F0"}], channel_id="C01SUPPORT")
    assert await slack_error(unknown) == "file_not_found"
    async with httpx.AsyncClient() as http:
        late = await http.post(url["upload_url"], content=b"xyz")
    assert late.status_code == 400
    [shared] = emulator.state.files_in("C01SUPPORT")
    assert shared.content == b"abc"


async def test_channel_and_thread_rules_match_chat_post_message(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    parent = await client.chat_postMessage(channel="C01SUPPORT", text="parent")
    reply = await client.chat_postMessage(channel="C01SUPPORT", text="r", thread_ts=parent["ts"])

    def upload(channel: str, thread_ts: str | None = None) -> object:
        return client.files_upload_v2(
            channel=channel, thread_ts=thread_ts, content="x", filename="x.txt"
        )

    assert await slack_error(upload("C404")) == "channel_not_found"
    assert await slack_error(upload("C01SUPPORT", reply["ts"])) == "thread_not_found"
    assert await slack_error(upload("C01SUPPORT", "1.000001")) == "thread_not_found"
    assert await slack_error(upload("C02ESCALATIONS", parent["ts"])) == "thread_not_found"
    assert await slack_error(upload("C03RANDOM")) == "not_in_channel"  # bot not invited
    assert emulator.state.files == []  # a refused completion shares nothing
