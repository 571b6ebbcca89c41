"""What the API answers for errors that are not the request's fault."""

import json

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from noticebot.handlers.api.app import on_validation_error


def test_a_response_that_does_not_fit_its_model_is_our_500_not_a_422():
    # Powertools reports a route's own bad response with the request's exception type.
    response = on_validation_error(RequestValidationError(
        [{"loc": ("response", "notice_id"), "type": "missing", "msg": "Field required"}]))
    assert response.status_code == 500
    assert json.loads(response.body)["error"]["code"] == "internal_error"
    assert "notice_id" not in response.body


def test_a_request_that_does_not_fit_is_a_422_naming_the_field():
    response = on_validation_error(RequestValidationError(
        [{"loc": ("body", "top_k"), "type": "int_type", "msg": "Input should be a valid integer"}]))
    assert response.status_code == 422
    assert json.loads(response.body) == {"error": {
        "code": "validation_error", "message": "top_k: Input should be a valid integer"}}
