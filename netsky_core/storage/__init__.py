"""Storage: the protocol, the rules written once, and the Store over any Engine.

* ``protocol``: the ``Storage`` protocol every store presents;
* ``engine``: the ``Engine`` a backend provides (primitives inside transactions);
* ``store``: ``Store``, every Storage method once, over an Engine;
* the rules: ``versions`` (dedup), ``billing`` (each response billed once),
  ``fold`` (session summaries), ``usage`` (usage buckets), ``git`` (git context);
* ``sql`` and ``inmemory``: the query semantics for SQL and in-memory engines.
"""
