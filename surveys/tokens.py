"""Invitation link tokens: 192 random bits, URL-safe; only their SHA-256 is stored."""

import hashlib
import secrets

from django.conf import settings
from django.urls import reverse


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def invitation_url(token: str, *, score: int | None = None, absolute: bool = True) -> str:
    """The customer's personal link; `score` preselects a button (an email's score links)."""
    path = reverse("surveys:answer", kwargs={"token": token})
    if score is not None:
        path = f"{path}?score={score}"
    return f"{settings.SITE_URL.rstrip('/')}{path}" if absolute else path
