"""`manage.py create_api_token USERNAME` prints a token that authenticates API requests."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_prints_a_token_that_works_and_the_same_one_next_time(agent, client):
    key, _ = run("agent")
    assert len(key) == 40
    assert run("agent")[0] == key
    assert client.get("/api/customers/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_rotating_replaces_the_old_token(agent, client):
    old, _ = run("agent")
    new, _ = run("agent", "--rotate")
    assert new != old
    assert client.get("/api/customers/", HTTP_AUTHORIZATION=f"Token {old}").status_code == 401


def test_it_warns_when_the_user_has_no_role(outsider):
    _, err = run("outsider")
    assert "holds no role" in err


def test_it_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run("ghost")
