from django.urls import path

from customers import record_views, views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("import/", views.customer_import, name="import"),
    path("import/<int:pk>/", views.import_job_detail, name="import_job"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/privacy/", views.customer_privacy, name="privacy"),
    path("interactions/", record_views.interaction_list, name="interactions"),
    path("orders/", record_views.order_list, name="orders"),
    path("interactions/<int:pk>/", views.interaction_detail, name="interaction"),
    path("interactions/<int:pk>/edit/", views.interaction_edit, name="interaction_edit"),
    path("interactions/<int:pk>/resolve/", views.interaction_resolve, name="interaction_resolve"),
    path("interactions/<int:pk>/reopen/", views.interaction_reopen, name="interaction_reopen"),
]
