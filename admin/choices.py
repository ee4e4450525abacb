"""SelectField options as WTForms takes them: SelectChoice, never (value, label) tuples
(deprecated in WTForms 3.3, gone in 3.4)."""

from __future__ import annotations

from typing import Iterable, Mapping

from wtforms.fields.choices import SelectChoice

Pairs = Iterable[tuple[str, object]]


def options(pairs: Pairs) -> list[SelectChoice]:
    """One option per (value, label) pair, in order."""
    return [SelectChoice(value, label) for value, label in pairs]


def grouped_options(groups: Mapping[str, Pairs]) -> list[SelectChoice]:
    """Options under <optgroup> headings: {heading: pairs}."""
    return [SelectChoice(value, label, optgroup=heading)
            for heading, pairs in groups.items() for value, label in pairs]


def labels(choices: Iterable[SelectChoice]) -> dict[str, object]:
    """value -> label of a field's options."""
    return {choice.value: choice.label for choice in choices}
