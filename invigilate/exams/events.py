from invigilate.realtime.events import event_type_register

# The candidate's page reloads into the step the server says it is on.
event_type_register("journey.changed", {"stage"})
# An identity attempt waits for the room's invigilators.
event_type_register("identity.review_requested", {"registration_id", "attempt_id"})
# Someone decided an attempt: the other invigilators' review pages drop it.
event_type_register("identity.decided", {"registration_id", "attempt_id"})
