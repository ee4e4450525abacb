"""Domain errors shown to users: each message names what is wrong."""


class CallengineError(Exception):
    """Base of every error the CLI reports as one clear line."""


class ConfigError(CallengineError):
    """A setting, config file or scenario field is invalid."""


class LabError(CallengineError):
    """The Asterisk lab could not be built, started or stopped."""
