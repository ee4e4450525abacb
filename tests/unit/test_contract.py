"""The dialplan and the engine agree on every shared name (callengine/contract.py)."""

import re
from pathlib import Path

from callengine import contract
from callengine.app import survey_variables
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings

DIALPLAN = (Path(__file__).parents[2] / "dialplans" / "extensions_callengine.conf").read_text()


def test_every_variable_the_engine_sets_is_read_by_the_dialplan():
    variables = survey_variables(Settings(), load_questionnaire(DEFAULT_QUESTIONNAIRE))
    for name in [*variables, contract.VAR_ATTEMPT]:
        assert "${" + name + "}" in DIALPLAN or f"({name}," in DIALPLAN, name


def test_every_user_event_the_engine_handles_is_raised_by_the_dialplan():
    raised = set(re.findall(r"UserEvent\((\w+),", DIALPLAN))
    assert {contract.EVENT_ANSWERED, contract.EVENT_ANSWER, contract.EVENT_END} <= raised


def test_contexts_and_stages_match():
    assert f"[{contract.SURVEY_CONTEXT}]" in DIALPLAN
    assert f"[{contract.SURVEY_END_CONTEXT}]" in DIALPLAN
    for stage in (contract.STAGE_DONE, contract.STAGE_SILENT, contract.STAGE_TIMEOUT):
        assert f"CE_STAGE={stage})" in DIALPLAN


def test_no_unescaped_semicolon_inside_dialplan_code():
    # ';' starts a comment in Asterisk config files: answers would silently be cut off.
    code_lines = [line for line in DIALPLAN.splitlines()
                  if line.startswith(("exten", " same"))]
    assert code_lines
    for line in code_lines:
        assert re.search(r"(?<!\\);", line) is None, line


def test_answers_round_trip_through_the_userfield_format():
    stage, answers = contract.decode_answers("stage=done;fever=1;cough=2;callback=cough;")
    assert stage == "done"
    assert answers == {"fever": "1", "cough": "2", "callback": "cough"}
