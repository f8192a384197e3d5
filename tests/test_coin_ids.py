"""Coin identity: the set-based :func:`assign_coin_ids` against a row-by-row reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from liqflow.coin_ids import KNOWN_COINS, assign_coin_ids, known_match, slug


def _reference(rows: pd.DataFrame) -> list[str]:
    """The per-row rule written plainly: named rows by name/symbol/date or the name's slug;
    symbol-only rows by the nearest-in-time named row with their symbol, else known or slug."""
    days = pd.to_datetime(rows["date"]).to_numpy(dtype="datetime64[D]")
    ids = []
    for s, n, d in zip(rows["symbol"], rows["name"], days, strict=True):
        ids.append(known_match(s.upper(), n.lower(), d) or (slug(n.lower()) if n else ""))
    named = [(days[i], rows["symbol"].iloc[i].upper(), c) for i, c in enumerate(ids) if c]
    out = []
    for i, c in enumerate(ids):
        if c:
            out.append(c)
            continue
        sym = rows["symbol"].iloc[i].upper()
        near = [(abs(int((d - days[i]).astype(int))), d, cid) for d, s, cid in named if s == sym]
        if near:
            best = min(x[0] for x in near)
            # merge_asof "nearest" takes the later of two equally near rows
            out.append([x for x in near if x[0] == best][-1][2])
        else:
            out.append(known_match(sym, "", days[i]) or slug(sym))
    return out


_SYMBOLS = [*sorted({s for k in KNOWN_COINS for s in k.symbols}), "ZZZ", "ABC"]
_NAMES = [*sorted({n for k in KNOWN_COINS for n in k.names}), "", "Some Coin", "Terra"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_SYMBOLS),
            st.sampled_from(_NAMES),
            st.integers(min_value=-40, max_value=40),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_assign_coin_ids_equals_the_row_by_row_rule(recs: list[tuple[str, str, int]]) -> None:
    # dates around the LUNA/UST switch of 2022-05-27/28, distinct per row
    base = np.datetime64("2022-05-27")
    by_day = {k: (s, n) for s, n, k in recs}
    uniq = [(s, n, k) for k, (s, n) in by_day.items()]
    rows = pd.DataFrame(
        {
            "date": [pd.Timestamp(base + np.timedelta64(k, "D")) for _, _, k in uniq],
            "symbol": [s for s, _, _ in uniq],
            "name": [n.title() for _, n, _ in uniq],
        }
    )
    assert assign_coin_ids(rows)["coin_id"].tolist() == _reference(rows)


def test_the_luna_switch_is_matched_on_each_side() -> None:
    rows = pd.DataFrame(
        {
            "date": pd.to_datetime(["2022-05-27", "2022-05-28"]),
            "symbol": ["LUNA", "LUNA"],
            "name": ["Terra", "Terra"],
        }
    )
    assert assign_coin_ids(rows)["coin_id"].tolist() == ["terra-luna", "terra-luna-2"]
    # a symbol-only row with no named row of its symbol: the known coin of its date
    for day, want in (("2022-05-27", "terrausd"), ("2022-05-28", "ust")):
        one = pd.DataFrame({"date": [pd.Timestamp(day)], "symbol": ["UST"], "name": [""]})
        assert assign_coin_ids(one)["coin_id"].tolist() == [want]
