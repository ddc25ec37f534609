"""Translation catalog chores: extract, merge translations, list what is missing, compile.

    python scripts/i18n.py extract          # refresh messages.pot and update the zh catalog
    python scripts/i18n.py add FILE.json    # merge {"English msgid": "中文"} into the zh catalog
    python scripts/i18n.py missing          # msgids without a Chinese translation (exit 1 if any)
    python scripts/i18n.py compile          # build the .mo files the app reads

English is the source language (msgids); the zh_Hans_CN catalog must translate every msgid.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "inspect_app" / "translations"
POT = TRANSLATIONS / "messages.pot"
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


@contextmanager
def locked():
    TRANSLATIONS.mkdir(parents=True, exist_ok=True)
    with open(TRANSLATIONS / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(*args: str) -> str:
    done = subprocess.run([*PYBABEL, *args], cwd=ROOT, check=True, capture_output=True, text=True)
    return done.stdout + done.stderr


def extract() -> None:
    with locked():
        _run(
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "lazy_gettext",
            "-k",
            "_l",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "--ignore-dirs",
            ".* __pycache__ .venv node_modules",
            "-o",
            str(POT),
            ".",
        )
        if ZH_PO.exists():
            _run(
                "update",
                "-i",
                str(POT),
                "-d",
                str(TRANSLATIONS),
                "-l",
                "zh_Hans_CN",
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            )
        else:
            _run("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", "zh_Hans_CN")


def _load():
    with open(ZH_PO, "rb") as fh:
        return read_po(fh, locale="zh_Hans_CN")


def add(path: str) -> None:
    pairs = json.loads(Path(path).read_text(encoding="utf-8"))
    with locked():
        catalog = _load()
        for msgid, msgstr in pairs.items():
            message = catalog.get(msgid)
            if message is None:
                message = catalog.add(msgid, "")
            if isinstance(message.id, tuple | list):  # plural forms: one string per form
                forms = msgstr if isinstance(msgstr, list) else [msgstr]
                message.string = tuple(
                    forms[: catalog.num_plurals] + forms[-1:] * catalog.num_plurals
                )[: catalog.num_plurals]
            else:
                message.string = msgstr if isinstance(msgstr, str) else msgstr[0]
            message.flags.discard("fuzzy")
        catalog.fuzzy = False
        with open(ZH_PO, "wb") as fh:
            write_po(fh, catalog, sort_output=True, no_location=True)


def missing() -> list[str]:
    catalog = _load()
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def compile_catalogs() -> None:
    with locked():
        output = _run("compile", "-d", str(TRANSLATIONS), "--statistics")
    if "skipping" in output:
        raise SystemExit("catalog not compiled:\n" + output)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "extract":
        extract()
    elif cmd == "add":
        for path in rest:
            add(path)
    elif cmd == "missing":
        todo = missing()
        for msgid in todo:
            print(json.dumps(msgid, ensure_ascii=False))
        return 1 if todo else 0
    elif cmd == "compile":
        compile_catalogs()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
