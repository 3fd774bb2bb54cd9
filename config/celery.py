"""The Celery application. Settings come from Django settings prefixed CELERY_.

Queues by kind (routes in settings.CELERY_TASK_ROUTES): a worker started without -Q consumes all of them.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

QUEUES = ("recompute-incremental", "recompute-full", "messages", "default")

app = Celery("rapport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name, routing_key=name) for name in QUEUES]
app.autodiscover_tasks()
