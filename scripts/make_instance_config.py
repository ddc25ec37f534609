"""Give instance/config.py the keys a machine needs: a random SECRET_KEY and AUDIT_HMAC_KEY.

Run by `make run` / `make setup-db` every time, so it only ever adds what is missing: a new file
gets both keys (mode 0600); a file written before the audit key existed gets one appended, its
SECRET_KEY untouched. A key given as INSPECT_AUDIT_HMAC_KEY in the environment is left there.

    python scripts/make_instance_config.py [PATH]
"""

import os
import re
import secrets
import stat
import sys
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "instance" / "config.py"
AUDIT_KEY_LINE = re.compile(r"^AUDIT_HMAC_KEY\s*=", re.MULTILINE)
AUDIT_KEY_BLOCK = (
    "# Signs the audit chain (docs/audit.md). Back it up apart from the database: without it\n"
    "# the keyed audit events cannot be verified. Never change it in place: see key rotation.\n"
    "AUDIT_HMAC_KEY = {key!r}\n"
)


def _new_file(path: Path) -> None:
    path.parent.mkdir(exist_ok=True)
    text = (
        '"""Local settings (git-ignored). See instance/README.md for every key."""\n\n'
        f"SECRET_KEY = {secrets.token_urlsafe(48)!r}\n\n"
        + AUDIT_KEY_BLOCK.format(key=secrets.token_urlsafe(48))
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {path} with a new random SECRET_KEY and AUDIT_HMAC_KEY (back them up)")


def _add_audit_key(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if AUDIT_KEY_LINE.search(text):
        return
    if os.environ.get("INSPECT_AUDIT_HMAC_KEY"):
        print(f"{path}: no AUDIT_HMAC_KEY, using INSPECT_AUDIT_HMAC_KEY from the environment")
        return
    separator = "" if text.endswith("\n") or not text else "\n"
    with path.open("a", encoding="utf-8") as f:
        f.write(separator + "\n" + AUDIT_KEY_BLOCK.format(key=secrets.token_urlsafe(48)))
    print(f"added a new random AUDIT_HMAC_KEY to {path} (back it up: docs/audit.md)")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"warning: {path} can be read by other users; consider chmod 600 {path}")


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_PATH
    if path.exists():
        _add_audit_key(path)
    else:
        _new_file(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
