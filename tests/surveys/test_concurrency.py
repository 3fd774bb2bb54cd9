import threading

import pytest
from django.db import connection
from django.test import Client

from surveys.models import FollowUp, Response
from surveys.services import AnswerConflict, invitation_create, response_submit
from tests.customers.factories import CustomerFactory


def run_together(target, n: int = 2) -> list:
    """Start `n` threads (each with its own database connection) at the same moment."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_leave_exactly_one_answer(default_surveys) -> None:
    invitation, _ = invitation_create(survey=default_surveys["nps"], customer=CustomerFactory())
    results = run_together(lambda i: response_submit(invitation_id=invitation.pk, score=[2, 9][i], expected_revision=0))
    assert Response.objects.count() == 1
    outcomes = sorted(type(r).__name__ for r in results)
    assert outcomes == ["AnswerConflict", "Response"]
    assert FollowUp.objects.count() <= 1
    assert isinstance(next(r for r in results if not isinstance(r, Response)), AnswerConflict)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_form_posts_get_one_303_and_one_409(default_surveys) -> None:
    invitation, token = invitation_create(survey=default_surveys["csat"], customer=CustomerFactory())
    url = f"/s/{token}/"
    clients = [Client(enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for client in clients:
        html = client.get(url).content.decode()
        tokens.append(html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0])

    def post(i: int) -> int:
        return clients[i].post(url, {"csrfmiddlewaretoken": tokens[i], "revision": "0", "score": "4"}).status_code

    statuses = sorted(run_together(post))
    assert statuses == [303, 409]
    assert Response.objects.filter(invitation=invitation).count() == 1
