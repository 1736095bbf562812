"""Schemathesis hooks for `cargo xtask schemathesis`.

The invoice contract authenticates with credentials inside the JSON body (`billinkUsername`,
`billinkId`), which no OpenAPI security scheme can express. So that generated calls reach past
authentication, every object body sent to `/v2/dispute...` gets the test login's credentials,
taken from the environment the xtask sets.
"""

import os

import schemathesis

INVOICE_PREFIX = "/v2/dispute"


@schemathesis.hook
def before_call(context, case, kwargs):
    username = os.environ.get("DISPUTES_INVOICE_USERNAME")
    secret = os.environ.get("DISPUTES_INVOICE_SECRET")
    if not username or not secret:
        return
    if case.path.startswith(INVOICE_PREFIX) and isinstance(case.body, dict):
        case.body["billinkUsername"] = username
        case.body["billinkId"] = secret
