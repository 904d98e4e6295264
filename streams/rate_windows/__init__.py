"""Rate windows: per-author flooding, spamming and frequent inflammatory posting on event time,
and the cross-author near-duplicate index.

``config`` (settings from the policy), ``fingerprint`` (SimHash and exact hashes of text),
``logic`` (the per-author state and ``observe``), ``cross_author`` (the fingerprint-keyed
index): all pure. ``agents`` wires them to Faust. Import from the submodules.
"""
