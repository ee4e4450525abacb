"""Importing CDC lists: reader -> headers -> rows -> merge -> service; commands for the CLI."""
