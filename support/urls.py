from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("", views.work, name="work"),
    path("interactions/<int:pk>/assign/", views.interaction_assign, name="assign"),
    path("interactions/<int:pk>/priority/", views.interaction_priority, name="priority"),
    path("notifications/", views.notification_list, name="notifications"),
    path("counts/", views.nav_counts, name="counts"),
]
