"""Schemathesis hooks for `cargo xtask schemathesis`.

The invoice contract authenticates with credentials inside the JSON body (`billinkUsername`,
`billinkId`), which no OpenAPI security scheme can express. So that generated calls reach past
authentication, every object body sent to `/v2/dispute...` gets the test login's credentials,
taken from the environment the xtask sets.

Its calls also name disputes by an `id` in the body, which OpenAPI links cannot fill in. So that
calls reach real disputes rather than only "not found", the ids (and file hashes) that answers
show are remembered, and every other call that sends an `id` (or `sha256`) gets a remembered one.
"""

import os

import schemathesis

INVOICE_PREFIX = "/v2/dispute"

_seen_ids = []
_seen_hashes = []
_calls = 0


def _remember(dispute):
    if not isinstance(dispute, dict):
        return
    dispute_id = dispute.get("id")
    if isinstance(dispute_id, int) and dispute_id not in _seen_ids:
        _seen_ids.append(dispute_id)
    for message in dispute.get("disputeContent") or []:
        attachment = isinstance(message, dict) and message.get("attachment")
        if isinstance(attachment, dict):
            sha256 = attachment.get("sha256")
            if isinstance(sha256, str) and sha256 not in _seen_hashes:
                _seen_hashes.append(sha256)


@schemathesis.hook
def before_call(context, case, kwargs):
    global _calls
    if not case.path.startswith(INVOICE_PREFIX) or not isinstance(case.body, dict):
        return
    username = os.environ.get("DISPUTES_INVOICE_USERNAME")
    secret = os.environ.get("DISPUTES_INVOICE_SECRET")
    if username and secret:
        case.body["billinkUsername"] = username
        case.body["billinkId"] = secret
    _calls += 1
    # Every other call keeps what was generated, so malformed ids are still tried.
    if _calls % 2 == 0:
        return
    if "id" in case.body and _seen_ids:
        case.body["id"] = _seen_ids[_calls % len(_seen_ids)]
    if "sha256" in case.body and _seen_hashes:
        case.body["sha256"] = _seen_hashes[_calls % len(_seen_hashes)]


@schemathesis.hook
def after_call(context, case, response):
    if not case.path.startswith(INVOICE_PREFIX) or response.status_code != 200:
        return
    try:
        body = response.json()
    except ValueError:
        return
    if isinstance(body, dict):
        _remember(body)
        for dispute in body.get("disputes") or []:
            _remember(dispute)
