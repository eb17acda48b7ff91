"""Real-time event types of the media plane."""

from invigilate.realtime.events import event_type_register

# To a room's dashboards: the room's new wall thumbnails, ``thumbnails`` a list of
# {registration_id, url, taken_at} (the wall's tiles update <img data-thumbnail-for=
# "registration id">). ``url`` is an authorised view of this app.
event_type_register("media.thumbnails", {"thumbnails"})
# To a candidate's page: the media worker's answer to its offer.
event_type_register("media.answer", {"source", "sdp", "sdp_type"})
# To a candidate's page: send more (someone is watching) or less (nobody is).
event_type_register("media.quality", {"level"})
# To a candidate's page: its worker is gone (or refused it); offer again.
event_type_register("media.reconnect", {"source", "reason"})
# To a focus viewer's page: the worker's answer, or that the candidate has no live media.
event_type_register("media.viewer_answer", {"sdp", "sdp_type", "tracks"})
event_type_register("media.viewer_unavailable", {"reason"})
