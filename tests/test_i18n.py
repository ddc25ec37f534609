"""Chinese first, English complete: every msgid translated, every template string marked."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "inspect_app" / "templates"
PO = ROOT / "inspect_app" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """msgids extracted from the code right now (not the committed .pot)."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "lazy_gettext",
            "-k",
            "_l",
            "--ignore-dirs",
            ".* __pycache__ .venv node_modules",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as fh:
        return [m for m in read_po(fh) if m.id]


def test_every_english_msgid_has_a_chinese_translation(extracted):
    with open(PO, "rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN")
    missing = []
    for message in extracted:
        translated = catalog.get(message.id)
        strings = (
            ()
            if translated is None
            else (
                translated.string if isinstance(translated.string, tuple) else (translated.string,)
            )
        )
        if translated is None or translated.fuzzy or not strings or not all(strings):
            missing.append(message.id)
    assert not missing, f"untranslated msgids (run scripts/i18n.py): {missing[:20]}"


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_TAG = re.compile(r"<[^>]*>", re.S)
_BLOCKS = re.compile(r"<(script|style|code|pre)\b.*?</\1>", re.S | re.I)
_ATTR = re.compile(r'\b(?:placeholder|title|alt|aria-label)="([^"{]*[A-Za-z][^"{]*)"')
# Text that is not a sentence to translate: symbols, entities, product-neutral tokens.
_ALLOWED = {"中文", "English", "#", "·", "&nbsp;", "&middot;", "×", "—"}


_CLASS_BLOCK = re.compile(r"\{% block body_class %\}.*?\{% endblock %\}", re.S)


def _unmarked(source: str) -> list[str]:
    source = _CLASS_BLOCK.sub("", source)  # a CSS class name, not text
    found = [f'attribute "{m}"' for m in _ATTR.findall(_JINJA.sub("", source))]
    text = _BLOCKS.sub(" ", source)
    text = _JINJA.sub(" ", text)
    text = _TAG.sub("\n", text)
    for chunk in text.split("\n"):
        chunk = chunk.strip()
        if chunk and chunk not in _ALLOWED and re.search(r"[A-Za-z\u4e00-\u9fff]", chunk):
            found.append(chunk)
    return found


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
)
def test_template_has_no_unmarked_text(template):
    assert _unmarked((TEMPLATES / template).read_text(encoding="utf-8")) == []


def test_unmarked_text_detector_catches_literal_words():
    assert _unmarked("<p>Save changes</p>") == ["Save changes"]
    assert _unmarked('<input placeholder="Search">') == ['attribute "Search"']
    assert _unmarked("<p>{{ _('Save changes') }}</p>") == []


