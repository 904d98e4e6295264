"""Offline tools: replay, audit and explain for auditors; evaluation, training and the reviewer
and evidence commands. They run once and exit; replay, audit and explain never import Faust
(tests/unit/test_architecture.py)."""
