"""Command-line subcommands of this area, registered by callengine.cli."""

from __future__ import annotations


def register(subparsers) -> None:
    """Add this area's subcommands to the `callengine` parser."""
