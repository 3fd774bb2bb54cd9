"""Country codes from what people type: "TH", "th", "Thailand", "ประเทศไทย", "泰國", "Tanah Melayu"...

Rapport stores ISO 3166-1 alpha-2 codes. Filters, forms and imports turn a market's name in English, Thai,
Traditional Chinese or Malay into its code *before* querying, so the query stays an exact, index-served
`country = 'TH'`. Any other two-letter code is taken as given (customers outside the five markets exist);
a name that is not one of the markets' is refused with a message saying what is accepted.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The markets' names as users type them, in en, th, zh-hant (with the common simplified spellings) and ms.
MARKET_NAMES: dict[str, tuple[str, ...]] = {
    "TH": ("Thailand", "Kingdom of Thailand", "Siam", "ไทย", "ประเทศไทย", "泰國", "泰国", "Negara Thai", "Thai"),
    "MY": ("Malaysia", "มาเลเซีย", "ประเทศมาเลเซีย", "馬來西亞", "马来西亚", "大馬", "Tanah Melayu"),
    "TW": ("Taiwan", "Republic of China", "ไต้หวัน", "臺灣", "台灣", "台湾", "中華民國"),
    "HK": ("Hong Kong", "Hong Kong SAR", "Hongkong", "ฮ่องกง", "香港", "香港特別行政區", "Hong Kong SAR China"),
    "SG": ("Singapore", "Republic of Singapore", "Singapura", "สิงคโปร์", "ประเทศสิงคโปร์", "新加坡", "星加坡"),
}

CODE_RE = re.compile(r"^[A-Za-z]{2}$")


def _key(text: str) -> str:
    """Case, accents, spaces and punctuation do not matter: "hong-kong" is "Hong Kong"."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


_BY_NAME: dict[str, str] = {_key(name): code for code, names in MARKET_NAMES.items() for name in names}

UNKNOWN_COUNTRY = _("Unknown country “%(value)s”: give a 2-letter code (e.g. TH) or a name such as Thailand or 泰國.")


def country_code(value: str | None) -> str:
    """The ISO code for `value` ("" for blank); a ValidationError for a name that is not a market's."""
    value = (value or "").strip()
    if not value:
        return ""
    if CODE_RE.match(value):
        return value.upper()
    code = _BY_NAME.get(_key(value))
    if code is None:
        raise ValidationError(UNKNOWN_COUNTRY, code="unknown_country", params={"value": value[:50]})
    return code
