"""callengine: daily health-monitoring robocalls over Asterisk."""

__version__ = "0.1.0"
