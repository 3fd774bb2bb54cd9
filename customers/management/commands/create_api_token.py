"""Print the API token of a user, creating it if needed (or replacing it with --rotate)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token

from customers.roles import role_of


class Command(BaseCommand):
    help = "Print USERNAME's API token (Authorization: Token <token>), creating it if needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Replace an existing token with a new one.")

    def handle(self, *args: Any, username: str, rotate: bool, **options: Any) -> None:
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        if not user.is_active:
            raise CommandError(f"{username} is not active.")
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _created = Token.objects.get_or_create(user=user)
        if role_of(user) is None:
            self.stderr.write(f"Warning: {username} holds no role (Agent, Manager, Admin); the API will answer 403.")
        self.stdout.write(token.key)
