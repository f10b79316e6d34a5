"""Session cookies and login codes: signed, expiring, bound to a live token."""

from __future__ import annotations

from headwater import Workspace
from headwater.ops import studio_session as ss
from headwater.ops.tokens import create_token, revoke_token, verify_token


def test_a_session_reads_back_while_its_token_lives_and_is_not_forged(ws: Workspace) -> None:
    store = ws.metadata_store
    record = verify_token(store, create_token(store, "b", "submit"))
    assert record is not None
    secret = ss.session_secret(ws.folder)
    assert ss.session_secret(ws.folder) == secret  # kept in the secrets file
    value = ss.make_session(record, secret)
    assert getattr(ss.read_session(store, value, secret), "id", None) == record.id
    assert ss.read_session(store, value, b"another secret") is None
    body, mac = value.split(".")
    assert ss.read_session(store, body + "x." + mac, secret) is None
    assert ss.read_session(store, ss.make_session(record, secret, seconds=-1), secret) is None
    assert ss.read_session(store, "garbage", secret) is None
    # a login code is not a session, nor the other way round
    code = ss.login_code(ws.folder, record)
    assert ss.read_session(store, code, secret) is None
    assert ss.read_login_code(store, value, secret) is None
    found = ss.read_login_code(store, code, secret)
    assert found is not None and found[0].id == record.id
    revoke_token(store, "b")
    assert ss.read_session(store, value, secret) is None
    assert ss.read_login_code(store, code, secret) is None
