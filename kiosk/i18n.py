"""Kiosk text in zh_CN and en from gettext .po catalogs, with errors rendered for people.

Catalogs are package data (``kiosk/locale/*.po``); they are compiled in memory with Babel,
so no .mo binary is ever committed. A msgid is a stable key: an error's code
("member.unknown") or a UI text id ("app.name"). Templates use str.format fields; a field
whose name ends in ``_fen`` and holds an int is shown as money (``¥1,234.50``).
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Mapping
from importlib.resources import files
from io import BytesIO
from typing import Literal, Protocol, get_args

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from salon.money import format_fen

__all__ = ["LOCALES", "ErrorLike", "Locale", "catalog", "compile_po", "render_error", "text"]

Locale = Literal["zh_CN", "en"]
LOCALES: tuple[Locale, ...] = get_args(Locale)
FALLBACK: Locale = "en"


class ErrorLike(Protocol):
    """What render_error needs of an error: a code (the msgid) and its parameters."""

    @property
    def code(self) -> str: ...

    @property
    def params(self) -> Mapping[str, object]: ...


def compile_po(po: bytes) -> gettext.GNUTranslations:
    """Parse a .po file and compile it to real gettext translations, all in memory."""
    parsed = read_po(BytesIO(po), abort_invalid=True)
    mo = BytesIO()
    write_mo(mo, parsed)
    mo.seek(0)
    return gettext.GNUTranslations(mo)


@functools.cache
def catalog(locale: Locale) -> gettext.GNUTranslations:
    """The compiled catalog of ``locale``; raises if it is unknown or its .po is broken."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; expected one of {', '.join(LOCALES)}")
    po = (files("kiosk") / "locale" / f"{locale}.po").read_bytes()
    return compile_po(po)


class _Fields(dict[str, object]):
    """Template fields; a field the caller did not pass stays visible as ``{name}``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _display(params: Mapping[str, object], translations: gettext.GNUTranslations | None = None,
             ) -> _Fields:
    return _Fields(
        (key, format_fen(value))
        if key.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool)
        else (key, _reason(value, translations)) if key == "reason" and translations
        else (key, value)
        for key, value in params.items()
    )


def _reason(value: object, translations: gettext.GNUTranslations) -> object:
    """A ``reason`` parameter in the catalog's words where it has them (``reason.*`` ids:
    config problems, errno names); anything else (an exception's name) as it came."""
    if not isinstance(value, str):
        return value
    msgid = "reason." + value.strip().lower().replace(" ", "_")
    translated = translations.gettext(msgid)
    return value if translated == msgid else translated


def _translate(msgid: str, locale: str, params: Mapping[str, object]) -> str:
    if not msgid:  # gettext maps "" to the catalog header
        return _plain(msgid, _display(params))
    chain = [loc for loc in LOCALES if loc == locale] + [FALLBACK]
    for loc in dict.fromkeys(chain):
        try:
            translations = catalog(loc)
            template = translations.gettext(msgid)
        except Exception:  # a broken catalog must not hide the text being shown
            continue
        if template == msgid:  # gettext hands back the msgid when it has no translation
            continue
        try:
            return template.format_map(_display(params, translations))
        except (IndexError, ValueError, AttributeError, TypeError, KeyError):
            continue  # a malformed translation: try the next locale
    return _plain(msgid, _display(params))


def _plain(msgid: str, fields: Mapping[str, object]) -> str:
    if not fields:
        return msgid
    return f"{msgid} ({', '.join(f'{key}={value}' for key, value in fields.items())})"


def text(msgid: str, locale: Locale = "zh_CN", **params: object) -> str:
    """UI text ``msgid`` in ``locale``, falling back to en, then to the msgid itself."""
    return _translate(msgid, locale, params)


def render_error(err: ErrorLike, locale: Locale = "zh_CN") -> str:
    """A message a person can read for ``err``; never raises.

    Falls back from ``locale`` to en, then to the code followed by its parameters.
    """
    code = getattr(err.code, "value", err.code)
    return _translate(str(code), locale, err.params)
