"""The stage classifier on planted flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError, DataError
from liqflow.signals import FlagSpec, StageConfig, StageRule, stage_timeline

from .conftest import dates

IDX = dates("2022-01-01", 200)


def _on(*spans: tuple[int, int]) -> np.ndarray:
    v = np.zeros(len(IDX))
    for a, b in spans:
        v[a : b + 1] = 1.0
    return v


RULES = tuple(StageRule(k, f"s{k}", (f"s{k}.x",)) for k in range(1, 5))
SPECS = tuple(FlagSpec(f"s{k}.x", f"v{k}", ">", 0.0, f"stage {k} signal") for k in range(1, 5))
VALUES = pd.DataFrame(
    {
        "v1": _on((10, 60)),
        "v2": _on((20, 100)),
        "v3": _on((50, 90)),
        "v4": _on((80, 95), (150, 160)),
    },
    index=IDX,
)


def test_current_stage_is_the_furthest_with_every_earlier_stage_held_in_the_lookback() -> None:
    tl = stage_timeline(VALUES, SPECS, StageConfig(lookback_days=30, rules=RULES, confirm_days=1))
    stage = tl.frame["stage"]
    # stage 1 was last on day 60, so it "held" (within 30 days) through day 89
    expected = {0: 0, 9: 0, 10: 1, 19: 1, 20: 2, 49: 2, 50: 3, 79: 3, 80: 4, 89: 4, 90: 0, 150: 0}
    assert {d: int(stage.iloc[d]) for d in expected} == expected
    assert [(t.date, t.from_stage, t.to_stage) for t in tl.transitions] == [
        (IDX[10], 0, 1),
        (IDX[20], 1, 2),
        (IDX[50], 2, 3),
        (IDX[80], 3, 4),
        (IDX[90], 4, 0),
    ]
    assert tl.current(IDX[85]) == (4, IDX[80])
    assert tl.frame["stage1_held"].iloc[89] and not tl.frame["stage1_held"].iloc[90]
    # with a longer lookback stage 4 stays current until stage 4 itself switches off
    long = stage_timeline(VALUES, SPECS, StageConfig(lookback_days=60, rules=RULES, confirm_days=1))
    assert int(long.frame["stage"].iloc[95]) == 4 and int(long.frame["stage"].iloc[96]) == 2


def test_a_stage_change_is_reported_once_it_has_lasted_confirm_days() -> None:
    v = _on((10, 60))
    v[30] = 0.0  # a one-day flicker
    v[40:42] = 0.0  # a two-day one
    values = pd.DataFrame({"v1": v}, index=IDX)
    rules = (StageRule(1, "one", ("s1.x",)),)
    specs = (FlagSpec("s1.x", "v1", ">", 0.0),)
    tl = stage_timeline(values, specs, StageConfig(rules=rules, confirm_days=3))
    raw, stage = tl.frame["raw_stage"], tl.frame["stage"]
    assert raw.iloc[30] == 0 and raw.iloc[41] == 0
    # confirmed on day 12 (third day on), flickers ignored, off confirmed on day 63
    assert stage.iloc[11] == 0 and stage.iloc[12] == 1
    assert (stage.iloc[12:63] == 1).all() and stage.iloc[63] == 0
    assert [(t.date, t.to_stage) for t in tl.transitions] == [(IDX[12], 1), (IDX[63], 0)]
    # a loop oracle: switch when the last `days` raw values all equal the new stage
    cur, expect = 0, []
    for i in range(len(raw)):
        window = raw.iloc[max(0, i - 2) : i + 1]
        if i >= 2 and (window == raw.iloc[i]).all():
            cur = int(raw.iloc[i])
        expect.append(cur)
    assert stage.tolist() == expect


def test_strength_skips_unknown_flags_and_required_flags_must_be_on() -> None:
    values = pd.DataFrame(
        {
            "a": [1.0, 1.0, 1.0, np.nan],
            "b": [1.0, -1.0, np.nan, np.nan],
            "c": [-1.0, -1.0, -1.0, np.nan],
        },
        index=IDX[:4],
    )
    specs = tuple(FlagSpec(n, n, ">", 0.0) for n in "abc")
    rules = (StageRule(1, "one", ("a", "b", "c"), required=("a",), min_strength=0.5),)
    tl = stage_timeline(values, specs, StageConfig(rules=rules))
    f = tl.frame
    assert f["stage1_strength"].iloc[:3].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 2])
    assert np.isnan(f["stage1_strength"].iloc[3])  # nothing known: unknown, not 0
    assert f["stage1_on"].tolist() == [True, False, True, False]
    status = tl.status(IDX[2])
    sig = {s.name: s for s in status.stages[0].signals}
    assert sig["b"].on is None and sig["a"].on is True and sig["a"].required
    assert sig["a"].since == IDX[0] and sig["c"].since == IDX[0]
    assert status.stages[0].since == IDX[2]
    assert "stage 1 one: on" in status.summary()
    frame = status.to_frame()
    assert frame["signal"].tolist() == ["a", "b", "c"] and frame["condition"].iloc[0] == "a > 0"


def test_status_and_summary_on_the_last_day() -> None:
    tl = stage_timeline(VALUES, SPECS, StageConfig(lookback_days=30, rules=RULES, confirm_days=1))
    st = tl.status()
    assert st.as_of == IDX[-1] and st.stage == 0 and st.since == IDX[90]
    assert "5 transitions" in tl.summary()
    with pytest.raises(DataError, match="as_of 2021-01-01 is before the first day of the timeline"):
        tl.status("2021-01-01")


def test_config_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match=r"required flags \['z'\] are not among its signals"):
        StageRule(1, "one", ("a",), required=("z",))
    with pytest.raises(ConfigError, match=r"rules must be stages 1..n in order, got \[2\]"):
        StageConfig(rules=(StageRule(2, "two", ("a",)),))
    with pytest.raises(ConfigError, match=r"op must be one of .* got '='"):
        FlagSpec("a", "a", "=", 0.0)
    with pytest.raises(ConfigError, match=r"stage rules name flags without a FlagSpec: \['s1.x'"):
        stage_timeline(VALUES, (), StageConfig(rules=RULES))
    with pytest.raises(ConfigError, match=r"StageConfig\.confirm_days must be an integer >= 1"):
        StageConfig(confirm_days=0)
    with pytest.raises(ConfigError, match="min_strength must be in"):
        StageRule(1, "one", ("a",), min_strength=2.0)


def test_absent_columns_make_flags_unknown() -> None:
    tl = stage_timeline(VALUES[["v1"]], SPECS, StageConfig(rules=RULES))
    assert tl.flags["s2.x"].isna().all()
    assert not tl.frame["stage2_on"].any()
    assert np.isnan(tl.status().stages[1].signals[0].value)
    assert tl.status().stages[1].signals[0].on is None


def test_since_is_none_when_never_known_and_the_start_of_the_known_run() -> None:
    """A panel starts decades before most inputs (1927): a flag or stage that has never
    been known has no "since" (not the panel's first day); a known one dates from the
    first day of its current run, after any unknown stretch."""
    nan = np.nan
    a = np.full(len(IDX), nan)
    a[50:80] = 1.0  # known from day 50, on
    a[80:90] = nan  # unknown for 10 days
    a[90:] = 1.0  # on again from day 90
    b = np.full(len(IDX), nan)  # never known
    values = pd.DataFrame({"a": a, "b": b}, index=IDX)
    specs = tuple(FlagSpec(n, n, ">", 0.0) for n in "ab")
    rules = (StageRule(1, "one", ("a", "b")), StageRule(2, "two", ("b",)))
    tl = stage_timeline(values, specs, StageConfig(rules=rules, confirm_days=1))

    def flags(day: int) -> dict[str, object]:
        st = tl.status(IDX[day])
        return {s.name: s.since for r in st.stages for s in r.signals}

    assert flags(40) == {"a": None, "b": None}
    assert flags(60)["a"] == IDX[50]
    assert flags(85)["a"] == IDX[80]  # unknown since day 80
    assert flags(150) == {"a": IDX[90], "b": None}  # on again from day 90, not day 50
    st = tl.status(IDX[40])
    # nothing known yet: no stage has a start, and the current stage (0) has none either
    assert [s.since for s in st.stages] == [None, None] and st.since is None
    assert tl.current(IDX[40]) == (0, None)
    st = tl.status(IDX[150])
    assert st.stages[0].since == IDX[90] and st.stages[1].since is None
    assert st.stage == 1 and st.since == IDX[90]  # stage 1 began when "a" came back
    assert "stage 2 two: off, strength unknown, since unknown" in st.summary()
    assert tl.status(IDX[85]).since == IDX[80]  # stage 1 from day 50, then 0 from day 80
    frame = st.to_frame()
    assert frame.loc[frame["signal"] == "b", "since"].isna().all()


def test_current_stage_without_transitions_dates_from_the_first_known_day() -> None:
    c = np.full(len(IDX), np.nan)
    c[100:] = -1.0  # known and off from day 100: stage 0 throughout
    values = pd.DataFrame({"c": c}, index=IDX)
    tl = stage_timeline(
        values, (FlagSpec("c", "c", ">", 0.0),), StageConfig(rules=(StageRule(1, "one", ("c",)),))
    )
    assert tl.current(IDX[50]) == (0, None)
    assert tl.current() == (0, IDX[100])
    assert tl.status().stages[0].since == IDX[100]
