"""The JSON API fuzzed with schemathesis against its own OpenAPI document.

Every operation of /api/v1/openapi.json (read from the running app, so a new endpoint is
fuzzed as soon as it has an `@operation` note) gets generated requests, valid and invalid,
through the WSGI app on a seeded SQLite database: with an admin's token, with a staff
member's, and with none. No answer may be a 500, and every answer must be one the document
declares: its status code, its content type, its body's schema.

Bounded for CI: 15 examples per operation, no deadline, derandomised with a fixed seed so a
failure reproduces exactly. To search harder, e.g. before a release:
    API_FUZZ_EXAMPLES=300 API_FUZZ_SEED=7 pytest tests/admin/test_api_fuzz.py
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate as validate_openapi
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from werkzeug.exceptions import HTTPException

from callengine.store.db import Database
from admin import create_app
from tests.admin.conftest import admin_settings
from tests.admin.flag_helpers import FixedClock, seed_flag
from tests.fixtures.imports import workbooks as wb
from tests.unit.casework_helpers import add_attempt, add_person, add_task

DOCUMENT = "/api/v1/openapi.json"
SEED = int(os.environ.get("API_FUZZ_SEED", "20211"))  # schemathesis gives it to hypothesis
FUZZ = settings(max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "15")), deadline=None,
                derandomize=True, database=None, suppress_health_check=list(HealthCheck))
# Every answer passes schemathesis's default checks (among them not_a_server_error,
# status_code_conformance, content_type_conformance, response_schema_conformance,
# response_headers_conformance, ignored_auth, unsupported_method), except two whose premise a
# truthful document cannot meet:
# - positive_data_acceptance wants every schema-valid request accepted, but cursors are opaque
#   (only those this API gave are valid), an uploaded file must be a real spreadsheet, and
#   some actions need a note: such requests rightly get 400 or 422;
# - negative_data_rejection wants every schema-violating request refused, but an empty query
#   argument (?date=) deliberately means "not given" (today, no filter).
# The stateful phase is left out too: the document declares no links between operations.
LENIENT = [negative_data_rejection, positive_data_acceptance]


@dataclass
class FuzzedApi:
    app: object
    tokens: dict[str, str]

    def bearer(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _seed(db) -> None:
    """People with and without calls, flags of each kind, one person closed."""
    seed_flag(db, phone="+84912000001")
    seed_flag(db, phone="+84912000002", name="Trần Thị Bình", kind="callback", urgent=False,
              age=timedelta(hours=3), district="Hậu Lộc", commune="Hoa Lộc")
    seed_flag(db, phone="+84912000003", name="Lê Văn Cường", kind="unreachable",
              urgent=False, age=timedelta(days=1), task_status="failed", outcome="no_answer")
    with db.session() as s:
        closed = add_person(s, "+84912000004", "Phạm Thị Dung", status="closed",
                            category="F2", national_id="038123456789")
        add_attempt(s, add_task(s, closed, status="failed", last_outcome="busy"),
                    outcome="busy")
        add_person(s, "+84912000005", "Hoàng Văn Em", alt_phones="+84987000111")


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> FuzzedApi:
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'callengine.db'}"
    db = Database(url)
    _seed(db)
    app = create_app(admin_settings(url, data_dir=folder / "data"), db=db, clock=FixedClock())
    app.config["TESTING"] = True
    accounts = app.extensions["callengine"].accounts
    tokens = {role: accounts.issue_token(accounts.create_user(role, "mật khẩu thử", role).id)
              .token for role in ("admin", "supervisor", "staff")}
    fuzzed = FuzzedApi(app, tokens)
    staged = app.test_client().post(
        "/api/v1/imports", headers=fuzzed.bearer("staff"), content_type="multipart/form-data",
        data={"date": wb.LIST_DATE.isoformat(),
              "files": [(io.BytesIO(wb.web_upload(folder).read_bytes()), "ds_web.xlsx")]})
    assert staged.status_code == 201, staged.get_data(as_text=True)
    yield fuzzed
    db.dispose()


def _reaches_a_view(app, response) -> bool:
    """Whether a route matches the request: a path that names nothing (404) or a method the
    route lacks (405, which the coverage phase sends) is answered before any access check."""
    url = urlsplit(response.request.url)
    try:
        app.url_map.bind("localhost").match(unquote(url.path), response.request.method)
    except HTTPException:
        return False
    return True


@pytest.fixture(scope="module")
def api_schema(api):
    config = schemathesis.Config.from_dict({"seed": SEED})
    return schemathesis.openapi.from_wsgi(DOCUMENT, api.app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


def test_the_document_is_valid_openapi_3(api):
    document = api.app.test_client().get(DOCUMENT).json
    validate_openapi(document)
    assert document["paths"], "the document describes no operation"


@schema.parametrize()
@FUZZ
def test_an_admin_never_gets_a_500_nor_an_undocumented_answer(case, api):
    case.call_and_validate(headers=api.bearer("admin"), excluded_checks=LENIENT)


@schema.parametrize()
@FUZZ
def test_staff_get_documented_answers_and_403_on_supervisor_work(case, api):
    case.call_and_validate(headers=api.bearer("staff"), excluded_checks=LENIENT)


@schema.parametrize()
@FUZZ
def test_without_a_token_every_protected_operation_answers_401_in_json(case, api):
    case.headers = {name: value for name, value in (case.headers or {}).items()
                    if name.lower() != "authorization"}  # drop a generated bearer token
    response = case.call()
    case.validate_response(response, excluded_checks=LENIENT)
    protected = case.operation.definition.raw.get("security") != []
    if protected and _reaches_a_view(api.app, response):
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthorized"
