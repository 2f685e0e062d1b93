"""Tests of the ``netsky`` command: the real executable in subprocesses, real stores."""
