"""Synthetic markets with planted answers, shared by the tests and the benches.

Every generator returns price series that follow the series contract (tz-naive
``DatetimeIndex`` named ``date``, float64) and whose answer is known: no lead, or a lead
of ``lead`` periods; no post-event effect, or a drift of ``drift`` after each event.
The nulls keep what real markets have and naive tests get wrong:

* ``"iid"``: Gaussian returns, constant volatility, independent series;
* ``"garch"``: one GARCH(1,1) volatility shared by both series (driven by the leader's
  shocks), contemporaneous correlation 0.5;
* ``"sv"``: one log-AR(1) stochastic volatility shared by both, correlation 0.5;
* ``"t3"``: Student t with 3 degrees of freedom (scaled to unit variance), independent;
* ``"corr30"``, ``"corr60"``, ``"corr85"``: shared stochastic volatility and
  contemporaneous correlation 0.3, 0.6 and 0.85;
* ``"realvol"``: a real index's volatility history (the Russell 2000's rolling
  volatility from :func:`volatility_profile`, or a stored synthetic profile with the
  2008 and 2020 spikes) times Gaussian noise, shared by both, correlation 0.6.

``python bench/calibration.py`` measures every test of :mod:`liqflow.stats` on these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liqflow._errors import DataError
from liqflow.stats._shared import RandomLike, check_positive_int, resolve_rng

__all__ = [
    "NULLS",
    "EventMarket",
    "LeadMarket",
    "event_market",
    "lead_market",
    "stored_volatility_profile",
    "volatility_profile",
]

#: name -> (volatility model, innovations, contemporaneous correlation)
_NULL_SPECS: dict[str, tuple[str, str, float]] = {
    "iid": ("constant", "normal", 0.0),
    "garch": ("garch", "normal", 0.5),
    "sv": ("sv", "normal", 0.5),
    "t3": ("constant", "t3", 0.0),
    "corr30": ("sv", "normal", 0.3),
    "corr60": ("sv", "normal", 0.6),
    "corr85": ("sv", "normal", 0.85),
    "realvol": ("profile", "normal", 0.6),
}
NULLS = tuple(_NULL_SPECS)
_PERIODS = {"W": 52, "D": 252}
_START = pd.Timestamp("2000-01-07")  # a Friday


def _check_null(null: str) -> tuple[str, str, float]:
    if null not in _NULL_SPECS:
        raise DataError(f"null must be one of {NULLS}, got {null!r}")
    return _NULL_SPECS[null]


def stored_volatility_profile(n: int, freq: str = "W") -> np.ndarray:
    """A fixed annualised volatility path with a 2008-like and a 2020-like spike.

    Used when the real data is absent: a persistent log-volatility path (seeded, so the
    same everywhere) around 20 %, with a long crisis of 3x volatility 35 % of the way in
    and a short one of 4x 80 % of the way in.
    """
    n = check_positive_int("n", n, minimum=2)
    rng = np.random.default_rng(20080915)
    per = _PERIODS[freq]
    phi = math.exp(-1.0 / (0.5 * per))  # half a year of memory
    logv = np.zeros(n)
    shocks = rng.normal(0.0, 0.25 * math.sqrt(1 - phi * phi), n)
    for t in range(1, n):
        logv[t] = phi * logv[t - 1] + shocks[t]
    vol = 0.20 * np.exp(logv)
    for centre, width, height in ((0.35, 0.6 * per, 3.0), (0.80, 0.15 * per, 4.0)):
        bump = np.exp(-0.5 * ((np.arange(n) - centre * n) / width) ** 2)
        vol *= 1.0 + (height - 1.0) * bump
    return vol


def volatility_profile(path: Path | str, freq: str = "W", window: int | None = None) -> np.ndarray:
    """Annualised rolling volatility of an index's closes (``Date``, ``Close`` CSV).

    ``freq="W"``: standard deviation of weekly log returns (last close of each week)
    over ``window`` weeks (default 13); ``"D"``: of daily log returns over ``window``
    sessions (default 21). The result starts after the first full window.
    """
    frame = pd.read_csv(path, usecols=["Date", "Close"])
    idx = pd.DatetimeIndex(pd.to_datetime(frame["Date"].astype(str).str.slice(0, 10)))
    close = pd.Series(frame["Close"].to_numpy(dtype=np.float64), index=idx).dropna()
    close = close[~close.index.duplicated(keep="last")].sort_index()
    if freq == "W":
        close = close.resample("W-FRI").last().dropna()
    win = (13 if freq == "W" else 21) if window is None else window
    rets = pd.Series(np.log(close.to_numpy()), index=close.index).diff().dropna()
    vol = rets.rolling(win).std().dropna().to_numpy() * math.sqrt(_PERIODS[freq])
    if vol.size < 2:
        raise DataError(f"{path}: too few closes for a {win}-period volatility, got {close.size}")
    return vol


def _profile_path(profile: np.ndarray | None, n: int, freq: str) -> np.ndarray:
    base = stored_volatility_profile(max(n, 2), freq) if profile is None else profile
    reps = math.ceil(n / base.size)
    return np.tile(base, reps)[-n:] / math.sqrt(_PERIODS[freq])


def _volatility(
    model: str,
    shocks: np.ndarray,
    freq: str,
    rng: np.random.Generator,
    profile: np.ndarray | None,
) -> np.ndarray:
    """Per-period volatility path (per-period units, about 20 % a year on average)."""
    n = shocks.size
    per = _PERIODS[freq]
    level = 0.20 / math.sqrt(per)
    if model == "constant":
        return np.full(n, level)
    if model == "profile":
        return _profile_path(profile, n, freq)
    if model == "sv":
        phi = math.exp(-1.0 / (0.25 * per))  # a quarter of memory
        eta = rng.normal(0.0, 0.5 * math.sqrt(1 - phi * phi), n)
        logv = np.zeros(n)
        for t in range(1, n):
            logv[t] = phi * logv[t - 1] + eta[t]
        return level * np.exp(logv - 0.125)  # -sd^2/2 keeps the mean variance about level^2
    # GARCH(1,1): sigma2_t = w + a z_{t-1}^2 sigma2_{t-1} + b sigma2_{t-1}, unit mean variance
    a, b = 0.10, 0.85
    w = 1.0 - a - b
    s2 = np.ones(n)
    for t in range(1, n):
        s2[t] = w + (a * shocks[t - 1] ** 2 + b) * s2[t - 1]
    return level * np.sqrt(s2)


def _innovations(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if kind == "t3":
        return rng.standard_t(3, size) / math.sqrt(3.0)  # unit variance
    return rng.standard_normal(size)


def _index(n: int, freq: str) -> pd.DatetimeIndex:
    if freq == "W":
        return pd.date_range(_START, periods=n, freq="W-FRI", name="date")
    return pd.bdate_range(_START, periods=n, name="date")


def _prices(rets: np.ndarray, index: pd.DatetimeIndex, name: str) -> pd.Series:
    return pd.Series(100.0 * np.exp(np.cumsum(rets)), index=index, name=name)


@dataclass(frozen=True)
class LeadMarket:
    """Two price series with a planted lead (``lead = 0``: none).

    ``follower`` return at ``t`` contains ``coefficient * leader return at t - lead``;
    ``lead_correlation`` is the correlation that gives at that lag.
    """

    leader: pd.Series
    follower: pd.Series
    null: str
    freq: str
    lead: int
    lead_correlation: float


def lead_market(
    null: str,
    n: int,
    *,
    freq: str = "W",
    lead: int = 0,
    lead_correlation: float = 0.0,
    profile: np.ndarray | None = None,
    seed: RandomLike = None,
) -> LeadMarket:
    """Leader and follower prices under ``null``, optionally with a planted lead.

    Parameters
    ----------
    null : str
        One of :data:`NULLS` (see the module docstring).
    n : int
        Number of returns (weeks or trading days).
    freq : {"W", "D"}
        Fridays or business days.
    lead : int
        Planted lead in periods (0: the null holds).
    lead_correlation : float
        Correlation of leader at ``t`` and follower at ``t + lead`` (in ``[0, 0.9]``).
    profile : ndarray, optional
        Annualised volatility path for ``"realvol"`` (e.g. :func:`volatility_profile`);
        default :func:`stored_volatility_profile`.
    seed : numpy.random.Generator, int or None
        Source of randomness.
    """
    model, kind, rho = _check_null(null)
    n = check_positive_int("n", n, minimum=3)
    lead = check_positive_int("lead", lead, minimum=0)
    if not 0.0 <= lead_correlation <= 0.9:
        raise DataError(f"lead_correlation must lie in [0, 0.9], got {lead_correlation!r}")
    rng = resolve_rng(seed)
    m = n + 1 + lead
    z = _innovations(kind, (m, 2), rng)
    vol = _volatility(model, z[:, 0], freq, rng, profile)
    x = vol * z[:, 0]
    y = vol * (rho * z[:, 0] + math.sqrt(1.0 - rho * rho) * z[:, 1])
    if lead > 0 and lead_correlation > 0:
        c = lead_correlation / math.sqrt(1.0 - lead_correlation**2)
        y[lead:] = y[lead:] + c * x[:-lead]  # corr(x_t, y_{t+lead}) = c / sqrt(1 + c^2)
    x, y = x[lead:], y[lead:]
    index = _index(n + 1, freq)
    x[0] = y[0] = 0.0
    return LeadMarket(
        leader=_prices(x, index, "leader"),
        follower=_prices(y, index, "follower"),
        null=null,
        freq=freq,
        lead=lead,
        lead_correlation=float(lead_correlation) if lead else 0.0,
    )


@dataclass(frozen=True)
class EventMarket:
    """An event series (on business days) and a target (on calendar days).

    ``events`` is True on business days where the leader closes at a new 250-session
    high (independent of the target's future under every null). ``drift`` (0 under the
    null) is added, spread evenly, to the target's log price over the ``horizon`` days
    after each event of ``planted`` (the events declustered at ``horizon``).
    """

    events: pd.Series
    target: pd.Series
    null: str
    drift: float
    horizon: int
    planted: pd.DatetimeIndex


def event_market(
    null: str,
    n_days: int,
    *,
    drift: float = 0.0,
    horizon: int = 30,
    profile: np.ndarray | None = None,
    seed: RandomLike = None,
) -> EventMarket:
    """Breakout-like events of a leader and a 7-day-a-week target under ``null``.

    Parameters
    ----------
    null : str
        One of :data:`NULLS`; the target's daily returns share the leader's volatility
        and contemporaneous correlation on business days; on weekends it has its own
        shocks at the same volatility.
    n_days : int
        Calendar days of history.
    drift : float
        Planted log drift after each independent event (0: the null holds).
    horizon : int
        Days over which the drift is spread, and the declustering spacing.
    profile : ndarray, optional
        Annualised daily volatility path for ``"realvol"``.
    seed : numpy.random.Generator, int or None
        Source of randomness.
    """
    from liqflow.stats.events import decluster

    model, kind, rho = _check_null(null)
    n_days = check_positive_int("n_days", n_days, minimum=400)
    h = check_positive_int("horizon", horizon)
    rng = resolve_rng(seed)
    cal = pd.date_range(_START, periods=n_days, freq="D", name="date")
    z = _innovations(kind, (n_days, 2), rng)
    vol = _volatility(model, z[:, 0], "D", rng, profile) * 1.5  # crypto-like, about 30 %
    target_r = vol * (rho * z[:, 0] + math.sqrt(1.0 - rho * rho) * z[:, 1])
    business = cal.day_of_week < 5
    leader = pd.Series(np.cumsum(vol[business] * z[business, 0]), index=cal[business])
    high = leader.rolling(250, min_periods=250).max().shift(1)
    events = (leader > high).rename("events")
    events.index.name = "date"
    planted = decluster(events, h) if drift != 0.0 else pd.DatetimeIndex([], name="date")
    step = np.zeros(n_days)
    for d in planted:
        i = int(cal.searchsorted(d))
        step[i + 1 : i + 1 + h] += drift / h
    target = _prices(target_r + step, cal, "target")
    return EventMarket(
        events=events, target=target, null=null, drift=drift, horizon=h, planted=planted
    )
