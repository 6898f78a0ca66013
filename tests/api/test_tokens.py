"""Bearer tokens: verified tokens are remembered, and still expire and still must be genuine."""

from __future__ import annotations

import time

import pytest

from search_api.roles import Role
from search_api.tokens import TokenSigner
from search_api.users import User

KIM = User("kim", Role.INVESTIGATOR)


def test_a_remembered_token_still_expires_on_time(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = TokenSigner("s" * 48, max_age_s=60)
    before = time.time()
    token = signer.issue(KIM)
    session = signer.verify(token)
    assert session is not None and session.user == KIM
    assert before <= session.issued_at <= time.time()  # to the microsecond, not whole seconds
    assert signer.verify(token) == session  # from memory now
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 59)
    assert signer.verify(token) == session
    monkeypatch.setattr(time, "time", lambda: real_time() + 61)
    assert signer.verify(token) is None
    assert signer.verify(token) is None  # forgotten: the signature's own age check refuses it too


def test_only_genuine_tokens_verify() -> None:
    signer = TokenSigner("s" * 48, max_age_s=60)
    token = signer.issue(KIM)
    assert TokenSigner("t" * 48, max_age_s=60).verify(token) is None
    head, _, signature = token.rpartition(".")
    forged = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert signer.verify(forged) is None
    assert (session := signer.verify(token)) is not None and session.user == KIM
    # A remembered token does not make a forged variant of it pass.
    assert signer.verify(forged) is None
