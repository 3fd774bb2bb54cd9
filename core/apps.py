from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Pieces every app shares and none owns: the calendar reports count in, and one formatter each for
    dates, times, durations, money and staff names. No models."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Connects the two-factor step to the login signal.
        from core import otp  # noqa: F401
