"""The worker's answer asks the candidate's sender for longer Opus packets (a=ptime)."""

from invigilate.media.worker import sdp_ask_audio_ptime

ANSWER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:0", "a=rtpmap:96 VP8/90000",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=mid:1", "a=rtpmap:111 opus/48000/2", "a=ptime:20",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:2", "",
])


def sections(sdp: str) -> list[list[str]]:
    result: list[list[str]] = []
    for line in sdp.split("\r\n"):
        if line.startswith("m="):
            result.append([])
        if result and line:
            result[-1].append(line)
    return result


def test_it_asks_for_the_packet_time_in_audio_sections_only():
    video, audio, screen = sections(sdp_ask_audio_ptime(ANSWER, 60))
    assert audio[0].startswith("m=audio") and audio[-1] == "a=ptime:60"
    assert [line for line in audio if line.startswith("a=ptime")] == ["a=ptime:60"]  # the old one replaced
    assert not any(line.startswith("a=ptime") for line in video + screen)
    assert sdp_ask_audio_ptime(ANSWER, 60).endswith("\r\n")


def test_it_leaves_the_answer_alone_when_switched_off():
    assert sdp_ask_audio_ptime(ANSWER, 0) == ANSWER
