"""Schemathesis hooks for tests/integration/test_api_fuzz.py (``hooks`` in schemathesis.toml).

The fuzz runs as one editor, ``fuzz-editor``. Its stateful phase learns real member ids from
``GET /api/members`` and invitation codes from ``POST /api/invitations``, so it can accept an
invitation, make that member an editor, and then demote or remove ``fuzz-editor`` itself:
rightly allowed (the workspace keeps an editor), but every request after it would be a 403,
and the rest of the run would test nothing but the refusal. So a generated request that would
change the fuzz's own membership names another (absent) member instead; every other member
id still reaches these routes. (A filter would drop too many of the generated cases: the
fuzz's own id is the one it sees most.)
"""

import schemathesis

FUZZ_EDITOR = "fuzz-editor"
OWN_MEMBERSHIP = {("PATCH", "/api/members/{user_id}"), ("DELETE", "/api/members/{user_id}")}


STAND_IN = "not-the-fuzz-editor"


@schemathesis.hook
def map_case(context, case):
    if (case.method.upper(), case.path) in OWN_MEMBERSHIP and \
            (case.path_parameters or {}).get("user_id") == FUZZ_EDITOR:
        case.path_parameters = {**case.path_parameters, "user_id": STAND_IN}
    return case
