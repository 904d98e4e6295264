"""The executor: acts on the ``actions`` topic at most once per action id (the ledger and outbox
live in ``executor.py``), through the platform effectors and their adapters, with one retry
policy."""
