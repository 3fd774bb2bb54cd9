"""Secure by default: production settings unless DEBUG=true, login throttling, two-factor, CSP, sessions."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

ROOT = Path(__file__).resolve().parent.parent
A_SECRET = "k3y-for-the-deploy-check-test-8f2b6c1d9e0a7f4b3c5d2e1f0a9b8c7d6e5f4"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py in a fresh process with only `env` (and PATH) in its environment."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_setting(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(repr((settings.{name})))"
    result = run_manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_deploy_check_passes_with_only_debug_off_a_secret_key_and_allowed_hosts() -> None:
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="false", SECRET_KEY=A_SECRET, ALLOWED_HOSTS="crm.example"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_a_secret_key_the_app_refuses_to_start() -> None:
    result = run_manage("check", ALLOWED_HOSTS="crm.example")  # DEBUG unset = production
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "insecure" not in result.stdout


def test_debug_unset_means_production_settings() -> None:
    env = {"SECRET_KEY": A_SECRET, "ALLOWED_HOSTS": "crm.example"}
    values = production_setting(
        "DEBUG, settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS > 0, settings.STORAGES['staticfiles']['BACKEND']",
        **env,
    )
    assert values == "(False, True, True, True, True, 'whitenoise.storage.CompressedManifestStaticFilesStorage')"


def test_https_settings_and_proxy_headers_come_from_the_environment() -> None:
    env = {
        "SECRET_KEY": A_SECRET,
        "ALLOWED_HOSTS": "crm.example",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
        "CSRF_TRUSTED_ORIGINS": "https://crm.example,https://survey.example",
    }
    values = production_setting(
        "SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS, "
        "settings.SECURE_PROXY_SSL_HEADER, settings.CSRF_TRUSTED_ORIGINS",
        **env,
    )
    assert values == (
        "(False, False, 0, ('HTTP_X_FORWARDED_PROTO', 'https'), ['https://crm.example', 'https://survey.example'])"
    )


def test_a_malformed_proxy_header_setting_is_refused() -> None:
    result = run_manage(
        "check", SECRET_KEY=A_SECRET, ALLOWED_HOSTS="x", SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO"
    )
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must be" in result.stderr


# Login throttling (django-axes) ----------------------------------------------------------------------


def login(client: Client, username: str, password: str, address: str = "203.0.113.7") -> int:
    response = client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)
    return response.status_code


@pytest.mark.django_db
def test_wrong_passwords_lock_the_account_even_for_the_right_password(agent: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "agent", "wrong-password") == 200  # the form again, with its error
    assert login(client, "agent", "wrong-password") == 429  # the last one allowed locks the account
    assert login(client, "agent", "pw-for-tests-1") == 429
    # From another address too: the lockout is per account...
    assert login(Client(), "agent", "pw-for-tests-1", address="198.51.100.9") == 429


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_locked_out(agent: User, manager: User) -> None:
    client = Client()
    for number in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"someone-{number}", "guess", address="192.0.2.44")
    # ...and per address: even an account with no failures cannot log in from there now.
    assert login(Client(), "manager", "pw-for-tests-1", address="192.0.2.44") == 429
    assert login(Client(), "manager", "pw-for-tests-1", address="192.0.2.45") == 302


@pytest.mark.django_db
def test_an_admin_unlocks_an_account_from_the_admin(agent: User, admin_client_: Client) -> None:
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(Client(), "agent", "wrong-password")
    assert login(Client(), "agent", "pw-for-tests-1") == 429
    attempts = AccessAttempt.objects.filter(username="agent")
    assert attempts.exists()
    changelist = admin_client_.get("/admin/axes/accessattempt/")
    assert changelist.status_code == 200
    response = admin_client_.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert login(Client(), "agent", "pw-for-tests-1") == 302


# Two-factor (django-otp) ---------------------------------------------------------------------------


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp()
    return f"{totp.token():06d}"


@pytest.mark.django_db
def test_a_staff_member_with_an_authenticator_must_give_a_code_after_the_password(agent: User) -> None:
    device = TOTPDevice.objects.create(user=agent, name="phone", confirmed=True)
    client = Client()
    assert login(client, "agent", "pw-for-tests-1") == 302
    page = client.get("/customers/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/two-factor/verify/")
    assert client.get("/api/customers/").status_code == 403

    wrong = client.post("/accounts/two-factor/verify/", {"code": "000000", "next": "/customers/"})
    assert wrong.status_code == 400
    # Each wrong code doubles the wait before the next try (django-otp's throttling), even for a right code.
    throttled = client.post("/accounts/two-factor/verify/", {"code": current_code(device), "next": "/customers/"})
    assert throttled.status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    device.refresh_from_db()
    right = client.post("/accounts/two-factor/verify/", {"code": current_code(device), "next": "/customers/"})
    assert right.status_code == 302 and right["Location"] == "/customers/"
    assert client.get("/customers/").status_code == 200


@pytest.mark.django_db
def test_without_enforcement_two_factor_is_optional(agent: User) -> None:
    client = Client()
    assert login(client, "agent", "pw-for-tests-1") == 302
    assert client.get("/customers/").status_code == 200
    assert client.get("/accounts/two-factor/").status_code == 200  # where to turn it on


@pytest.mark.django_db
def test_an_enforced_role_sets_up_an_authenticator_before_any_page(manager: User, agent: User, settings) -> None:
    settings.OTP_REQUIRED_ROLES = ["manager", "admin"]
    client = Client()
    assert login(client, "manager", "pw-for-tests-1") == 302
    page = client.get("/reports/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/two-factor/")
    setup = client.get("/accounts/two-factor/")
    assert setup.status_code == 200 and b"data:image/svg+xml;base64," in setup.content
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert client.post("/accounts/two-factor/", {"code": current_code(device), "next": "/reports/"})["Location"] == (
        "/reports/"
    )
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/reports/").status_code == 200
    # A required device cannot be removed; agents are not forced.
    assert client.post("/accounts/two-factor/", {"action": "remove"}).status_code == 400
    agent_client = Client()
    assert login(agent_client, "agent", "pw-for-tests-1", address="203.0.113.8") == 302
    assert agent_client.get("/customers/").status_code == 200


# Content-Security-Policy and sessions --------------------------------------------------------------


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_inline_scripts(agent_client: Client) -> None:
    policy = agent_client.get("/customers/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["style-src"]
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_a_staff_session_expires_after_the_configured_age(agent: User) -> None:
    client = Client()
    assert login(client, "agent", "pw-for-tests-1") == 302
    session = Session.objects.get()
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE - 60 < remaining <= settings.SESSION_COOKIE_AGE
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    page = client.get("/customers/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
