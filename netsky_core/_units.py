"""Units every layer shares, in a module that imports nothing (the hook, the
statusline and the bucket reports read it without the storage code)."""

PICO = 10**12
"""Picodollars per dollar: costs are summed exactly as whole picodollars."""
