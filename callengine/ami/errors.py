"""Exceptions raised by the AMI layer."""

from __future__ import annotations

from callengine.ami.parser import Message


class AmiError(Exception):
    """Base class of every AMI error."""


class AmiConnectionError(AmiError):
    """The AMI connection was refused, lost or timed out."""


class AmiNotConnected(AmiConnectionError):
    """An action was requested while no AMI connection is up."""


class AmiAuthError(AmiError):
    """Asterisk refused the Login action."""

    def __init__(self, username: str, message: str) -> None:
        super().__init__(f"AMI login refused for user {username}: {message}")
        self.username = username
        self.message = message


class AmiActionError(AmiError):
    """Asterisk answered an action with 'Response: Error'."""

    def __init__(self, action: str, message: str, response: Message) -> None:
        super().__init__(f"AMI action {action} failed: {message}")
        self.action = action
        self.message = message
        self.response = response
