"""The Django admin covers every model: registered, or edited inline on its parent."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

OUR_APPS = ["customers", "surveys", "metrics", "support"]


def inline_models() -> set[type]:
    return {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}


def our_models() -> list[type]:
    return [
        model
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
        if not model.__name__.startswith("Historical")
    ]


def test_every_model_has_an_admin_page_or_an_inline():
    covered = set(admin.site._registry) | inline_models()
    assert [m.__name__ for m in our_models() if m not in covered] == []


def test_every_admin_list_page_opens_for_an_admin(admin_client_):
    for model in our_models():
        if model not in admin.site._registry:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client_.get(url)
        assert response.status_code == 200, url


def test_agents_cannot_use_the_admin(agent_client):
    response = agent_client.get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
