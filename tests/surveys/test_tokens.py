import hashlib

from surveys.models import Invitation
from surveys.selectors import invitation_by_token
from surveys.services import invitation_create
from surveys.tokens import hash_token, invitation_url, new_token
from tests.customers.factories import CustomerFactory


def test_tokens_are_random_url_safe_and_at_least_128_bits() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert len(token) >= 22  # 22 base64 characters carry 132 bits
        assert all(c.isalnum() or c in "-_" for c in token)


def test_only_the_hash_of_the_token_is_stored(nps) -> None:
    invitation, token = invitation_create(survey=nps, customer=CustomerFactory())
    invitation.refresh_from_db()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in Invitation.objects.filter(pk=invitation.pk).values().get().values()]
    assert token not in stored


def test_a_stored_hash_cannot_be_used_as_a_link(nps, client) -> None:
    invitation, token = invitation_create(survey=nps, customer=CustomerFactory())
    assert invitation_by_token(token) == invitation
    assert invitation_by_token(invitation.token_hash) is None
    assert client.get(f"/s/{invitation.token_hash}/").status_code == 404


def test_hashing_is_stable_and_link_carries_the_raw_token() -> None:
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
    url = invitation_url("TOKEN_abcdefghijklmnop", score=7)
    assert url.endswith("/s/TOKEN_abcdefghijklmnop/?score=7")
