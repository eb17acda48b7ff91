"""Answer writes in any order, replayed any number of times: the newest revision wins, once."""

from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from invigilate.exams import services
from invigilate.exams.models import Answer
from tests.exams.journey_helpers import add_questions, bring_to_exam


def test_it_applies_only_newer_revisions_whatever_the_order(world):
    add_questions(world.exam)
    bring_to_exam(world.candidate)
    services.question_advance(registration=world.candidate, from_position=1, now=world.exam.starts_at)
    AnswerWriteMachine.world = world
    machine = AnswerWriteMachine.TestCase
    machine.settings = settings(max_examples=20, stateful_step_count=20, deadline=None,
                                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    machine().runTest()


class AnswerWriteMachine(RuleBasedStateMachine):
    """Clients (two pages: before and after a rejoin) send text writes; some arrive late,
    some twice. The stored answer must always be the highest revision sent so far."""

    world = None  # set by the test: a candidate on question 2, a written one

    @initialize()
    def setup(self):
        Answer.objects.filter(registration=self.world.candidate).delete()
        self.sent: list[tuple[int, str, str]] = []
        self.now = self.world.exam.starts_at + timedelta(minutes=1)

    def _write(self, revision: int, client: str, text: str) -> bool:
        result = services.answer_write(registration=self.world.candidate, position=2, client_id=client,
                                       revision=revision, text=text, now=self.now)
        return result.applied

    @rule(revision=st.integers(min_value=1, max_value=30), client=st.sampled_from(["pc-1", "pc-2"]),
          text=st.text(max_size=20))
    def write(self, revision, client, text):
        best = max((r for r, _, _ in self.sent), default=0)
        applied = self._write(revision, client, text)
        assert applied == (revision > best)
        self.sent.append((revision, client, text))

    @rule(data=st.data())
    def replay(self, data):
        if not self.sent:
            return
        revision, client, text = data.draw(st.sampled_from(self.sent))
        assert not self._write(revision, client, text)

    @invariant()
    def the_newest_revision_is_stored(self):
        if not getattr(self, "sent", None):
            return
        answer = Answer.objects.get(registration=self.world.candidate, question__position=2)
        best = max(self.sent, key=lambda sent: sent[0])
        first_with_best = next(sent for sent in self.sent if sent[0] == best[0])
        revision, client, text = first_with_best
        assert (answer.revision, answer.client_id, answer.text) == (revision, client, text.replace("\x00", ""))
