"""Real-time events of the evidence app."""

from invigilate.realtime.events import event_type_register

# To the paired phone's page: an invigilator asks for the phone to be moved (confirm on screen).
event_type_register("placement.requested", {"request_id", "kind", "text"})
# To the phone's socket: another phone was paired to this registration (the old one stops).
event_type_register("phone.replaced", {"phone_id"})
