"""The current block from 15-minute windows is the block of ``netsky report blocks``'s
rule applied to the single responses."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netsky_core.analytics.reports import _block_starts
from netsky_core.live.blocks import BLOCK_US, HOUR_US, WINDOW_US, current_block
from netsky_core.live.reader import Window

BASE = 1_790_000_000 * 1_000_000 // HOUR_US * HOUR_US  # an hour boundary


def windows_of(stamps: list[int]) -> list[Window]:
    out: dict[int, Window] = {}
    for t in stamps:
        start = t - t % WINDOW_US
        w = out.setdefault(start, Window(start, 0, 0, 0, 0))
        w.requests += 1
        w.priced += 1
        w.tokens += 10
        w.cost_picousd += 1000
    return [out[k] for k in sorted(out)]


def reference(stamps: list[int], now: int) -> tuple[int, int] | None:
    """(start, responses) of the block active at ``now`` by the response rule."""
    stamps = sorted(t for t in stamps if t <= now)
    if not stamps:
        return None
    start = _block_starts(stamps)[-1]
    inside = [t for t in stamps if start <= t <= start + BLOCK_US]
    if now >= start + BLOCK_US or now - inside[-1] >= BLOCK_US:
        return None
    return start, len(inside)


# responses over two days, never exactly at a block's end instant (see blocks.py)
stamps_st = st.lists(
    st.integers(0, 48 * HOUR_US).filter(lambda t: t % HOUR_US != 0), min_size=0, max_size=60
)


@given(stamps_st, st.integers(0, 54 * HOUR_US))
def test_the_window_block_is_the_response_block(offsets: list[int], now_offset: int) -> None:
    stamps = [BASE + t for t in offsets]
    now = BASE + now_offset
    windows = [w for w in windows_of(stamps) if w.start_us <= now]
    got = current_block(windows, now)
    want = reference([t for t in stamps if t - t % WINDOW_US <= now], now)
    # a response later than now inside its own window: windows know only the window
    if any(t > now and t - t % WINDOW_US <= now for t in stamps):
        return
    if want is None:
        assert got is None
    else:
        assert got is not None
        assert (got.start_us, got.requests) == want
        assert got.cost_picousd == 1000 * want[1]


def test_a_gap_of_five_hours_starts_a_new_block() -> None:
    stamps = [BASE + 10 * 60 * 1_000_000, BASE + 6 * HOUR_US + 30 * 60 * 1_000_000]
    block = current_block(windows_of(stamps), BASE + 7 * HOUR_US)
    assert block is not None
    assert block.start_us == BASE + 6 * HOUR_US
    assert block.requests == 1
    assert block.left_us(BASE + 7 * HOUR_US) == 4 * HOUR_US


def test_no_block_once_it_ended() -> None:
    block = current_block(windows_of([BASE + 60_000_000]), BASE + BLOCK_US)
    assert block is None
    assert current_block([], BASE) is None


def test_burn_rate_is_per_hour_since_the_first_window() -> None:
    stamps = [BASE + 1_000_000] * 4  # four responses in the first window: 4,000 pUSD
    block = current_block(windows_of(stamps), BASE + 2 * HOUR_US)
    assert block is not None
    cost_rate, token_rate = block.burn_per_hour(BASE + 2 * HOUR_US)
    assert cost_rate == 4000 / 10**12 / 2
    assert token_rate == 40 / 2
