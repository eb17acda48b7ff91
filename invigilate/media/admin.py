from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from invigilate.admin import ReadOnlyModelAdmin

from .models import MediaPeer, MediaWorker


@admin.register(MediaWorker)
class MediaWorkerAdmin(ReadOnlyModelAdmin):
    """Operators' view of the media plane: which workers are alive, how loaded (the share of a
    core each used since its last heartbeat, its detector pool's included) and whom they hold.
    Read-only: workers register and report themselves; the sweep marks the silent ones dead."""

    list_display = ["name", "status", "load_percent", "accepting", "live_peers", "heartbeat_at", "host", "pid",
                    "started_at"]
    list_filter = ["status", "accepting", "host"]
    search_fields = ["name", "host"]
    ordering = ["status", "-heartbeat_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            live_peer_count=Count("peers", filter=Q(peers__status=MediaPeer.Status.LIVE)))

    @admin.display(description=_("Load (share of a core)"), ordering="load")
    def load_percent(self, worker: MediaWorker) -> str:
        return f"{worker.load:.0%}"

    @admin.display(description=_("Live connections"), ordering="live_peer_count")
    def live_peers(self, worker: MediaWorker) -> int:
        return worker.live_peer_count
