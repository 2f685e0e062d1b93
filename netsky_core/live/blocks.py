"""The current 5-hour billing block from 15-minute usage windows.

A block starts at its first response floored to the UTC hour and lasts 5 hours; the
first response after that starts the next block (``netsky report blocks`` applies
the same rule to single responses). Hours and 5 hours are whole numbers of usage
windows, so a block computed from windows holds exactly the responses it holds when
computed from responses, except a response at exactly a block's end instant, which
windows put in the next block.

The block chain is followed from the first window after a gap of 5 hours or more
inside the windows given (a gap always ends a block); the caller passes windows
from far enough back (:data:`LOOKBACK_US`).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .reader import Window

__all__ = ["BLOCK_US", "HOUR_US", "LOOKBACK_US", "Block", "current_block"]

HOUR_US = 3600 * 1_000_000
BLOCK_US = 5 * HOUR_US
WINDOW_US = 15 * 60 * 1_000_000
LOOKBACK_US = 48 * HOUR_US
"""How far back the windows for :func:`current_block` reach (a chain of blocks
longer than this without a 5-hour gap is followed from its first window there)."""


class Block:
    """The active block: its start and end (UTC microseconds), what it holds, and
    its burn rate (cost and tokens per hour since its first window)."""

    __slots__ = ("cost_picousd", "end_us", "first_us", "priced", "requests", "start_us", "tokens")

    def __init__(
        self,
        start_us: int,
        first_us: int,
        requests: int,
        priced: int,
        tokens: int,
        cost_picousd: int,
    ) -> None:
        self.start_us = start_us
        self.end_us = start_us + BLOCK_US
        self.first_us = first_us
        self.requests = requests
        self.priced = priced
        self.tokens = tokens
        self.cost_picousd = cost_picousd

    @property
    def cost_usd(self) -> float | None:
        """None when no response in it is priced."""
        return None if self.priced == 0 else self.cost_picousd / 10**12

    def left_us(self, now_us: int) -> int:
        return max(0, self.end_us - now_us)

    def burn_per_hour(self, now_us: int) -> tuple[float | None, float]:
        """(USD per hour, tokens per hour) since the block's first window began."""
        hours = max(now_us - self.first_us, WINDOW_US) / HOUR_US
        cost = self.cost_usd
        return (None if cost is None else cost / hours), self.tokens / hours

    def as_dict(self, now_us: int) -> dict[str, object]:
        cost_rate, token_rate = self.burn_per_hour(now_us)
        return {
            "start_us": self.start_us,
            "end_us": self.end_us,
            "requests": self.requests,
            "tokens": self.tokens,
            "cost_usd": self.cost_usd,
            "left_seconds": self.left_us(now_us) // 1_000_000,
            "cost_usd_per_hour": cost_rate,
            "tokens_per_hour": token_rate,
        }


def current_block(windows: Sequence[Window], now_us: int) -> Block | None:
    """The block active at ``now_us`` (windows ordered by start, one per start), or
    None. Active: ``now`` is before its end and less than 5 hours after its last
    window began."""
    chain_from = 0
    for i in range(1, len(windows)):
        if windows[i].start_us - windows[i - 1].start_us > BLOCK_US:
            chain_from = i
    block: Block | None = None
    last_start = None
    for w in windows[chain_from:]:
        if w.start_us > now_us:
            break
        if block is None or w.start_us >= block.end_us:
            block = Block(w.start_us - w.start_us % HOUR_US, w.start_us, 0, 0, 0, 0)
        block.requests += w.requests
        block.priced += w.priced
        block.tokens += w.tokens
        block.cost_picousd += w.cost_picousd
        last_start = w.start_us
    if block is None or last_start is None:
        return None
    if now_us >= block.end_us or now_us - last_start >= BLOCK_US:
        return None
    return block
