"""Real-time events of the evidence app."""

from invigilate.realtime.events import event_type_register

# A candidate's tile on the invigilators' wall should be fetched again (declared identically
# by the live-alerts app; the declaration is idempotent for equal fields).
event_type_register("tile.refresh", {"registration_id"})
