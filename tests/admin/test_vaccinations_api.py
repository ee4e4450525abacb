"""The vaccination API: POST /api/v1/vaccinations, a person's certificate, the signer's
certificate, and their OpenAPI entries. SQLite and PostgreSQL."""

from __future__ import annotations

import zlib

import base45
import cbor2
import pytest
from cryptography import x509
from pycose.keys import CoseKey
from pycose.messages import Sign1Message

from callengine.certificates import keyfiles
from tests.unit.casework_helpers import add_person


@pytest.fixture
def person_id(db):
    with db.session() as s:
        return add_person(s, "+84912345678", "Lê Văn Đức").id


@pytest.fixture
def keys(app, clock):
    settings = app.extensions["callengine"].settings
    return keyfiles.generate(settings.certificate_key_path, settings.certificate_signer_path,
                             clock.now())


def _post(client, headers, **body):
    return client.post("/api/v1/vaccinations", json=body, headers=headers)


def test_doses_are_posted_by_short_name_or_mp_code(client, token_of, person_id):
    staff = token_of("staff")
    first = _post(client, staff, person_id=person_id, product="Moderna", dose_number=1,
                  date="2021-08-01", lot="M1", site="TTYT Nga Sơn")
    assert first.status_code == 201
    assert first.json | {"id": 0} == {"id": 0, "person_id": person_id,
                                      "product": "EU/1/20/1507",
                                      "product_name": "Moderna Spikevax",
                                      "manufacturer": "ORG-100031184", "dose_number": 1,
                                      "date": "2021-08-01", "lot": "M1", "site": "TTYT Nga Sơn"}
    second = _post(client, staff, person_id=person_id, product="EU/1/20/1507", dose_number=2,
                   date="2021-09-01")
    assert second.status_code == 201 and second.json["lot"] == ""


@pytest.mark.parametrize("body, field, words", [
    ({"product": "Pfizer", "dose_number": 2, "date": "2021-08-01"}, "dose_number",
     "Chưa có mũi 1"),
    ({"product": "Pfizer", "dose_number": 1, "date": "2099-01-01"}, "date", "ở tương lai"),
    ({"product": "Covaxin", "dose_number": 1, "date": "2021-08-01"}, "product",
     "không có trong danh mục"),
    ({"product": "Pfizer", "dose_number": 1, "date": "01/08/2021"}, "date", "YYYY-MM-DD"),
    ({"product": "Pfizer", "dose_number": "1", "date": "2021-08-01"}, "dose_number", ""),
    ({"product": "Pfizer", "dose_number": 1, "date": "2021-08-01", "note": "x"}, "note", ""),
])
def test_refused_doses_name_the_field(client, token_of, person_id, body, field, words):
    refused = _post(client, token_of("staff"), person_id=person_id, **body)
    assert refused.status_code == 422
    assert refused.json["error"]["field"] == field
    assert words in refused.json["error"]["message"]


def test_a_dose_for_no_such_person_is_404(client, token_of):
    missing = _post(client, token_of("staff"), person_id=999999, product="AZ", dose_number=1,
                    date="2021-08-01")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_the_certificate_verifies_with_the_published_signer(client, token_of, person_id,
                                                            keys):
    staff = token_of("staff")
    assert client.get(f"/api/v1/people/{person_id}/certificate",
                      headers=staff).status_code == 409  # no dose yet
    _post(client, staff, person_id=person_id, product="Janssen", dose_number=1,
          date="2021-10-01")
    answer = client.get(f"/api/v1/people/{person_id}/certificate", headers=staff)
    assert answer.status_code == 200
    text = answer.json["hc1"]
    pem = client.get("/api/v1/certificates/signer")  # public: no token
    assert pem.status_code == 200 and pem.mimetype == "application/x-pem-file"
    certificate = x509.load_pem_x509_certificate(pem.data)
    message = Sign1Message.decode(zlib.decompress(base45.b45decode(text[4:])))
    message.key = CoseKey.from_pem_public_key(certificate.public_key().public_bytes(
        *_spki()).decode())
    assert message.verify_signature()
    dcc = cbor2.loads(message.payload)[-260][1]
    assert dcc["nam"] == {"fn": "Lê", "fnt": "LE", "gn": "Văn Đức", "gnt": "VAN<DUC"}
    assert (dcc["v"][0]["mp"], dcc["v"][0]["dn"], dcc["v"][0]["sd"]) == ("EU/1/20/1525", 1, 1)


def _spki():
    from cryptography.hazmat.primitives import serialization
    return serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo


def test_without_keys_the_certificate_is_refused_and_the_signer_404(client, token_of,
                                                                    person_id):
    staff = token_of("staff")
    _post(client, staff, person_id=person_id, product="AZ", dose_number=1, date="2021-08-01")
    refused = client.get(f"/api/v1/people/{person_id}/certificate", headers=staff)
    assert refused.status_code == 409 and "keygen" in refused.json["error"]["message"]
    assert refused.json["error"]["code"] == "signer_unavailable"
    assert client.get("/api/v1/certificates/signer").status_code == 404


def test_the_openapi_document_describes_the_vaccination_api(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "201" in paths["/api/v1/vaccinations"]["post"]["responses"]
    assert paths["/api/v1/people/{person_id}/certificate"]["get"]["summary"]
    assert paths["/api/v1/certificates/signer"]["get"]["security"] == []
