from rest_framework.routers import SimpleRouter

from metrics.api import views

router = SimpleRouter()
router.register("customer-metrics", views.CustomerMetricsViewSet, basename="customer-metrics")
router.register("segment-snapshots", views.SegmentSnapshotViewSet, basename="segment-snapshot")

urlpatterns = router.urls
