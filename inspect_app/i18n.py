"""Locale choice: ?lang=, then the user's setting, then Accept-Language; zh_Hans_CN by default.
On the command line: the shell's language (LC_ALL or LANG), Chinese unless it is English."""

import functools
import json
import os

import click
from babel import support
from flask import (
    Flask,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_time, get_locale, get_translations, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms.i18n import messages_path as wtforms_messages_path

from .extensions import babel

# Short names people type (and the Accept-Language tags browsers send) -> catalog locale.
ALIASES = {
    "zh": "zh_Hans_CN",
    "zh_cn": "zh_Hans_CN",
    "zh-cn": "zh_Hans_CN",
    "zh_hans_cn": "zh_Hans_CN",
    "zh-hans": "zh_Hans_CN",
    "en": "en",
    "en_us": "en",
    "en-us": "en",
}


def normalise(tag: str | None) -> str | None:
    if not tag:
        return None
    return ALIASES.get(tag.strip().lower())


def select_locale() -> str:
    if not has_request_context():  # CLI: follow the shell's language, Chinese by default
        shell = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
        return "en" if shell.lower().startswith("en") else current_app.config["DEFAULT_LOCALE"]
    chosen = normalise(request.args.get("lang"))
    if chosen:
        session["lang"] = chosen
        return chosen
    if "lang" in session and normalise(session["lang"]):
        return normalise(session["lang"])
    if current_user and current_user.is_authenticated and normalise(current_user.locale):
        return normalise(current_user.locale)
    best = request.accept_languages.best_match(["zh", "zh-CN", "en"])
    return normalise(best) or current_app.config["DEFAULT_LOCALE"]


def html_lang() -> str:
    from flask_babel import get_locale

    loc = get_locale()
    return "zh-CN" if loc and loc.language == "zh" else "en"


def lang_url(lang: str) -> str:
    """This page in another language, built from the matched route and never from the raw path:
    a 404 for "/\\evil.example/x" must not link to "/\\evil.example/x", which browsers follow
    off-site. Pages that matched no route (errors) link to the home page."""
    args = {k: v for k, v in request.args.lists() if k != "lang"}
    if request.url_rule is None or request.endpoint is None or request.method != "GET":
        return url_for("main.index", lang=lang)
    try:
        return url_for(request.endpoint, **(request.view_args or {}), **args, lang=lang)
    except BuildError:
        return url_for("main.index", lang=lang)


def context_translations():
    """The catalog of the context's locale, looked up once per request: flask_babel finds the
    locale and its catalog again at every gettext, and a page may have two hundred labels. Kept
    in flask_babel's own slot for it (babel_translations), which its force_locale empties and
    restores and its refresh clears, so a switched language is never served the old catalog."""
    if not has_app_context():
        return get_translations()
    ctx = g.get("_flask_babel")
    if ctx is None:
        return get_translations()  # creates the slot's holder for the next call
    catalog = getattr(ctx, "babel_translations", None)
    if catalog is None:
        catalog = ctx.babel_translations = get_translations()
    return catalog


# WTForms' own messages that its Chinese catalog leaves untranslated: ours translates them, and
# forms read WTForms' catalog merged with ours (wtforms_translations).
_WTFORMS_UNTRANSLATED = (
    _l("Date must be at least %(min)s."),
    _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("This field cannot be edited."),
    _l("This field is disabled and cannot have a value."),
    _l("Not a valid week value."),
)


def _wtforms_plurals():  # never called: marks WTForms' one plural message for the catalog
    return ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        1,
    )


@functools.cache
def _wtforms_catalog(locale: str, ours: support.Translations) -> support.Translations:
    catalog = support.Translations.load(wtforms_messages_path(), [locale], domain="wtforms")
    if isinstance(catalog, support.Translations):
        catalog.merge(ours)  # ours first where both have a message
        return catalog
    return ours


def wtforms_translations() -> support.Translations:
    """The catalog form messages come from: WTForms' own, for the request's language, merged
    with ours (Flask-WTF reads it from the request: request.wtforms_translations)."""
    return _wtforms_catalog(str(get_locale()), context_translations())


def register(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.before_request
    def _form_messages() -> None:
        if request.endpoint != "static":  # the locale reads the login: never for a static file
            request.wtforms_translations = wtforms_translations()

    # Templates' _() and ngettext through the catalog kept for the request (flask_babel's own
    # callables look it up again at every call).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: context_translations().ugettext(s),
        ngettext=lambda s, p, n: context_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: context_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: context_translations().unpgettext(c, s, p, n),
    )
    # A date with the time to the minute, as the documents print it: 2026年3月5日 09:35 in
    # Chinese, March 5, 2026 09:35 in English (in the user's time zone, like datetimeformat).
    app.jinja_env.filters["datetime_minutes"] = lambda value: (
        f"{format_date(value, 'long')} {format_time(value, 'HH:mm')}" if value else ""
    )
    app.jinja_env.filters["messages_json"] = messages_json
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["lang_url"] = lang_url


# What must not appear raw in a <script> element's text, as JSON escapes (as tojson does).
_SCRIPT_UNSAFE = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "'": "\\u0027",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def messages_json(messages: dict) -> Markup:
    """A page's messages for its scripts (<script type="application/json">), as tojson writes
    them but in UTF-8 rather than \\u escapes: half the bytes for Chinese text (the filling
    page has a 150 KB budget). Safe in a script element: <, >, &, ' and the line separators
    stay escaped."""
    return Markup(json.dumps(messages, ensure_ascii=False).translate(_SCRIPT_UNSAFE))


class CommandOption(click.Option):
    """A command-line option whose help (lazy_gettext) is translated when `--help` shows it:
    click.Option fixes its help as text when the command's module is imported, before any
    language is known. Commands' and groups' own help stay lazy by themselves."""

    def __init__(self, *args, help=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.help = help

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        return None if record is None else (record[0], str(record[1]))


def option(*param_decls: str, **attrs):
    """click.option for the app's commands: `help=_l("…")` shown in the shell's language."""
    return click.option(*param_decls, cls=CommandOption, **attrs)
