"""`capped_type_totals`: the pure part of a member's standing per activity type (no database).

Verified points count up to the type's annual cap (the rest is excess); pending points count only up
to the headroom the verified ones leave; the part needing the member's answer never exceeds pending.
"""

from types import SimpleNamespace

from contributions.selectors.members import TypeTotal, capped_type_totals


def _type(name: str, *, cap: int | None, category: str = "community"):
    return SimpleNamespace(name=name, category=category, annual_cap=cap)


def test_verified_points_stop_at_the_cap_and_pending_fill_only_the_headroom():
    blog = TypeTotal(_type("Blog", cap=50), verified_raw=30, pending_raw=40, needs_info_raw=40)
    [total] = capped_type_totals({1: blog})
    assert (total.verified, total.excess, total.pending, total.needs_info) == (30, 0, 20, 20)


def test_over_the_cap_the_excess_is_shown_and_nothing_pending_counts():
    blog = TypeTotal(_type("Blog", cap=50), verified_raw=75, pending_raw=25, needs_info_raw=10)
    [total] = capped_type_totals({1: blog})
    assert (total.verified, total.excess, total.pending, total.needs_info) == (50, 25, 0, 0)


def test_without_a_cap_everything_counts_in_catalogue_order():
    teach = TypeTotal(_type("Teach", cap=None, category="events"), verified_raw=240, pending_raw=120)
    answer = TypeTotal(_type("Answer", cap=None), verified_raw=10, pending_raw=5, needs_info_raw=2)
    totals = capped_type_totals({1: answer, 2: teach})
    assert [t.activity_type.name for t in totals] == ["Answer", "Teach"]  # by category, then name
    assert [(t.verified, t.excess, t.pending, t.needs_info) for t in totals] == [(10, 0, 5, 2), (240, 0, 120, 0)]
