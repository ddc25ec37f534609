"""Static CSS and JavaScript as served: the hand-written files, compacted on first use.

Comments, indentation and the blanks inside CSS declaration blocks go, so the 120-item filling
page stays within its weight budget while the files in the repository stay readable. URLs do
not change, so templates, the service worker and browsers see no difference. Other static
files, and third-party files under static/vendor/, are served as Flask serves them.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask, Response, request

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_BLOCK = re.compile(r"\{([^{}]*)\}")


def compact_css(css: str) -> str:
    """Drop comments, line breaks and the blanks around `:` `;` `{` `}` inside declaration
    blocks. Selectors and media queries keep their spaces (a space there can mean something)."""
    css = _COMMENT.sub("", css)

    def block(match: re.Match) -> str:
        body = re.sub(r"\s*([:;])\s*", r"\1", match.group(1).strip())
        return "{" + body.rstrip(";") + "}"

    css = _BLOCK.sub(block, css)
    css = re.sub(r"\s*\n\s*", "\n", css)
    css = re.sub(r"\s*([{}])\s*", r"\1", css)
    return css.strip() + "\n"


def compact_js(js: str) -> str:
    """Drop whole-line `//` comments, indentation and blank lines; every line break stays, so
    automatic semicolons work as written. (Our modules have no multi-line template strings.)"""
    lines = (line.strip() for line in js.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


_COMPACTORS = {".css": (compact_css, "text/css"), ".js": (compact_js, "text/javascript")}


def register(app: Flask) -> None:
    folder = Path(app.static_folder).resolve()
    send_static = app.view_functions["static"]
    cache: dict[str, tuple[float, bytes, str]] = {}

    def static(filename: str):
        path = (folder / filename).resolve()
        compactor = _COMPACTORS.get(path.suffix)
        if (
            compactor is None
            or folder not in path.parents
            or not path.is_file()
            or path.relative_to(folder).parts[0] == "vendor"  # third-party files as they are
        ):
            return send_static(filename=filename)
        mtime = path.stat().st_mtime
        if filename not in cache or cache[filename][0] != mtime:
            body = compactor[0](path.read_text(encoding="utf-8")).encode()
            cache[filename] = (mtime, body, hashlib.sha256(body).hexdigest()[:16])
        _mtime, body, etag = cache[filename]
        if request.if_none_match.contains(etag):
            response = Response(status=304)
        else:
            response = Response(body, mimetype=compactor[1])
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache"  # revalidate: cheap with the ETag
        return response

    app.view_functions["static"] = static
