"""Property-based run of every API operation against the OpenAPI schema: no 500, no answer it does not describe."""

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def keep_db_connection() -> Iterator[None]:
    """Requests go straight to the WSGI app: keep Django from closing the test's connection after each one
    (as django.test.Client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Served by the app itself, as a client would fetch it (generating the schema needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def admin_token(admin: User, keep_db_connection: None) -> str:
    return Token.objects.create(user=admin).key


@pytest.fixture
def existing_ids(world: SimpleNamespace, admin: User) -> dict[str, int]:
    """Ids of stored records by URL prefix, so that detail operations also meet real rows, not only 404s."""
    from support.models import Notification

    notification = Notification.objects.create(recipient=admin, kind="assigned", message="Assigned to you")
    return {
        "notifications": notification.pk,
        "customers": world.customer.pk,
        "interactions": world.interaction.pk,
        "orders": world.order.pk,
        "events": world.event.pk,
        "surveys": world.survey.pk,
        "invitations": world.invitation.pk,
        "responses": world.response.pk,
        "follow-ups": world.follow_up.pk,
        "segments": world.segment.pk,
        "customer-metrics": world.customer.pk,
        "segment-snapshots": world.snapshot.pk,
    }


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_its_schema_says(
    case: schemathesis.Case, admin_token: str, existing_ids: dict[str, int]
) -> None:
    for name, value in (case.path_parameters or {}).items():
        # Every other generated id is swapped for a stored one.
        if isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = existing_ids[case.operation.path.split("/")[2]]
    case.call_and_validate(headers={"Authorization": f"Token {admin_token}"}, checks=CHECKS)


WRITE_OPERATIONS = [
    (operation.method.upper(), operation.path)
    for operation in (result.ok() for result in schema.get_all_operations())
    if operation.method.upper() in ("POST", "PUT", "PATCH")
]
HOSTILE_BODIES = {
    "deep": ("[" * 5000 + "]" * 5000, "application/json"),
    "surrogate": ('{"name": "x\\udc00", "external_id": "\\ud800"}', "application/json"),
    "nul key": ('{"na\\u0000me": "x"}', "application/json"),
    "not utf-8": (b'{"name": "\xff\xfe"}', "application/json"),
    "utf-16 form": ("name=x", "application/x-www-form-urlencoded; charset=utf-16"),
}


@pytest.mark.parametrize(("method", "path"), WRITE_OPERATIONS)
def test_every_write_endpoint_refuses_hostile_bodies_with_a_json_4xx(
    method: str, path: str, admin_token: str, existing_ids: dict[str, int]
) -> None:
    from django.test import Client

    prefix = path.split("/")[2]
    url = path
    for name in ("{id}", "{pk}", "{customer_pk}", "{external_id}"):
        url = url.replace(name, str(existing_ids.get(prefix, 1)))
    client = Client(HTTP_AUTHORIZATION=f"Token {admin_token}")
    for label, (body, content_type) in HOSTILE_BODIES.items():
        response = client.generic(method, url, body, content_type=content_type)
        assert 400 <= response.status_code < 500, (label, response.status_code)
        assert response["Content-Type"].startswith("application/json"), label
        response.json()
