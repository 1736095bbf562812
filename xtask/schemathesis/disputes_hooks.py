"""Schemathesis hooks for `cargo xtask schemathesis`.

The invoice contract authenticates with credentials inside the JSON body (`billinkUsername`,
`billinkId`), which no OpenAPI security scheme can express. So that generated calls reach past
authentication, every object body sent to `/v2/dispute...` gets the test login's credentials,
taken from the environment the xtask sets.

Its calls also name disputes by an `id` in the body, which OpenAPI links cannot fill in. So that
calls reach real disputes rather than only "not found", the ids (and file hashes) that answers
show are remembered, and every other call that sends an `id` (or `sha256`) gets a remembered one.

An invoice list continues after a `cursor` the server handed out, and only such a cursor; so a
well-formed generated cursor is replaced by one the server would give (the delivery and billing
lists get theirs from `schemathesis.toml`), and a malformed one is sent as generated (a 400).

The document's patterns are ECMA-262 regular expressions, whose `$` is the end of the text; the
generator reads them as Python's, whose `$` also matches before a final line break, and so sends
`*` followed by a newline as a "valid" `If-Match`. A header value cannot hold a line break, so a
trailing one is dropped from every generated header.

XML has no null: the generator writes a `null` it meant as a schema violation as the element's
text, `<id>null</id>`, which is a well-formed id. So an XML body's nulls are left out instead,
which keeps the violation (a required field missing, or an optional one absent).

The delivery and billing POSTs take an `Idempotency-Key`, and generated keys repeat (`0`, `a`)
across different requests: each such call would be a 422 `idempotency_key_reused` that never
reaches its handler. So a well-formed generated key gets a digest of the request appended: the same
request with the same key is still a replay (`Idempotent-Replayed`), a different one gets a key of
its own, and a malformed key is sent as generated (a 400). The 422 itself is tested by the http
crate's tests.
"""

import hashlib
import os

import schemathesis

INVOICE_PREFIX = "/v2/dispute"

# A cursor as the server writes it (URL-safe base64 of `v1:` and a dispute id).
A_CURSOR = "djE6MTAwMDAwMA"
CURSOR_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

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


def _is_well_formed_key(key):
    """What the server takes as an `Idempotency-Key`: 1 to 255 visible ASCII characters."""
    return 0 < len(key) <= 255 and all(0x21 <= ord(c) <= 0x7E for c in key)


def _key_per_request(case):
    headers = case.headers or {}
    name = next((h for h in headers if h.lower() == "idempotency-key"), None)
    if name is None or not isinstance(headers[name], str) or not _is_well_formed_key(headers[name]):
        return
    others = sorted((k.lower(), str(v)) for k, v in headers.items() if k != name)
    request = repr((case.method, case.formatted_path, case.query, case.media_type, others, case.body))
    digest = hashlib.sha256(request.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    headers[name] = headers[name][: 255 - 17] + "-" + digest


def _without_trailing_newlines(case):
    for name, value in (case.headers or {}).items():
        if isinstance(value, str) and value.endswith("\n"):
            case.headers[name] = value.rstrip("\n")


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    global _calls
    _without_trailing_newlines(case)
    if (case.media_type or "").endswith("xml") and isinstance(case.body, (dict, list)):
        case.body = _without_nulls(case.body)
    _key_per_request(case)
    if not case.path.startswith(INVOICE_PREFIX) or not isinstance(case.body, dict):
        return
    username = os.environ.get("DISPUTES_INVOICE_USERNAME")
    secret = os.environ.get("DISPUTES_INVOICE_SECRET")
    if username and secret:
        case.body["billinkUsername"] = username
        case.body["billinkId"] = secret
    cursor = case.body.get("cursor")
    if isinstance(cursor, str) and cursor and set(cursor) <= CURSOR_ALPHABET:
        case.body["cursor"] = A_CURSOR
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
