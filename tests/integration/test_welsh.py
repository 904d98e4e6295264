"""A Welsh emergency comment through the real broker and executor gets the Welsh signpost; an
English one the English signpost. Both are read by the worker's classifier (language, Welsh
detectors) and decided by enforcement from the policy file's texts."""

from __future__ import annotations

import asyncio
import time

import orjson

from schemas.action import Action
from streams import topics as specs
from workers.dev.local_run import LocalPipeline
from workers.executor.platform_adapters import DRY_RUN_RECORD

from .envelopes import facebook

WELSH = "Mae gan fy nhad boen ofnadwy yn ei frest ac mae e'n chwysu i gyd, beth wna i?"
ENGLISH = "My dad has crushing chest pain and he is sweating all over, what do I do?"


def _performed(pipeline: LocalPipeline) -> dict[str, str]:
    path = pipeline.rundir / DRY_RUN_RECORD
    if not path.exists():
        return {}
    entries = (orjson.loads(line) for line in path.read_bytes().splitlines())
    return {e["action_id"]: e["line"] for e in entries}


async def test_welsh_emergency_gets_the_welsh_signpost_and_english_the_english(
    pipeline: LocalPipeline,
) -> None:
    now = int(time.time() * 1000)  # due at once: the executor holds actions due later
    pipeline.start_worker()
    pipeline.start_executor()
    await pipeline.wait_ready()
    await pipeline.produce(
        specs.RAW.name,
        [
            facebook("7101", "Gwen Prys", 1, WELSH, now),
            facebook("7102", "Gareth Lloyd", 2, ENGLISH, now),
        ],
    )

    def two_signposts(got: dict[str, list[tuple[bytes | None, bytes]]]) -> bool:
        kinds = [Action.from_bytes(v).kind for _, v in got[specs.ACTIONS.name]]
        return kinds.count("emergency_signpost") >= 2

    got = await pipeline.collect([specs.ACTIONS.name], until=two_signposts, timeout_s=120)
    actions = [Action.from_bytes(v) for _, v in got[specs.ACTIONS.name]]
    signposts = [a for a in actions if a.kind == "emergency_signpost"]
    assert len(signposts) == 2, pipeline.log_of("worker")[-3000:]
    by_language = {a.language: a for a in signposts}
    assert set(by_language) == {"cy+en", "en"}

    # Welsh first, then English, as the policy file's welsh_replies: bilingual says.
    welsh, english = by_language["cy+en"].message.split("\n\n")
    assert welsh.startswith("Os ydych chi, neu rywun sydd gyda chi, mewn argyfwng")
    assert "Ffoniwch 999" in welsh and "GIG 111 Cymru" in welsh
    assert english.startswith("If you or someone you are with") and "999" in english
    only = by_language["en"].message
    assert only.startswith("If you or someone you are with") and "Ffoniwch" not in only
    # The Welsh comment's urgent review goes to Welsh-speaking reviewers; the English one not.
    reviews = {a.target_author: a for a in actions if a.kind == "queue_human_review"}
    assert reviews[by_language["cy+en"].target_author].lane == "welsh"
    assert reviews[by_language["en"].target_author].lane == ""

    # The executor performed both signposts, and its record says which language each was in.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        performed = _performed(pipeline)
        if all(a.action_id in performed for a in signposts):
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(pipeline.log_of("executor")[-3000:])
    assert "lang=cy+en" in performed[by_language["cy+en"].action_id]
    assert "lang=en" in performed[by_language["en"].action_id]
