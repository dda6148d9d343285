"""`wm serve pools` in words: each pool's weights and, per deployable, its accounts best
first with their score parts and reasons."""

from __future__ import annotations

from winged_monkey.wire import CandidateOut, PoolScoresOut


def describe(scores: PoolScoresOut) -> list[str]:
    weights = ", ".join(f"{name} {value:g}" for name, value in scores.weights.items())
    head = f"pool {scores.pool} (record over {scores.window_hours:g} h; weights: {weights})"
    if scores.priority:
        head += "; priority: " + ", ".join(f"{a} {p}" for a, p in scores.priority.items())
    lines = [head]
    if not scores.deployables:
        lines.append("  no pool deployables ([serve.pools.NAME] deployables)")
    for found in scores.deployables:
        lines.append(f"  {found.deployable}: {found.why}")
        place = 0
        for candidate in found.ranked:
            place += candidate.launchable
            lines.append("    " + _row(str(place) if candidate.launchable else "-", candidate))
    return lines


def _row(place: str, c: CandidateOut) -> str:
    price = f"${c.price_hourly:.4f}/h" if c.price_hourly is not None else "price ?"
    parts = " ".join(f"{name} {value:.2f}" for name, value in c.parts.items())
    what = c.size or c.item
    return f"{place:>2} {c.account:<16} {what:<14} {price:<12} {c.summary}; {parts}; " + "; ".join(
        r for r in c.reasons if not r.startswith(("quota:", "rejected"))
    )
