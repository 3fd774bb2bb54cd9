from rest_framework.routers import SimpleRouter

from surveys.api import views

router = SimpleRouter()
router.register("surveys", views.SurveyViewSet, basename="survey")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("responses", views.ResponseViewSet, basename="response")
router.register("follow-ups", views.FollowUpViewSet, basename="follow-up")

urlpatterns = router.urls