def test_lang_query_parameter_switches_and_sticks(client):
    assert 'lang="en"' in client.get("/auth/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in client.get("/auth/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in client.get("/auth/login?lang=zh").get_data(as_text=True)


def test_accept_language_is_used_when_nothing_else_is_set(client):
    html = client.get("/auth/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(
        as_text=True
    )
    assert "Log in" in html
    html = client.get("/auth/login", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert "登录" in html


def test_user_setting_wins_over_accept_language(app, make):
    from .conftest import Browser

    with app.app_context():
        make.user(role="viewer", username="en_user", locale="en")
    b = Browser(app.test_client())
    b.login("en_user")
    html = b.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="en"' in html


def test_wording_says_review_and_verify_not_inspect():
    """检查 means "inspection" in this app: the submit link and the checklist upload say 核对 and
    校验 (UX review)."""
    with open(PO, "rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN")
    assert catalog.get("Review and submit").string == "核对并提交"
    assert catalog.get("Check or load a file").string == "校验或加载文件"
    assert catalog.get("Check or load a checklist file").string.startswith("校验")


def test_templates_follow_a_language_forced_inside_a_request_and_back(app):
    from flask import render_template_string
    from flask_babel import force_locale

    page = "{{ _('Dashboard') }}"
    with app.test_request_context("/?lang=en"):
        assert render_template_string(page) == "Dashboard"
        with force_locale("zh_Hans_CN"):
            assert render_template_string(page) == "统计概览"
        assert render_template_string(page) == "Dashboard"
    with app.test_request_context("/?lang=zh"):
        assert render_template_string(page) == "统计概览"


def test_every_audit_action_recorded_by_name_has_a_label():
    """The audit pages show an action's label; one without shows its code (auth.locked)."""
    import re
    from pathlib import Path

    from inspect_app.labels import AUDIT_ACTION_LABELS

    root = Path(__file__).resolve().parent.parent / "inspect_app"
    named = re.compile(r"\brecord\(\s*[^,()]+(?:\([^()]*\))?,\s*\"([a-z_]+\.[a-z_]+)\"", re.S)
    actions = {
        match.group(1)
        for path in root.rglob("*.py")
        for match in named.finditer(path.read_text(encoding="utf-8"))
    }
    assert len(actions) > 50  # the pattern still finds the calls
    assert sorted(actions - set(AUDIT_ACTION_LABELS)) == []


def test_dates_in_pages_and_documents_follow_the_language(app):
    """Templates wrote dates with a Chinese pattern (yyyy年M月d日), in English pages too."""
    from datetime import date, datetime
    from pathlib import Path

    from flask_babel import force_locale

    template = app.jinja_env.from_string('{{ d|dateformat("long") }} / {{ t|datetime_minutes }}')
    values = {"d": date(2026, 3, 5), "t": datetime(2026, 3, 5, 1, 35)}  # naive UTC
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert template.render(**values) == "2026年3月5日 / 2026年3月5日 09:35"
        with force_locale("en"):
            assert template.render(**values) == "March 5, 2026 / March 5, 2026 09:35"
        # A time not recorded (a signature without its time) prints nothing, not the present.
        assert app.jinja_env.from_string("{{ t|datetime_minutes }}").render(t=None) == ""
    root = Path(__file__).resolve().parent.parent / "inspect_app" / "templates"
    assert [p.name for p in root.rglob("*.html") if "年M月" in p.read_text(encoding="utf-8")] == []


def test_a_pages_messages_for_its_scripts_are_utf8_and_safe_in_a_script_element(app):
    """The filling page's messages were \\u escapes, six bytes for each Chinese character where
    UTF-8 takes three: the page went over its 150 KB budget."""
    import json

    from inspect_app.i18n import messages_json

    messages = {"a": "离线：{n} 项", "b": "</script><b>'x' & \u2028"}
    text = str(messages_json(messages))
    assert "离线" in text
    for unsafe in ("<", ">", "&", "'", "\u2028"):
        assert unsafe not in text
    assert json.loads(text) == messages
    with app.test_request_context():
        from flask import render_template_string

        assert render_template_string("{{ m|messages_json }}", m=messages) == text


def _our_commands(group, path=()):
    """(path, command) for every command and group the app adds to `flask` (not Flask's own,
    nor a plugin's), groups before their commands."""
    import click

    for name, command in sorted(group.commands.items()):
        leaves = command.commands.values() if isinstance(command, click.Group) else [command]
        if not any(c.callback.__module__.startswith("inspect_app") for c in leaves):
            continue
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _our_commands(command, (*path, name))


def _help_texts(command) -> list:
    """The texts `--help` shows for a command: its own and its options'."""
    return [command.help, *(p.help for p in command.params if getattr(p, "help", None))]


def _flat(text: str) -> str:
    return "".join(str(text).split())  # the help formatter wraps lines


CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("shell", ["zh_CN.UTF-8", "C.UTF-8", "en_US.UTF-8"])
def test_command_help_is_in_the_shells_language_chinese_by_default(app, shell):
    """The commands' output was translated, their --help (texts, options) English only."""
    import click
    from flask_babel import force_locale

    english = shell.startswith("en")
    commands = list(_our_commands(app.cli))
    assert len(commands) > 25  # every group and command of the app
    for path, command in commands:
        with app.app_context():
            shown = app.test_cli_runner().invoke(
                args=[*path, "--help"], env={"LANG": shell, "LC_ALL": ""}
            )
        assert shown.exit_code == 0, (path, shown.output)
        assert command.help, path  # every command says what it does, and every option
        assert all(p.help for p in command.params if isinstance(p, click.Option)), path
        with app.app_context(), force_locale("en" if english else "zh_Hans_CN"):
            texts = [str(text) for text in _help_texts(command)]
        for text in texts:
            assert _flat(text) in _flat(shown.output), (path, text)
            assert english or CJK.search(text), (path, text)  # translated, not the msgid


def test_flask_help_lists_the_apps_commands_in_chinese(tmp_path):
    """`flask --help` as a shell runs it: Flask's own group, which loads the app to list them."""
    from .conftest import TEST_AUDIT_KEY

    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSPECT_", "LC_", "LANG"))}
    env |= {
        "LANG": "C.UTF-8",
        "INSPECT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "INSPECT_SECRET_KEY": "cli-help-test-secret-key-not-for-production",
        "INSPECT_AUDIT_HMAC_KEY": TEST_AUDIT_KEY,
    }
    shown = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "inspect_app", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    listed = {
        line.split()[0]: line
        for line in shown.stdout.split("Commands:")[1].splitlines()
        if line.strip()
    }
    for name in ("audit", "backup", "checklists", "export", "jobs", "restore", "users"):
        assert CJK.search(listed[name]), listed[name]
