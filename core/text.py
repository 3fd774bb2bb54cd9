"""What text may enter the system: no NUL character (PostgreSQL cannot store it) and no unpaired surrogate
(it cannot be encoded as UTF-8, so it could not be stored, logged or echoed back in an error)."""

NUL = "a NUL character"
SURROGATE = "an unpaired surrogate"


def text_problem(value: str) -> str | None:
    """Why `value` cannot be accepted, or None if it can."""
    if "\x00" in value:
        return NUL
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE
    return None
