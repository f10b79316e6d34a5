"""scipy and scikit-learn are an extra: imported only when drift is computed, named when missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from headwater.drift import compute_drift
from headwater.errors import HeadwaterError
from tests.drift.conftest import frame


def test_importing_headwater_and_its_drift_package_imports_neither_scipy_nor_sklearn() -> None:
    code = (
        "import sys, headwater, headwater.drift\n"
        "heavy = sorted(m for m in ('scipy', 'sklearn', 'matplotlib') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("module", "package"), [("sklearn", "scikit-learn"), ("scipy", "scipy")])
def test_a_missing_package_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, module: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # what `import sklearn` meets when it is not installed
    with pytest.raises(HeadwaterError, match=rf"needs the package '{package}'.*pip install 'headwater\[drift\]'"):
        compute_drift(frame(100, seed=1), frame(100, seed=2))
