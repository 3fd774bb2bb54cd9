from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

DEMO_USERS = [
    # username, password, role group, first name, superuser
    ("agent", "agent-demo-pw", "Agent", "Aom", False),
    ("agent2", "agent-demo-pw", "Agent", "Wei", False),
    ("manager", "manager-demo-pw", "Manager", "Mei", False),
    ("admin", "admin-demo-pw", "Admin", "Ali", True),
]


class Command(BaseCommand):
    help = "Create (or reset) one demo login per role and print them."

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        self.stdout.write("Demo logins:")
        for username, password, group, first_name, superuser in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name = first_name
            # Only admins use the Django admin; roles come from the groups.
            user.is_staff = superuser
            user.is_superuser = superuser
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=group)])
            self.stdout.write(f"  {group:<8} {username:<8} / {password}")
