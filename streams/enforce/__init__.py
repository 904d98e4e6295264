"""Enforcement: the acceptable-use policy's decision procedure, per author, on event time.

``logic`` is pure (verdicts, timers and executor results in; state, decisions and actions out);
the Faust agent that feeds it lives beside it and holds the state in a table.
"""
