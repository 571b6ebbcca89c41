"""The claims the membership check reads, in both shapes they arrive in (a decoded local JWT,
a REST API Cognito authorizer's strings), and the role it writes back for the routes."""

import copy
from datetime import datetime, timezone

from apiclient import claims_for
from noticebot.handlers.api.identity import act_as, issued_at, principal_from_event


def test_issued_at_reads_numbers_digit_strings_and_the_authorizers_dates():
    assert issued_at({"iat": 1795607000}) == 1795607000
    assert issued_at({"iat": "1795607000"}) == 1795607000
    expected = int(datetime(2026, 11, 25, 12, tzinfo=timezone.utc).timestamp())
    assert issued_at({"iat": "Wed Nov 25 12:00:00 UTC 2026"}) == expected
    assert issued_at({"iat": "yesterday"}) is None
    assert issued_at({"iat": True}) is None and issued_at({}) is None and issued_at(None) is None


def test_act_as_changes_the_role_the_routes_read_and_not_the_callers_event():
    event = {"requestContext": {"authorizer": {"claims": claims_for("sam", "club")}}}
    original = copy.deepcopy(event)
    shallow = dict(event)  # what the resolver keeps: a copy of the top level only
    act_as(shallow, True)
    assert principal_from_event(shallow).is_editor
    assert event == original and not principal_from_event(event).is_editor
    act_as(shallow, False)
    assert not principal_from_event(shallow).is_editor


def test_a_rest_authorizer_token_from_before_sign_out_is_refused(api, container):
    sam = claims_for("sam", "club")  # iat "Wed Nov 25 12:00:00 UTC 2026", as API Gateway sends
    assert api.call("GET", "/api/me", claims=sam)[0] == 200
    container.metadata.end_member_sessions("club", "sam", issued_at(sam) + 1)
    status, body = api.call("GET", "/api/me", claims=sam)
    assert status == 401 and "signed out" in body["error"]["message"]
    later = {**sam, "iat": "Wed Nov 25 13:00:00 UTC 2026"}
    assert api.call("GET", "/api/me", claims=later)[0] == 200
