"""One small function per AMI action used by the engine."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from callengine.ami.client import AmiClient
from callengine.ami.parser import Message

# AST_MAX_PUBLIC_UNIQUEID in Asterisk's include/asterisk/channel.h
MAX_CHANNEL_ID = 149


async def originate(
    ami: AmiClient,
    *,
    channel: str,
    context: str,
    exten: str,
    priority: int = 1,
    channel_id: str,
    timeout_ms: int,
    caller_id: str | None = None,
    variables: Mapping[str, str] | None = None,
    account: str | None = None,
    codecs: str | None = None,
    action_id: str | None = None,
) -> str:
    """Queue an async Originate to context/exten and return its ActionID.

    Pass action_id to know it before the reply: OriginateResponse may be read first.
    """
    if not channel_id or len(channel_id) > MAX_CHANNEL_ID:
        raise ValueError(f"channel_id must be 1..{MAX_CHANNEL_ID} characters")
    headers = [
        ("Channel", channel),
        ("Context", context),
        ("Exten", exten),
        ("Priority", str(priority)),
        ("Timeout", str(timeout_ms)),
        # Without Async the AMI session blocks until the callee answers.
        ("Async", "true"),
        ("ChannelId", channel_id),
    ]
    optional = (("CallerID", caller_id), ("Account", account), ("Codecs", codecs))
    headers += [(key, value) for key, value in optional if value is not None]
    headers += [("Variable", _variable(key, value)) for key, value in (variables or {}).items()]
    action_id = action_id or uuid.uuid4().hex
    await ami.send_action("Originate", headers, action_id=action_id)
    return action_id


async def core_show_channels(ami: AmiClient) -> list[Message]:
    """Return one CoreShowChannel event per live channel."""
    return await ami.send_action_collect(
        "CoreShowChannels", complete_event="CoreShowChannelsComplete"
    )


async def ping(ami: AmiClient) -> None:
    """Send Ping and wait for the answer."""
    await ami.send_action("Ping")


def _variable(key: str, value: str) -> str:
    if not key or "=" in key:
        raise ValueError(f"invalid channel variable name {key!r}")
    return f"{key}={value}"


async def device_state_list(ami: AmiClient) -> list[Message]:
    """Return every known device state (DeviceStateChange items: Device, State).

    Needs write=call or reporting and res_manager_devicestate; else an AmiActionError."""
    return await ami.send_action_collect("DeviceStateList",
                                         complete_event="DeviceStateListComplete")
