"""Records and value bytes per topic of a namespace the benches kept, per comment sent.

    MODSTREAM_KEEP_TOPICS=1 python bench/bench_pipeline.py --phases throughput --count 6000
    python bench/topic_bytes.py <namespace> --comments 6000

The namespace is the ``run…`` prefix of the kept topics (``.stack/bench/results.jsonl``
records it). Reads every topic from the start and prints, largest first, records and value
bytes per comment, and each topic's share of all value bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workers.settings import Settings


async def topic_totals(bootstrap: str, topic: str) -> tuple[int, int]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records = size = 0
    try:
        while batch := await consumer.getmany(timeout_ms=2000, max_records=5000):
            for messages in batch.values():
                records += len(messages)
                size += sum(len(m.value or b"") for m in messages)
    finally:
        await consumer.stop()
    return records, size


async def main_async(namespace: str, comments: int) -> None:
    bootstrap = Settings.from_env({**os.environ, "MODSTREAM_DEV_MODE": "true"}).kafka_bootstrap
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if t.startswith(namespace + "."))
    finally:
        await admin.close()
    rows = [(t, *(await topic_totals(bootstrap, t))) for t in topics]
    total = sum(size for _, _, size in rows) or 1
    print("| topic | records per comment | value KB per comment | share of bytes |")
    print("|---|---:|---:|---:|")
    for topic, records, size in sorted(rows, key=lambda r: -r[2]):
        print(
            f"| {topic.removeprefix(namespace + '.')} | {records / comments:.2f} | "
            f"{size / comments / 1024:.2f} | {100 * size / total:.0f}% |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("namespace")
    parser.add_argument("--comments", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.namespace, args.comments))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
