"""Live cost control: what an agent is spending while it runs, read from the usage
the store keeps precomputed (usage buckets and session rows), never from the whole
history. Used by ``netsky statusline``, the budget check of ``netsky hook`` and
``netsky budget``; every module here imports only the standard library, so a process
the agent starts per event stays fast.
"""
