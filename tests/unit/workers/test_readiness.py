"""/readyz says "not ready" while any input topic is left out of the group's assignment."""

from __future__ import annotations

from types import SimpleNamespace

from workers.processes.web import unassigned_inputs


class _Assignor:
    """As Faust's: ``group_for_topic`` knows only the topics the last assignment covered."""

    def __init__(self, assigned: set[str]) -> None:
        self._groups = {t: i for i, t in enumerate(sorted(assigned))}

    def group_for_topic(self, topic: str) -> int:
        return self._groups[topic]


def test_a_topic_missing_at_assignment_is_reported_until_it_is_assigned() -> None:
    inputs = ["ns.comments.raw", "ns.behaviour.notices"]
    app = SimpleNamespace(assignor=_Assignor({"ns.behaviour.notices"}))
    assert unassigned_inputs(app, inputs) == ["ns.comments.raw"]  # type: ignore[arg-type]
    app.assignor = _Assignor(set(inputs))
    assert unassigned_inputs(app, inputs) == []  # type: ignore[arg-type]
