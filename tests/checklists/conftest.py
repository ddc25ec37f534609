"""Fixtures for the checklist tests: fixture files, English messages, loading helpers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from flask_babel import force_locale

DATA = Path(__file__).parent / "data"
UNIT_OK = DATA / "unit_ok.yaml"
SYSTEM_OK = DATA / "system_ok.yaml"


@pytest.fixture
def en(ctx):
    """An app context whose messages are in English."""
    with force_locale("en"):
        yield


@pytest.fixture
def write(tmp_path):
    """write("name.yaml", text) -> path of a file with that (dedented) text in a fresh folder."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


def item_yaml(code: str, extra: str = "", indent: int = 6) -> str:
    """One minimal item as YAML lines, for building test files."""
    pad = " " * indent
    lines = [f"- code: {code}", f"  text: 问题{code}", f"  text_en: Question {code}"]
    lines += (
        [f"  {line}" for line in textwrap.dedent(extra).strip().splitlines()]
        if extra.strip()
        else []
    )
    if "legal_basis" not in extra and "advisory" not in extra:
        # A minimal item that can become a finding needs a statutory basis (legal review S1).
        lines.append("  legal_basis: [{law: 网络安全法, article: 第23条}]")
    return "\n".join(pad + line for line in lines) + "\n"


def template_yaml(
    items: str, *, key: str = "TST", version: str = '"1"', target: str = "unit", head: str = ""
) -> str:
    """A whole template around the given item lines."""
    return (
        f"key: {key}\nversion: {version}\ntitle: 测试\ntitle_en: Test\ntarget: {target}\n{head}"
        f"sections:\n  - title: 第一节\n    items:\n{items}"
    )
