import pytest
from django.test import Client, override_settings

from surveys.services import invitation_create
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@override_settings(SURVEY_RATE_LIMIT="5/m")
def test_the_public_pages_are_rate_limited_per_address_with_a_clear_429(nps) -> None:
    _, token = invitation_create(survey=nps, customer=CustomerFactory(language="th"))
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [client.get(f"/s/{token}/").status_code for _ in range(5)]
    assert statuses == [200] * 5
    limited = client.get(f"/s/{token}/")
    assert limited.status_code == 429
    assert "มีการเข้าใช้งานบ่อยเกินไป" in limited.content.decode()
    assert client.post(f"/s/{token}/", {"score": "9"}).status_code == 429
    assert client.get("/s/" + "Q" * 32 + "/").status_code == 429
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/s/{token}/").status_code == 200


@override_settings(SURVEY_RATE_LIMIT="3/m")
def test_guessing_links_is_rate_limited(db) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [client.get(f"/s/{'A' * 31}{i}/").status_code for i in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


@override_settings(SURVEY_RATE_LIMIT="4/m")
def test_the_answer_and_thank_you_pages_share_one_budget(nps) -> None:
    _, token = invitation_create(survey=nps, customer=CustomerFactory())
    client = Client(REMOTE_ADDR="192.0.2.44")
    assert client.get(f"/s/{token}/").status_code == 200
    assert client.get(f"/s/{token}/").status_code == 200
    assert client.get(f"/s/{token}/thanks/").status_code == 302
    assert client.get(f"/s/{token}/thanks/").status_code == 302
    assert client.get(f"/s/{token}/thanks/").status_code == 429
