"""The workspace secrets file, secret references and redaction (headwater/store/secrets.py)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from headwater.errors import ConfigurationError
from headwater.store.secrets import (
    SecretStore,
    datastore_key,
    datastore_prefix,
    env_ref,
    is_ref,
    redact,
    resolve_secret,
)

# The well-known Azurite development key: a base64 value with '+', '/' and '=' in it.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_put_returns_a_workspace_reference_and_the_file_is_owner_only(tmp_path: Path) -> None:
    old = os.umask(0)  # even with a permissive umask
    try:
        ref = SecretStore(tmp_path).put("datastore/raw/account_key", AZURITE_KEY)
    finally:
        os.umask(old)
    assert ref == "workspace:datastore/raw/account_key"
    assert mode(tmp_path / "secrets.json") == 0o600
    assert json.loads((tmp_path / "secrets.json").read_text()) == {"datastore/raw/account_key": AZURITE_KEY}
    assert resolve_secret(ref, tmp_path, what="account key") == AZURITE_KEY


def test_a_rewrite_is_owner_only_even_if_the_old_file_was_not(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    store.put("a", "one1")
    (tmp_path / "secrets.json").chmod(0o644)
    store.put("b", "two2")
    assert mode(tmp_path / "secrets.json") == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".secrets.json.") and "lock" not in p.name] == []


def test_replace_prefix_swaps_one_datastores_keys_and_returns_the_old_ones(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    store.put(datastore_key("raw", "account_key"), "old-key")
    store.put(datastore_key("raw2", "account_key"), "other")  # 'raw2' is not under 'datastore/raw/'
    prefix = datastore_prefix("raw")
    previous = store.replace_prefix(prefix, {datastore_key("raw", "sas_token"): "sv=1&sig=abc"})
    assert previous == {"datastore/raw/account_key": "old-key"}
    assert store.with_prefix(prefix) == {"datastore/raw/sas_token": "sv=1&sig=abc"}
    assert store.get("datastore/raw2/account_key") == "other"
    store.replace_prefix(prefix, previous)  # put back
    assert store.with_prefix(prefix) == {"datastore/raw/account_key": "old-key"}
    store.delete_prefix(prefix)
    assert store.with_prefix(prefix) == {}
    assert store.get("datastore/raw2/account_key") == "other"
    with pytest.raises(ValueError, match="not under"):
        store.replace_prefix(prefix, {"datastore/other/x": "v"})


def test_delete_prefix_without_a_file_creates_none(tmp_path: Path) -> None:
    SecretStore(tmp_path).delete_prefix("datastore/x/")
    assert not (tmp_path / "secrets.json").exists()


def test_env_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = env_ref("HW_TEST_KEY")
    assert ref == "env:HW_TEST_KEY" and is_ref(ref) and not is_ref(AZURITE_KEY)
    monkeypatch.delenv("HW_TEST_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="environment variable HW_TEST_KEY, which is not set"):
        resolve_secret(ref, tmp_path, what="account key of datastore 'raw'")
    monkeypatch.setenv("HW_TEST_KEY", "from-env")
    assert resolve_secret(ref, tmp_path, what="account key") == "from-env"
    assert not (tmp_path / "secrets.json").exists()  # nothing written for a reference
    with pytest.raises(ConfigurationError, match="not an environment variable name"):
        env_ref("NOT-A-NAME")


def test_a_missing_workspace_secret_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"missing from the workspace secrets file.*overwrite=True"):
        resolve_secret("workspace:datastore/raw/account_key", tmp_path, what="account key of datastore 'raw'")
    with pytest.raises(ConfigurationError, match="not a secret reference"):
        resolve_secret(AZURITE_KEY, tmp_path, what="account key")


def test_a_corrupt_secrets_file_is_reported_without_its_content(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text('{"datastore/raw/account_key": "' + AZURITE_KEY)
    with pytest.raises(ConfigurationError) as info:
        SecretStore(tmp_path).get("x")
    assert "not valid JSON" in str(info.value)
    assert AZURITE_KEY not in str(info.value)


def test_redact_removes_secrets_plain_and_url_encoded_and_sas_signatures() -> None:
    sas = "sv=2021-08-06&ss=b&srt=co&sp=rl&se=2030-01-01&sig=Zm9vYmFyYmF6%2Bqux%3D"
    text = (
        f"key {AZURITE_KEY}; encoded {AZURITE_KEY.replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')}; "
        f"url http://127.0.0.1:10000/devstoreaccount1/c?{sas}; other sig=abcdef123&x=1; "
        "conn AccountKey=Zm9vYmFy;BlobEndpoint=http://127.0.0.1; short xyz"
    )
    out = redact(text, [AZURITE_KEY, f"?{sas}", None, "xyz"])
    assert AZURITE_KEY not in out
    assert "KBHBeksoGMGw" not in out  # no tail of the key left either
    assert "Zm9vYmFy" not in out and "abcdef123" not in out
    assert "short xyz" in out  # values under 4 characters are not treated as secrets
    assert "http://127.0.0.1:10000/devstoreaccount1/c" in out
    assert "***" in out
