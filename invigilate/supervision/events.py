"""Real-time events of supervision (see ``invigilate.realtime.events``). Hints only: each page
re-reads what changed through its scoped selectors."""

from invigilate.realtime.events import event_type_register

# A room dashboard opened or closed: to the room (its invigilators see a supervisor drop in)
# and to the exam's supervisors (invigilators' online status).
event_type_register("supervision.presence", {"room_id", "user_id", "role", "online"})
# A supervisor wrote an audit note: to the exam's supervisors.
event_type_register("supervision.note_added", {"note_id", "exam_id"})
# A staff message: to the exam's supervisors and technicians, and the room's invigilators.
event_type_register("staff_message.posted", {"message_id", "exam_id", "room_id"})
