from rest_framework.routers import SimpleRouter

from customers.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("interactions", views.InteractionViewSet, basename="interaction")
router.register("orders", views.OrderViewSet, basename="order")
router.register("events", views.EngagementEventViewSet, basename="event")
router.register("segments", views.SegmentViewSet, basename="segment")

urlpatterns = router.urls
