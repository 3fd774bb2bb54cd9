"""The API's JSON parser: refuses (400) what the standard one turns into a server error or stores badly.

- nesting deeper than settings.JSON_MAX_DEPTH (the standard parser recurses until RecursionError);
- unpaired surrogates in any key or string (they cannot be encoded as UTF-8, so neither stored nor echoed
  back in an error: the message names where, never the value), and NUL characters in keys.

A NUL inside a string value is left to the serializer's fields, so that a batch reports it per item and
field like any other bad value (DRF's CharField refuses NUL; so do the filter forms behind segments).
"""

from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.text import SURROGATE, text_problem


def json_problem(data: Any, max_depth: int) -> str | None:
    """Why parsed JSON `data` is refused, or None. Iterative, so depth itself cannot overflow the stack."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, dict):
            if depth > max_depth:
                return f"JSON nested deeper than {max_depth} levels."
            for key, item in value.items():
                problem = text_problem(key)
                if problem:
                    return f"A key{_at(where)} contains {problem}."
                stack.append((item, depth + 1, f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            if depth > max_depth:
                return f"JSON nested deeper than {max_depth} levels."
            stack.extend((item, depth + 1, f"{where}[{index}]") for index, item in enumerate(value))
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem == SURROGATE:
                return f"The value{_at(where)} contains {problem}."
    return None


def _at(where: str) -> str:
    # The path is built from keys that passed the check, so it can always be rendered.
    return f" at {where}" if where else ""


class SafeJSONParser(JSONParser):
    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON nested deeper than {settings.JSON_MAX_DEPTH} levels.") from exc
        except UnicodeDecodeError as exc:
            raise ParseError("The request body is not valid UTF-8.") from exc
        problem = json_problem(data, settings.JSON_MAX_DEPTH)
        if problem:
            raise ParseError(problem)
        return data
