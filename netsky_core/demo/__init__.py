"""The demo: a small realistic history for ``netsky demo`` on a machine without one."""
