from django.urls import path

from metrics import recompute_views, views

app_name = "metrics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("compare/", views.compare, name="compare"),
    path("customers.csv", views.customers_csv, name="customers_csv"),
    path("recompute/", recompute_views.recompute_start, name="recompute"),
    path("recompute/status/", recompute_views.recompute_status, name="recompute_status"),
    path("segments/", views.segment_list, name="segments"),
    path("segments/new/", views.segment_create, name="segment_create"),
    path("segments/<slug:slug>/", views.segment_report, name="segment"),
    path("segments/<slug:slug>/export/<slug:table>.csv", views.segment_export, name="segment_export"),
    path("segments/<slug:slug>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<slug:slug>/delete/", views.segment_delete, name="segment_delete"),
    path("segments/<slug:slug>/members/", views.segment_members, name="segment_members"),
]
