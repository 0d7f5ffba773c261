"""Usage errors (an unknown option or command, a missing or wrong value) in the user's language.

typer (its own copy of click) words them in English, in code; its rich printer is replaced here by
one that recognises each kind by its English pattern and says it from the message catalogue, the
way every other certpipe error is said (``错误： …``, then the usage line and where help is). An
error it does not recognise is shown as typer words it."""

from __future__ import annotations

import re
import sys

from rich.console import Console
from rich.markup import escape

from pipeline.i18n import t

#: (English pattern, catalogue key, the pattern's groups as parameters)
_KINDS = (
    (re.compile(r"^No such option: (?P<name>\S+)(?: Did you mean (?P<close>\S+)\?)?$"), "usage.no_option"),
    (re.compile(r"^No such command '(?P<name>[^']*)'\.(?: Did you mean '(?P<close>[^']*)'\?)?$"), "usage.no_command"),
    (re.compile(r"^Missing option '(?P<name>[^']*)'\.?(?P<close>)$"), "usage.missing_option"),
    (re.compile(r"^Missing argument '(?P<name>[^']*)'\.?(?P<close>)$"), "usage.missing_argument"),
    (re.compile(r"^Got unexpected extra argument(?:s|\(s\))? \((?P<name>.*)\)(?P<close>)$"), "usage.extra"),
    (re.compile(r"^Invalid value for '?(?P<name>[^':]*)'?: (?P<close>.*)$", re.S), "usage.invalid"),
)
_NOT_INTEGER = re.compile(r"valid integer|is not a valid integer")


def say(message: str, lang: str) -> str:
    """A typer usage message in ``lang`` (itself when it is of no known kind)."""
    for pattern, key in _KINDS:
        found = pattern.match(message.strip())
        if found:
            name, close = found["name"], found["close"] or ""
            if key == "usage.invalid" and _NOT_INTEGER.search(close):
                close = t("usage.not_integer", lang)
            text = t(key, lang, name=name, detail=close)
            if close and key in ("usage.no_option", "usage.no_command"):
                text += t("usage.did_you_mean", lang, close=close)
            return text
    return message


def install(current_lang) -> None:
    """Print typer's usage errors through ``say`` (``current_lang()``: the language asked for)."""
    import typer.rich_utils

    def print_usage_error(error) -> None:
        if error.__class__.__name__ == "NoArgsIsHelpError":
            return
        lang = current_lang()
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        err.print(f"[bold red]{t('cli.error', lang)}[/] " + escape(say(error.format_message(), lang)))
        ctx = getattr(error, "ctx", None)
        if ctx is not None:
            usage = ctx.get_usage().replace("Usage:", t("usage.usage", lang), 1)
            err.print(usage, markup=False)
            if ctx.command.get_help_option(ctx) is not None:
                err.print(t("usage.help", lang, command=f"{ctx.command_path} {ctx.help_option_names[0]}"),
                          markup=False, style="dim")
        sys.stderr.flush()

    typer.rich_utils.rich_format_error = print_usage_error
