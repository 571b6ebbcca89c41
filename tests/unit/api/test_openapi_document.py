"""The OpenAPI document says what the API does: its security, every response each route
gives in the one error shape, and request bodies without identity fields."""

import pytest

from noticebot.handlers.api.identity import IDENTITY_FIELDS

# Health, and the two routes a caller without a token signs in through.
PUBLIC = {"/api/health", "/api/auth/sign-in", "/api/invitations/accept"}
ERROR_REF = "#/components/schemas/ErrorBody"


@pytest.fixture
def doc(api):
    status, document = api.call("GET", "/api/openapi.json")
    assert status == 200
    return document


def operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method.upper(), op


def resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def test_a_bearer_jwt_scheme_guards_every_route_but_the_public_ones(doc):
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"]}
    assert doc["security"] == [{"bearerAuth": []}]
    for path, method, op in operations(doc):
        if path in PUBLIC:
            assert op["security"] == [], path
        else:
            assert "security" not in op, (method, path)  # the document-wide requirement
            assert {"401", "403"} <= set(op["responses"]), (method, path)


def test_every_error_response_has_the_one_error_shape(doc):
    for path, method, op in operations(doc):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)
    assert resolve(doc, {"$ref": ERROR_REF})["required"] == ["error"]
    assert not {"HTTPValidationError", "ValidationError"} & set(doc["components"]["schemas"])


@pytest.mark.parametrize("method,path,success", [
    ("POST", "/api/notices", "201"), ("POST", "/api/uploads", "201"),
    ("POST", "/api/upload", "202"), ("POST", "/api/fine-tune", "202"),
    ("DELETE", "/api/notices/{notice_id}", "204"), ("DELETE", "/api/documents/{document_id}", "204"),
    ("GET", "/api/notices", "200"), ("POST", "/api/chat", "200"),
])
def test_success_codes_are_the_ones_the_routes_answer(doc, method, path, success):
    responses = doc["paths"][path][method.lower()]["responses"]
    assert [s for s in responses if int(s) < 400] == [success]
    if success == "204":
        assert responses[success]["content"] == {}


def test_the_declared_responses_are_the_real_ones(doc):
    declared = {(m, p): set(op["responses"]) for p, m, op in operations(doc)}
    assert declared[("POST", "/api/notices")] == {"201", "400", "401", "403", "415", "422"}
    assert declared[("GET", "/api/notices/{notice_id}")] == {"200", "401", "403", "404"}
    assert declared[("POST", "/api/upload")] == {"202", "400", "401", "403", "413", "415", "422"}
    assert declared[("POST", "/api/fine-tune")] >= {"409", "503"}
    assert declared[("GET", "/api/health")] == {"200"}


def test_no_request_body_offers_an_identity_field(doc):
    def properties(schema, seen=()):
        schema = resolve(doc, schema)
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                yield from properties(sub, seen)
        for name, sub in schema.get("properties", {}).items():
            yield name
            if name not in seen:
                yield from properties(sub, (*seen, name))

    checked = 0
    for path, method, op in operations(doc):
        for media in op.get("requestBody", {}).get("content", {}).values():
            names = set(properties(media["schema"]))
            assert not names & set(IDENTITY_FIELDS), (method, path, names & set(IDENTITY_FIELDS))
            checked += 1
    assert checked >= 8


def test_json_bodies_refuse_unknown_fields_in_the_schema_too(doc):
    for name in ("NoticeIn", "NoticePatch", "SearchIn", "ChatIn", "FineTuneIn", "UploadRequestIn"):
        assert doc["components"]["schemas"][name]["additionalProperties"] is False, name
