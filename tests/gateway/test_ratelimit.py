"""gateway.ratelimit: the in-process token buckets and the per-request cost budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.ratelimit import CallerBudget, Decision, MemoryRateLimiter


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


async def test_ratelimit_burst_then_refused_then_refilled() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)
    for left in (5, 4, 3, 2, 1, 0):
        decision = await limiter.take("k", 1, 6)
        assert decision.allowed and decision.remaining == left and decision.limit == 6
    refused = await limiter.take("k", 1, 6)
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after == 10.0 and refused.retry_after_header() == "10"
    assert refused.reset_after == 60.0
    clock.now += 10
    assert (await limiter.take("k", 1, 6)).allowed
    assert not (await limiter.take("k", 1, 6)).allowed


async def test_ratelimit_amounts_and_keys_are_separate() -> None:
    limiter = MemoryRateLimiter(clock=Clock())
    assert (await limiter.take("a", 7, 10)).remaining == 3
    refused = await limiter.take("a", 4, 10)
    assert not refused.allowed and refused.remaining == 3  # a refusal takes nothing
    assert refused.retry_after == 6.0  # one point short at 10 a minute
    assert (await limiter.take("b", 10, 10)).allowed


async def test_ratelimit_zero_is_unlimited() -> None:
    limiter = MemoryRateLimiter()
    for _ in range(100):
        decision = await limiter.take("k", 1000, 0)
        assert decision.allowed and decision.limit is None
    assert decision.allowance().remaining is None


async def test_ratelimit_evicts_least_recently_used_buckets() -> None:
    limiter = MemoryRateLimiter(max_buckets=2, clock=Clock())
    await limiter.take("a", 5, 5)
    await limiter.take("b", 1, 5)
    await limiter.take("c", 1, 5)  # drops "a", which comes back full
    assert (await limiter.take("a", 5, 5)).allowed


def test_ratelimit_retry_after_header_rounds_up() -> None:
    decision = Decision(False, 10, 0, 1.0, 0.2)
    assert decision.retry_after_header() == "1"
    assert Decision(False, 10, 0, 1.0, 6.01).retry_after_header() == "7"


def test_ratelimit_reset_time_is_the_whole_utc_second_after_the_wait() -> None:
    before = datetime.now(UTC)
    at = Decision(True, 10, 5, 30.0, 0.0).allowance().reset_at
    after = datetime.now(UTC)
    assert at is not None and at.tzinfo is not None and at.microsecond == 0
    wait = timedelta(seconds=30)
    assert (before + wait).replace(microsecond=0) <= at <= after + wait
    given = datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)
    assert Decision(True, 10, 5, 1.5, 0.0).allowance(given).reset_at == given.replace(
        second=7, microsecond=0
    )


async def test_ratelimit_caller_budget_reports_and_signals_refusal() -> None:
    refusals: list[Decision] = []
    budget = CallerBudget(MemoryRateLimiter(clock=Clock()), "cost:x", 10, refusals.append)
    first = await budget.charge(8)
    assert first.allowed and first.remaining == 2 and first.limit == 10
    assert first.reset_at is not None
    second = await budget.charge(3)
    assert not second.allowed and second.retry_after is not None
    assert len(refusals) == 1
