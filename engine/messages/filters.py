"""The filters a message template may use: a short allow-list plus our own.

Dropped on purpose: attr, map, select/reject(attr), groupby, format, center, indent,
wordwrap, batch, slice, pprint, tojson, xmlattr, urlize, random, safe/escape (plain text,
no HTML), and anything else not listed. Every filter is wrapped so it counts as a render
step and its result is size-checked (see budget.py).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import Environment, Undefined, pass_context, pass_environment
from jinja2.filters import make_attrgetter
from jinja2.runtime import Context

from engine import clock
from engine.messages.budget import MAX_VALUE_CHARS, LimitExceeded, check_size, tick

ALLOWED_BUILTIN_FILTERS = (
    *("abs", "capitalize", "count", "first", "float", "int", "items", "join", "last"),
    *("length", "list", "lower", "max", "min", "reverse", "round", "sort", "string"),
    *("sum", "title", "trim", "truncate", "unique", "upper", "urlencode", "wordcount"),
)

_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame"}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"}
# Lower-case particles that begin a family name (Dutch, German, French, Spanish, Italian,
# Portuguese). "al" is left out: Al is a common given name.
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "la", "le", "du", "da"}
_PARTICLES |= {"di", "dos", "das", "ten", "ter", "zu", "het", "'t"}
_FAMILY_FIRST = (  # scripts whose names are written family name first, often without spaces
    (0x1100, 0x11FF),
    (0x3040, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FA1F),
)
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
_NO_CENTS = {"JPY", "KRW"}


def _missing(value: Any) -> bool:
    return (
        value is None
        or isinstance(value, Undefined)
        or (isinstance(value, str) and not value.strip())
    )


def default(value: Any, fallback: Any = "", boolean: bool = False) -> Any:
    """Missing, null or blank → `fallback` (with `boolean`, any false value too)."""
    if _missing(value) or (boolean and not value):
        return fallback
    return value


def _is_family_first(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _FAMILY_FIRST)


def _trim_word(word: str) -> str:
    """Drop emoji, symbols and punctuation around a word; keep O'Brien and Jean-Luc."""
    letters = [i for i, ch in enumerate(word) if unicodedata.category(ch)[0] in "LM"]
    return word[letters[0] : letters[-1] + 1] if letters else ""


def _given_part(name: str) -> str:
    """ "Smith, John" is a list's family-name-first order: greet the part after the comma,
    unless that part is a suffix ("John Smith, Jr.") or empty."""
    family, comma, rest = name.partition(",")
    if not comma:
        return name
    after = [w for w in (_trim_word(word) for word in rest.split()) if w]
    if not after or after[0].lower().rstrip(".") in _SUFFIXES:
        return family
    return rest


def _is_surname_start(words: list[str]) -> bool:
    """A surname particle where a given name should be ("van der Berg", "Mr de la Cruz"):
    there is no given name to greet. "Van Morrison" is a given name, so a capitalised
    particle counts only when another particle follows ("Van der Berg")."""
    first = words[0]
    if first.lower() not in _PARTICLES:
        return False
    return first.islower() or (len(words) > 1 and words[1].lower() in _PARTICLES)


def first_name(value: Any, fallback: str = "there") -> str:
    """How to greet someone: the first word of their name, or all of it for CJK names.

    Chinese, Japanese and Korean names put the family name first and often have no space,
    so splitting would greet people by their surname: those are kept whole (emoji removed).
    Titles (Dr., Ms.) are skipped; "Smith, John" greets John; a name that is only a
    surname with its particles ("van der Berg"), only emoji or blank gives `fallback`.
    """
    if _missing(value):
        return fallback
    words = [w for w in (_trim_word(word) for word in _given_part(str(value)).split()) if w]
    if not words:
        return fallback
    if _is_family_first(words[0][0]):
        return " ".join(words)
    while len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
        words = words[1:]
    if _is_surname_start(words):
        return fallback
    return words[0]


def money(value: Any, currency: str = "USD") -> str:
    """42 → $42, 42.5 → $42.50, 1234 EUR → €1,234, 5 CHF → 5 CHF."""
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise ValueError(f"money: {value!r} is not an amount (use |default(0) first)") from None
    code = str(currency).upper()
    whole = code in _NO_CENTS or amount == amount.to_integral_value()
    text = f"{abs(amount):,.{0 if whole else 2}f}"
    sign = "-" if amount < 0 else ""
    symbol = _CURRENCY_SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}"


@pass_context
def days_ago(context: Context, value: Any) -> int:
    """Whole days from `value` (a time, a date or ISO text) to the message's `now`."""
    now = context.get("now")
    if not isinstance(now, datetime):
        now = clock.now()
    if isinstance(value, str):
        value = clock.parse_time(value)
    if isinstance(value, datetime):
        return int((now - clock.as_utc(value)).total_seconds() // 86400)
    if isinstance(value, date):
        return (now.date() - value).days
    raise ValueError(f"days_ago: {value!r} is not a time or a date")


def plural(count: Any, singular: str, plural_form: str | None = None) -> str:
    """The word for `count` things: 1|plural('day') → day, 3|plural('day') → days."""
    return singular if count == 1 else (plural_form or singular + "s")


def replace(text: Any, old: str, new: str, count: int | None = None) -> str:
    """str.replace, refused before it would build a text over the size limit."""
    source = str(text)
    found = source.count(old) if old else len(source) + 1
    if count is not None:
        found = min(found, max(count, 0))
    if len(source) + found * (len(new) - len(old)) > MAX_VALUE_CHARS:
        raise LimitExceeded(f"replace() would make a text over {MAX_VALUE_CHARS} characters")
    return source.replace(old, new, -1 if count is None else count)


@pass_environment
def sum_numbers(
    environment: Environment, values: Iterable[Any], attribute: Any = None, start: Any = 0
) -> Any:
    """Jinja's `sum`, for numbers only: adding up lists or texts copies them again and again."""
    items = list(values)
    if attribute is not None:
        getter = make_attrgetter(environment, attribute)
        items = [getter(item) for item in items]
    for item in (start, *items):
        if not isinstance(item, int | float | Decimal):
            raise ValueError(f"sum: only numbers can be added up, not {type(item).__name__}")
    return sum(items, start)


OUR_FILTERS: dict[str, Callable[..., Any]] = {
    "default": default,
    "d": default,
    "first_name": first_name,
    "money": money,
    "days_ago": days_ago,
    "plural": plural,
    "replace": replace,
    "sum": sum_numbers,
}


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Count the call as a step and size-check what it returns (keeps jinja_pass_arg)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tick()
        return check_size(func(*args, **kwargs))

    return wrapper


def filter_table(builtin: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    table = {name: builtin[name] for name in ALLOWED_BUILTIN_FILTERS}
    table.update(OUR_FILTERS)
    return {name: guarded(func) for name, func in table.items()}
