"""Real-time events of the help desk. They are hints: each page re-reads what changed
through its scoped selectors, so an event never carries more than ids and a status."""

from invigilate.realtime.events import event_type_register

# To the technicians of the exam (helpdesk group) and its supervisors (exam group).
event_type_register("help.changed", {"request_id", "exam_id", "status"})
# To every page of the candidate.
event_type_register("help.updated", {"request_id", "status"})
