"""The single error exit: known errors become sentences, unknown ones a correlation id."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.messages import NOT_IN_CHANNEL
from bot.capillary.catalogue import TransportFailure
from bot.capillary.errors import CapillaryItemError, CapillaryTransportError
from bot.capillary.identifiers import InvalidInputError, parse_customer
from bot.commands import UsageError, Verb
from bot.errors import error_exit, explain
from bot.sandbox.slack import RunningEmulator, running_slack_emulator

USER = "U03AGENT"
CHANNEL = "C01SUPPORT"
COMMAND_BODY: dict[str, Any] = {
    "command": "/coupon",
    "text": "redeem GOOD200",
    "user_id": USER,
    "channel_id": CHANNEL,
    "response_url": "https://hooks.slack.com/commands/T0SANDBOX/1/x",
}
ACTION_BODY: dict[str, Any] = {
    "type": "block_actions",
    "user": {"id": USER},
    "response_url": "https://hooks.slack.com/actions/T0SANDBOX/1/x",
}
LOGGER = "coupon_bot.errors"


class FakeRespond:
    """Stands in for Bolt's ``respond``: records every call."""

    def __init__(self, fails: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self._fails = fails

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self._fails:
            raise ConnectionError("response_url unreachable")


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with running_slack_emulator() as running:
        yield running


@pytest.fixture
def client(emulator: RunningEmulator) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=emulator.api_url)


def bolt_context(
    client: AsyncWebClient, respond: FakeRespond | None = None, **values: str
) -> AsyncBoltContext:
    """What Bolt hands a listener: the client, ids from the payload, and respond if given."""
    context = AsyncBoltContext()
    context["client"] = client
    context["user_id"] = USER
    context["channel_id"] = CHANNEL
    if respond is not None:
        context["respond"] = respond
    context.update(values)
    return context


def raised(error: Exception) -> Exception:
    """The error with a traceback, as Bolt's error handler receives it."""
    try:
        raise error
    except Exception as caught:
        return caught


async def slack_error(client: AsyncWebClient, channel: str) -> SlackApiError:
    """A real SlackApiError, from the emulator refusing a post."""
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel=channel, text="hello")
    return info.value


# ---- explain ------------------------------------------------------------------------------


def test_explain_usage_error_is_its_message() -> None:
    error = UsageError("I don't know “reddem”. Did you mean `redeem`?", Verb.REDEEM)
    assert explain(error) == "I don't know “reddem”. Did you mean `redeem`?"


def test_explain_invalid_input_is_its_message() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_customer("not-a-customer!")
    assert explain(info.value) == str(info.value)
    assert "is not a customer" in str(explain(info.value))


def test_explain_capillary_error_is_sentence_and_next_step() -> None:
    error = CapillaryItemError(713, "Coupon Expired", request_id="req-1")
    assert explain(error) == (
        "This coupon has expired. "
        "Offer the customer a coupon from an active series (/coupon issue <series> <customer>)."
    )


def test_explain_capillary_transport_error() -> None:
    error = CapillaryTransportError(TransportFailure.TIMEOUT, "ReadTimeout", sent=True)
    assert explain(error) == "Capillary didn't answer in time. Wait a minute and try again."


async def test_explain_slack_not_in_channel(client: AsyncWebClient) -> None:
    error = await slack_error(client, "C03RANDOM")  # the bot is not a member there

    assert error.response["error"] == "not_in_channel"
    assert explain(error) == NOT_IN_CHANNEL
    assert "/invite @coupon-bot" in NOT_IN_CHANNEL


async def test_explain_slack_channel_not_found(client: AsyncWebClient) -> None:
    error = await slack_error(client, "C99NOWHERE")

    assert error.response["error"] == "channel_not_found"
    assert explain(error) == NOT_IN_CHANNEL


async def test_explain_other_slack_errors_are_unexpected(client: AsyncWebClient) -> None:
    bad_token = AsyncWebClient(token="not-a-bot-token", base_url=client.base_url)
    error = await slack_error(bad_token, CHANNEL)

    assert error.response["error"] == "invalid_auth"
    assert explain(error) is None


@pytest.mark.parametrize(
    "error", [RuntimeError("boom"), KeyError("user"), ValueError("bad")], ids=type
)
def test_explain_unexpected_error_is_none(error: Exception) -> None:
    assert explain(error) is None


# ---- error_exit ---------------------------------------------------------------------------


async def test_before_ack_a_command_is_answered_in_the_ack_body(client: AsyncWebClient) -> None:
    respond = FakeRespond()
    context = bolt_context(client, respond)
    error = raised(UsageError("`check` takes a code and a customer.", Verb.CHECK))

    response = await error_exit(error, COMMAND_BODY, context, client)

    assert response.status == 200
    assert json.loads(response.body) == {
        "response_type": "ephemeral",
        "text": "`check` takes a code and a customer.",
    }
    assert respond.calls == []


