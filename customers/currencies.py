"""ISO 4217 currency codes and the base currency every figure is computed in.

The list is ISO 4217's active codes for currencies in circulation (the maintenance agency's list one,
2024), without the fund, precious-metal and testing codes (XAU, XTS, XXX …), which are never the
currency of a purchase. Amounts in the base currency (settings.BASE_CURRENCY, "USD" by default) need no
exchange rate; every other currency needs an ExchangeRate row on or before the order's day.
"""

from django.conf import settings
from django.core.exceptions import ValidationError

ISO_4217: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
    GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
    STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF
    XPF YER ZAR ZMW ZWL
    """.split()  # noqa: SIM905 - a table of codes reads better than 160 quoted strings
)

INVALID_MESSAGE = "Use a three-letter ISO 4217 currency code, e.g. THB or USD."


def base_currency() -> str:
    return settings.BASE_CURRENCY


def is_currency(code: object) -> bool:
    return isinstance(code, str) and code in ISO_4217


def validate_currency(code: str) -> None:
    """Model and form validator: an ISO 4217 code in capitals."""
    if not is_currency(code):
        raise ValidationError(INVALID_MESSAGE, code="invalid_currency")
