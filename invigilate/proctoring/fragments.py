"""The HTML fragments of the dashboard, rendered the same way for a page and a push."""

from django.template.loader import render_to_string

from . import selectors
from .models import Alert


def alert_context(alert: Alert, *, viewer) -> dict:
    return {"alert": alert, "can_act": True}


def alert_html(alert: Alert, *, viewer) -> str:
    return render_to_string("proctoring/_alert.html", alert_context(alert, viewer=viewer))


def alert_message(alert: Alert, *, viewer) -> dict:
    return {
        "type": "alert",
        "alert_id": alert.pk,
        "sequence": alert.sequence,
        "registration_id": alert.registration_id,
        "status": alert.status,
        "severity": alert.severity,
        "active": alert.is_active,
        "changed_at": alert.changed_at.isoformat(),
        "new": alert.count == 1 and alert.status == Alert.Status.OPEN,
        "html": alert_html(alert, viewer=viewer),
    }


def tile_html(registration) -> str:
    return render_to_string("proctoring/_tile.html", {"registration": registration})


def tile_message(*, room, registration_id: int) -> dict | None:
    registration = selectors.tile_get(room=room, registration_id=registration_id)
    if registration is None:
        return None
    return {"type": "tile", "registration_id": registration.pk, "html": tile_html(registration)}
