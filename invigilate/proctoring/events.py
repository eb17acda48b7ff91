"""Real-time events of live alerts (see ``invigilate.realtime.events``)."""

from invigilate.realtime.events import event_type_register

ALERT_FIELDS = {
    "alert_id", "sequence", "exam_id", "room_id", "registration_id", "kind", "severity", "status", "count",
    "changed_at",
}
# To the room's invigilators and the exam's supervisors.
event_type_register("alert.raised", ALERT_FIELDS)
event_type_register("alert.updated", ALERT_FIELDS)
# A signal reached a candidate's timeline (not sent for heartbeats).
event_type_register("signal.recorded", {"registration_id", "kind", "at"})
# To the candidate's pages: an invigilator's warning, to be confirmed on screen.
event_type_register("warning.issued", {"warning_id", "message"})
# Back to the room: the candidate confirmed it.
event_type_register("warning.confirmed", {"warning_id", "registration_id", "confirmed_at"})
# A note or flag was added to a candidate's timeline.
event_type_register("action.recorded", {"registration_id", "action_id", "kind"})
# To a member of staff's sockets: an assignment was removed; sockets re-check access.
event_type_register("assignment.removed", {"room_id", "exam_id"})
