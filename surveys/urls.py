from django.urls import path

from surveys import staff_views, views

app_name = "surveys"

urlpatterns = [
    # Public, no account: the customer's personal link.
    path("s/<str:token>/", views.answer, name="answer"),
    path("s/<str:token>/thanks/", views.thanks, name="thanks"),
    # Staff.
    path("surveys/", staff_views.survey_list, name="list"),
    path("surveys/follow-ups/", staff_views.follow_up_list, name="follow_ups"),
    path("surveys/follow-ups/<int:pk>/close/", staff_views.follow_up_close_view, name="follow_up_close"),
    path("surveys/send/", staff_views.send_to_customers, name="send"),
    path("surveys/send/<int:pk>/", staff_views.send_job_detail, name="send_job"),
    path("surveys/send/<int:pk>/progress.json", staff_views.send_job_progress, name="send_job_progress"),
    path("surveys/invite/<int:customer_pk>/", staff_views.customer_invite, name="invite"),
    path("surveys/responses/", staff_views.response_list, name="responses"),
    path("surveys/<slug:slug>/", staff_views.survey_detail, name="detail"),
]
