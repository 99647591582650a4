from __future__ import annotations

import uuid

from renkei.lib.tokens import sign_code, signed_code


def test_a_token_opens_only_its_own_purpose() -> None:
    code = uuid.uuid4()
    token = sign_code(code, "events.applicant")
    assert signed_code(token, "events.applicant") == code
    assert signed_code(token, "events.feedback") is None
    assert signed_code(token + "x", "events.applicant") is None
    assert signed_code(token.replace(str(code), str(uuid.uuid4())), "events.applicant") is None


def test_a_signed_value_that_is_no_code_is_refused() -> None:
    from django.core import signing

    assert signed_code(signing.Signer(salt="p").sign("not-a-uuid"), "p") is None
