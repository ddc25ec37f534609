"""Write instance/config.py with a random SECRET_KEY the first time the app is set up here."""

import secrets
from pathlib import Path

path = Path(__file__).resolve().parent.parent / "instance" / "config.py"
if not path.exists():
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        '"""Local settings (git-ignored). See instance/README.md for every key."""\n\n'
        f"SECRET_KEY = {secrets.token_urlsafe(48)!r}\n",
        encoding="utf-8",
    )
    print(f"wrote {path} with a new random SECRET_KEY")
