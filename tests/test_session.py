"""This tab's session state is declared in one module: no other UI file reads or writes `st.session_state`."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SESSION = ROOT / "components" / "session.py"


def test_only_the_session_module_touches_session_state():
    files = [ROOT / "app.py", *sorted((ROOT / "components").glob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]
    touching = [str(f.relative_to(ROOT)) for f in files if f != SESSION and "session_state" in f.read_text()]
    assert touching == [], "read and write session state through components/session.py"
