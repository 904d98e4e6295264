"""Logging for every process: one line per event, no personal data (callers never pass it)."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # aiokafka is chatty at INFO about every rebalance; warnings are what operators need.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