async def test_before_ack_a_forms_error_goes_under_its_first_input_block(
    client: AsyncWebClient,
) -> None:
    # Like an approval modal: the question (a section) first; Slack keys errors by inputs only.
    view = {
        "type": "modal",
        "blocks": [
            {"type": "section", "block_id": "question", "text": {"type": "mrkdwn", "text": "?"}},
            {"type": "input", "block_id": "note", "element": {"type": "plain_text_input"}},
        ],
    }
    body = {"type": "view_submission", "user": {"id": USER}, "view": view}
    error = raised(UsageError("That note is too long.", Verb.REDEEM))

    response = await error_exit(error, body, bolt_context(client), client)

    assert json.loads(response.body) == {
        "response_action": "errors",
        "errors": {"note": "That note is too long."},
    }


async def test_after_ack_the_answer_goes_through_respond(client: AsyncWebClient) -> None:
    respond = FakeRespond()
    context = bolt_context(client, respond)
    await context.ack()
    error = raised(CapillaryItemError(711, "Already redeemed", request_id="req-711"))

    response = await error_exit(error, COMMAND_BODY, context, client)

    assert response.status == 200
    assert response.body == ""
    assert respond.calls == [
        {
            "text": "This coupon has already been used. "
            "Run /coupon get <code> to see when and where it was redeemed.",
            "response_type": "ephemeral",
            "replace_original": False,
        }
    ]


async def test_an_action_is_answered_through_respond_even_before_ack(
    client: AsyncWebClient,
) -> None:
    respond = FakeRespond()
    context = bolt_context(client, respond)

    response = await error_exit(raised(UsageError("No.")), ACTION_BODY, context, client)

    assert response.body == ""
    assert [call["text"] for call in respond.calls] == ["No."]


async def test_after_ack_the_answer_reaches_slack_through_the_response_url(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    url = emulator.state.issue_response_url(USER, CHANNEL)
    context = bolt_context(client, response_url=url)  # Bolt's own AsyncRespond
    await context.ack()

    await error_exit(raised(UsageError("No such verb.")), COMMAND_BODY, context, client)

    (post,) = emulator.state.responses
    assert post.response_type == "ephemeral"
    assert post.body["text"] == "No such verb."
    assert post.user == USER


async def test_unexpected_error_gets_a_correlation_id_shown_and_logged(
    client: AsyncWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    respond = FakeRespond()
    context = bolt_context(client, respond)
    await context.ack()
    error = raised(RuntimeError("database is locked"))

    with caplog.at_level(logging.INFO, logger=LOGGER):
        await error_exit(error, COMMAND_BODY, context, client)

    (call,) = respond.calls
    text = call["text"]
    assert "Something went wrong on my side" in text
    assert "database is locked" not in text  # internals stay in the log
    match = re.search(r"`([0-9a-f]{8})`", text)
    assert match is not None
    correlation = match[1]
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.ERROR
    assert correlation in record.getMessage()
    assert "/coupon" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[1] is error
    assert "Traceback" in caplog.text
    assert "RuntimeError: database is locked" in caplog.text


async def test_each_unexpected_error_gets_its_own_correlation_id(
    client: AsyncWebClient,
) -> None:
    texts = []
    for _ in range(3):
        response = await error_exit(
            raised(RuntimeError("x")), COMMAND_BODY, bolt_context(client, FakeRespond()), client
        )
        texts.append(json.loads(response.body)["text"])

    ids = {re.findall(r"`([0-9a-f]{8})`", text)[0] for text in texts}
    assert len(ids) == 3


async def test_known_errors_are_logged_without_traceback(
    client: AsyncWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await error_exit(
            raised(UsageError("secret-ish user text")),
            COMMAND_BODY,
            bolt_context(client, FakeRespond()),
            client,
        )

    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    assert "UsageError" in record.getMessage()
    assert "secret-ish" not in record.getMessage()


async def test_error_exit_never_raises_when_telling_the_user_fails(
    client: AsyncWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    respond = FakeRespond(fails=True)
    context = bolt_context(client, respond)
    await context.ack()

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        response = await error_exit(raised(UsageError("No.")), COMMAND_BODY, context, client)

    assert response.status == 200
    assert len(respond.calls) == 1
    assert "could not tell the user" in caplog.text


async def test_without_a_response_url_the_user_gets_an_ephemeral(
    client: AsyncWebClient, emulator: RunningEmulator
) -> None:
    context = bolt_context(client)  # e.g. an event: a channel and a user, no response_url
    await context.ack()

    await error_exit(raised(UsageError("No.")), {"type": "event_callback"}, context, client)

    assert [m.text for m in emulator.state.ephemerals(USER)] == ["No."]
