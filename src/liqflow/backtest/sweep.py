"""Parameter sweeps: a grid of rules evaluated by a numba kernel, then judged for luck.

Structure: the breakout events of every distinct (look-back, volume threshold,
persistence) are computed once (:func:`~liqflow.backtest.events.event_matrix`); the
kernel (:func:`~liqflow.backtest._kernels.sweep_stats`) then runs every combo of
(events, hold days, stage threshold, signal, asset, fallback) over the daily returns
and returns its statistics and per-block moments. Chunks of combos run in-process, on
local processes or on a Dask cluster (``scheduler=``) with identical results. Over the
sweep the deflated Sharpe ratio of the best combo and the PBO (CSCV) are computed.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from liqflow._errors import ConfigError
from liqflow.backtest._dispatch import Progress, SweepArrays, evaluate
from liqflow.backtest._kernels import SIGNAL_CODES, stats_to_metrics
from liqflow.backtest._shared import (
    CASH,
    SIGNALS,
    block_edges,
    check_keys,
    check_nonneg_number,
    check_positive_int,
)
from liqflow.backtest.data import MarketData
from liqflow.backtest.deflated import DeflatedSharpeResult, deflated_sharpe_ratio
from liqflow.backtest.events import BreakoutParams
from liqflow.backtest.overfit import PBOResult, _check_blocks
from liqflow.backtest.rules import Rule, _priced_span, _window, rule_path
from liqflow.config import read_toml

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["SweepGrid", "SweepResult", "load_grid", "run_sweep"]

#: The grid dimensions (tuples of values), in the order combos are enumerated.
GRID_DIMENSIONS = (
    "signal",
    "lookback",
    "volume_threshold",
    "persistence",
    "hold_days",
    "min_stage",
    "asset",
    "fallback",
)


#: Memory per combo of a sweep besides the per-block sums (codes, kernel inputs,
#: statistics, the table and its temporaries); measured by ``bench/bench_sweep.py``.
BYTES_PER_COMBO = 600


def _available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable), or all of it."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _tuple(value: object, name: str) -> tuple[Any, ...]:
    if isinstance(value, str | int | float):
        return (value,)
    if isinstance(value, list | tuple) and value:
        if len(set(value)) != len(value):
            raise ConfigError(f"SweepGrid.{name} has repeated values: {list(value)}")
        return tuple(value)
    raise ConfigError(f"SweepGrid.{name} must be a value or a non-empty list, got {value!r}")


@dataclass(frozen=True)
class SweepGrid:
    """A grid of rotation rules.

    Each dimension is a tuple of values. Dimensions a signal does not use are not
    expanded for it: a ``stage`` rule ignores the breakout parameters and hold days, a
    ``breakout`` rule ignores ``min_stage``; ``asset == fallback`` pairs are skipped.
    Costs, volume windows and the number of CSCV blocks are shared by every combo.
    """

    signal: tuple[str, ...] = ("breakout",)
    lookback: tuple[int, ...] = (0,)
    volume_threshold: tuple[float, ...] = (1.2,)
    persistence: tuple[int, ...] = (20,)
    hold_days: tuple[int, ...] = (60,)
    min_stage: tuple[int, ...] = (3,)
    asset: tuple[str, ...] = ("alts",)
    fallback: tuple[str, ...] = (CASH,)
    fee_bps: float = 10.0
    slippage_bps: float = 10.0
    volume_window: int = 5
    volume_average: int = 50
    n_blocks: int = 16

    def __post_init__(self) -> None:
        for name in GRID_DIMENSIONS:
            object.__setattr__(self, name, _tuple(getattr(self, name), name))
        for s in self.signal:
            if s not in SIGNALS:
                raise ConfigError(f"SweepGrid.signal values must be in {SIGNALS}, got {s!r}")
        check_nonneg_number(self.fee_bps, "SweepGrid.fee_bps")
        check_nonneg_number(self.slippage_bps, "SweepGrid.slippage_bps")
        check_positive_int(self.volume_window, "SweepGrid.volume_window")
        check_positive_int(self.volume_average, "SweepGrid.volume_average")
        _check_blocks(self.n_blocks, 10**9)
        self._validate_values()
        if not self._pairs():
            raise ConfigError("SweepGrid has no combo (every asset equals every fallback)")

    def _validate_values(self) -> None:
        """Each value of each dimension makes a valid :class:`Rule` (same messages)."""
        costs: dict[str, Any] = {"fee_bps": self.fee_bps, "slippage_bps": self.slippage_bps}
        if any(sig != "stage" for sig in self.signal):
            self._breakout_params()
        for hd in self.hold_days:
            Rule(hold_days=hd, **costs)
        for ks in self.min_stage:
            Rule(signal="stage", min_stage=ks, **costs)
        for a, f in self._pairs():
            Rule(asset=a, fallback=f, **costs)

    def _breakout_params(self) -> list[BreakoutParams]:
        """The event sets, in combo order (look-back, volume threshold, persistence)."""
        cached = self.__dict__.get("_cached_params")
        if cached is None:
            cached = [
                BreakoutParams(lb, vt, ps, self.volume_window, self.volume_average)
                for lb, vt, ps in itertools.product(
                    self.lookback, self.volume_threshold, self.persistence
                )
            ]
            self.__dict__["_cached_params"] = cached  # frozen: cached through __dict__
        return list(cached)

    def _pairs(self) -> list[tuple[str, str]]:
        return [(a, f) for a, f in itertools.product(self.asset, self.fallback) if a != f]

    def _codes(self) -> dict[str, np.ndarray]:
        """Per combo, the index of its value in each dimension (-1 where unused)."""
        cached = self.__dict__.get("_cached_codes")
        if cached is not None:
            return cached
        pairs = self._pairs()
        pa = np.array([self.asset.index(a) for a, _ in pairs], dtype=np.int64)
        pf = np.array([self.fallback.index(f) for _, f in pairs], dtype=np.int64)
        parts = []
        for si, sig in enumerate(self.signal):
            dims = (self.lookback, self.volume_threshold, self.persistence, self.hold_days)
            brk = tuple(len(d) for d in dims) if sig != "stage" else (1, 1, 1, 1)
            stg = len(self.min_stage) if sig != "breakout" else 1
            shape = (*brk, stg, len(pairs))
            idx = [g.ravel() for g in np.indices(shape, dtype=np.int64)]
            unused = np.full(idx[0].size, -1, dtype=np.int64)
            parts.append(
                {
                    "signal": np.full(idx[0].size, si, dtype=np.int64),
                    "lookback": idx[0] if sig != "stage" else unused,
                    "volume_threshold": idx[1] if sig != "stage" else unused,
                    "persistence": idx[2] if sig != "stage" else unused,
                    "hold_days": idx[3] if sig != "stage" else unused,
                    "min_stage": idx[4] if sig != "breakout" else unused,
                    "asset": pa[idx[5]],
                    "fallback": pf[idx[5]],
                }
            )
        codes = {k: np.concatenate([p[k] for p in parts]) for k in GRID_DIMENSIONS}
        self.__dict__["_cached_codes"] = codes  # frozen: cached through __dict__
        return codes

    def rule(self, combo: int) -> Rule:
        """The rule of combo ``combo`` (combo-index order, as in :meth:`combos`)."""
        codes = self._codes()
        if not 0 <= combo < codes["signal"].size:
            raise ConfigError(f"combo must be in 0..{codes['signal'].size - 1}, got {combo!r}")
        c = {k: int(v[combo]) for k, v in codes.items()}
        brk = (
            BreakoutParams(
                self.lookback[c["lookback"]],
                self.volume_threshold[c["volume_threshold"]],
                self.persistence[c["persistence"]],
                self.volume_window,
                self.volume_average,
            )
            if c["lookback"] >= 0
            else BreakoutParams()
        )
        return Rule(
            signal=self.signal[c["signal"]],
            asset=self.asset[c["asset"]],
            fallback=self.fallback[c["fallback"]],
            min_stage=self.min_stage[c["min_stage"]] if c["min_stage"] >= 0 else Rule.min_stage,
            hold_days=self.hold_days[c["hold_days"]] if c["hold_days"] >= 0 else Rule.hold_days,
            breakout=brk,
            fee_bps=self.fee_bps,
            slippage_bps=self.slippage_bps,
        )

    def rules(self) -> list[Rule]:
        """Every combo as a :class:`Rule`, in combo-index order."""
        return [self.rule(i) for i in range(len(self))]

    def combos(self) -> pd.DataFrame:
        """The parameters of every combo (NA where a signal ignores a dimension)."""
        codes = self._codes()
        cols: dict[str, Any] = {}
        for name in GRID_DIMENSIONS:
            values = getattr(self, name)
            code = codes[name]
            if name in ("signal", "asset", "fallback"):
                # a take on the few distinct strings (not 10^5 Python objects to convert)
                cols[name] = pd.Series(list(values)).array.take(code)
                continue
            dtype = "Float64" if name == "volume_threshold" else "Int64"
            arr: Any = pd.array(np.asarray(values)[np.maximum(code, 0)], dtype=dtype)
            arr[code < 0] = pd.NA
            cols[name] = arr
        frame = pd.DataFrame(cols)
        frame.index.name = "combo"
        return frame

    def __len__(self) -> int:
        return int(self._codes()["signal"].size)

    def memory_estimate(self, n_days: int, overfitting: bool = True) -> int:
        """Bytes a :func:`run_sweep` of this grid over ``n_days`` calendar days needs at
        its peak, above the interpreter and its libraries.

        Notes
        -----
        Combos are evaluated in chunks; what stays is per combo: the grid's codes and
        kernel inputs, the statistics, the result table, and for the PBO the per-block
        sums (``2 x n_blocks`` floats): :data:`BYTES_PER_COMBO` plus ``16 n_blocks``.
        Per event set, the events and the last-event index (9 bytes a day); per chunk,
        the kernel's per-block output.
        """
        n = len(self)
        sets = len(self.lookback) * len(self.volume_threshold) * len(self.persistence)
        blocks = 16 * self.n_blocks if overfitting else 0
        chunk = min(n, 65_536) * 48 * self.n_blocks
        return int(BYTES_PER_COMBO * n + blocks * n + 9 * sets * n_days + chunk + 2**25)

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any], source: str = "grid") -> SweepGrid:
        """From a TOML document with ``[grid]``, ``[costs]``, ``[breakout]``, ``[cscv]``."""
        check_keys(doc, ("grid", "costs", "breakout", "cscv"), source)
        grid = dict(doc.get("grid", {}))
        check_keys(grid, GRID_DIMENSIONS, f"{source}[grid]")
        costs = doc.get("costs", {})
        check_keys(costs, ("fee_bps", "slippage_bps"), f"{source}[costs]")
        brk = doc.get("breakout", {})
        check_keys(brk, ("volume_window", "volume_average"), f"{source}[breakout]")
        cscv = doc.get("cscv", {})
        check_keys(cscv, ("blocks",), f"{source}[cscv]")
        kw: dict[str, Any] = {**grid, **costs, **brk}
        if "blocks" in cscv:
            kw["n_blocks"] = cscv["blocks"]
        return cls(**kw)


def load_grid(path: str | Path) -> SweepGrid:
    """Read a :class:`SweepGrid` from a TOML file (see ``examples/sweep_grid.toml``)."""
    p = Path(path)
    doc = read_toml(p, "grid")
    if "grid" not in doc:
        raise ConfigError(f"grid file {str(p)!r} has no [grid] table; found {sorted(doc)}")
    if not isinstance(doc["grid"], dict):
        raise ConfigError(
            f"grid file {str(p)!r}: grid must be a table ([grid] with keys such as "
            f"hold_days = [30, 60]), got {type(doc['grid']).__name__} {doc['grid']!r}"
        )
    return SweepGrid.from_mapping(doc, source=p.name)


@dataclass(frozen=True, eq=False)
class _Prepared:
    """Rules turned into kernel arrays on one MarketData."""

    arrays: SweepArrays
    calendar: pd.DatetimeIndex
    assets: tuple[str, ...]
    stop: int

    @property
    def start(self) -> int:
        """First day every combo holds positions: the common evaluation start."""
        return int(self.arrays.starts.max())

    @property
    def span(self) -> tuple[int, int]:
        """Days ``[start, stop)`` when every grid asset is priced."""
        return self.start, self.stop


def _prepare(rules: list[Rule], data: MarketData) -> _Prepared:
    if len({r.cost for r in rules}) != 1:
        raise ConfigError("every rule of a sweep must have the same costs")
    assets = tuple(dict.fromkeys(a for r in rules for a in (r.asset, r.fallback) if a != CASH))
    params = list(dict.fromkeys(r.breakout for r in rules if r.uses_breakouts))
    set_of = {p: i for i, p in enumerate(params)}
    a_idx = {a: i for i, a in enumerate(assets)}
    combos = np.array(
        [
            (
                set_of.get(r.breakout, 0) if r.uses_breakouts else 0,
                r.hold_days,
                r.min_stage,
                SIGNAL_CODES[r.signal],
                a_idx[r.asset],
                a_idx[r.fallback] if r.fallback != CASH else -1,
            )
            for r in rules
        ],
        dtype=np.int64,
    ).reshape(len(rules), 6)
    uses_stage = any(r.uses_stage for r in rules)
    return _arrays(data, assets, params, uses_stage, combos, float(rules[0].cost))


def _prepare_grid(grid: SweepGrid, data: MarketData) -> _Prepared:
    """:func:`_prepare` of ``grid.rules()``, from the grid's codes (no Rule per combo)."""
    codes = grid._codes()
    pairs = grid._pairs()
    assets = tuple(dict.fromkeys(a for pair in pairs for a in pair if a != CASH))
    uses_brk = any(sig != "stage" for sig in grid.signal)
    params = grid._breakout_params() if uses_brk else []
    nv, npers = len(grid.volume_threshold), len(grid.persistence)
    lb, vt, ps = codes["lookback"], codes["volume_threshold"], codes["persistence"]
    event_set = np.where(lb >= 0, (lb * nv + vt) * npers + ps, 0)
    hd, ks = codes["hold_days"], codes["min_stage"]
    holds = np.asarray(grid.hold_days, dtype=np.int64)[np.maximum(hd, 0)]
    stages = np.asarray(grid.min_stage, dtype=np.int64)[np.maximum(ks, 0)]
    hold = np.where(hd >= 0, holds, Rule.hold_days)
    kmin = np.where(ks >= 0, stages, Rule.min_stage)
    sig = np.array([SIGNAL_CODES[x] for x in grid.signal], dtype=np.int64)[codes["signal"]]
    a_idx = np.array([assets.index(a) for a in grid.asset], dtype=np.int64)
    f_idx = np.array([assets.index(f) if f != CASH else -1 for f in grid.fallback])
    combos = np.column_stack(
        [event_set, hold, kmin, sig, a_idx[codes["asset"]], f_idx[codes["fallback"]]]
    ).astype(np.int64)
    uses_stage = any(x != "breakout" for x in grid.signal)
    cost = (grid.fee_bps + grid.slippage_bps) / 1e4
    return _arrays(data, assets, params, uses_stage, combos, cost)


def _arrays(
    data: MarketData,
    assets: tuple[str, ...],
    params: list[BreakoutParams],
    uses_stage: bool,
    combos: np.ndarray,
    cost: float,
) -> _Prepared:
    rets = data.returns(assets)
    first, stop = _priced_span(rets)
    n = len(data.calendar)
    events = data.event_rows(params) if params else np.zeros((1, n), dtype=np.bool_)
    stage = data.stage_array() if uses_stage else np.full(n, -1, dtype=np.int8)
    arrays = SweepArrays(
        events=np.packbits(np.ascontiguousarray(events, dtype=np.bool_), axis=1),
        stage=np.ascontiguousarray(stage, dtype=np.int8),
        rets=np.ascontiguousarray(rets.to_numpy(dtype=np.float64).T),
        combos=combos,
        cost=cost,
        starts=np.maximum(first[combos[:, 4]], np.where(combos[:, 5] >= 0, first[combos[:, 5]], 0)),
    )
    return _Prepared(arrays, data.calendar, assets, int(stop.min()))


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Every combo's metrics, the deflated Sharpe ratio of the best, and the PBO.

    Attributes
    ----------
    grid : SweepGrid
    table : DataFrame
        One row per combo (index ``combo``): the grid parameters and the metrics
        (annualised ``sharpe``, ``cagr``, ``volatility``, ``sortino``, ``max_drawdown``,
        ``max_drawdown_days``, ``calmar``, ``total_return``, ``turnover``, ``exposure``,
        ``n_trades``, ``hit_rate``, ``sharpe_per_period``).
    start, end : Timestamp
        Evaluation window (same for every combo).
    n_obs : int
    periods_per_year : float
    deflated : DeflatedSharpeResult or None
        None when fewer than 2 combos have a Sharpe ratio.
    pbo : PBOResult or None
        None with fewer than 2 combos.
    """

    grid: SweepGrid
    table: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    n_obs: int
    periods_per_year: float
    deflated: DeflatedSharpeResult | None
    pbo: PBOResult | None

    def to_frame(self) -> pd.DataFrame:
        """The per-combo table (a copy)."""
        return self.table.copy()

    def best(self, n: int = 10, by: str = "sharpe") -> pd.DataFrame:
        """The ``n`` best combos by ``by`` (NaN last; ties in combo order)."""
        if by not in self.table.columns:
            raise ConfigError(f"by must be a column of the table, got {by!r}")
        return self.table.sort_values(by, ascending=False, kind="stable", na_position="last").head(
            n
        )

    def rule(self, combo: int) -> Rule:
        """The rule of combo ``combo``."""
        return self.grid.rule(combo)

    def summary(self) -> str:
        lines = [
            f"sweep: {len(self.table)} combos, {self.start:%Y-%m-%d}..{self.end:%Y-%m-%d} "
            f"({self.n_obs} days)"
        ]
        top = self.best(1)
        if len(top) and np.isfinite(top["sharpe"].iloc[0]):
            i = int(top.index[0])
            lines.append(
                f"  best #{i}: {self.rule(i).label}: Sharpe {top['sharpe'].iloc[0]:.2f}, "
                f"CAGR {top['cagr'].iloc[0]:+.1%}, max DD {top['max_drawdown'].iloc[0]:.1%}"
            )
        if self.deflated is not None:
            lines.append("  " + self.deflated.summary())
        if self.pbo is not None:
            lines.append("  " + self.pbo.summary())
        return "\n".join(lines)


def run_sweep(
    grid: SweepGrid,
    data: MarketData,
    *,
    scheduler: str | Client | None = None,
    progress: Progress | None = None,
    chunk_size: int | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    overfitting: bool = True,
) -> SweepResult:
    """Evaluate every combo of ``grid`` on ``data``.

    Parameters
    ----------
    grid : SweepGrid
    data : MarketData
    scheduler : None, "processes", "tcp://HOST:PORT" or a distributed.Client
        Where the chunks of combos run: this process, a pool of local processes, or
        the workers of a running ``dask.distributed`` scheduler (reached at its
        address, or through a connected ``Client``, which is left open). Results are
        identical.
    progress : callable(done, total), optional
        Called after each chunk.
    chunk_size : int, optional
        Combos per task.
    start, end : date, optional
        Evaluation window (default: the days when every grid asset is priced).
    overfitting : bool, default True
        Compute the deflated Sharpe ratio and the PBO.

    Returns
    -------
    SweepResult

    Notes
    -----
    The DSR uses the number of combos as the number of trials; combos are correlated,
    so the effective number is smaller and the DSR is conservative. The variance of
    trials is that of the per-period Sharpe ratios (ddof=1); skewness and (non-excess)
    kurtosis are those of the best combo's net returns (population moments).

    A grid whose :meth:`SweepGrid.memory_estimate` exceeds the memory available is
    refused (ConfigError) before anything is computed.
    """
    need = grid.memory_estimate(len(data.calendar), overfitting)
    have = _available_memory()
    if need > have:
        raise ConfigError(
            f"a sweep of {len(grid):,} combos over {len(data.calendar):,} days needs about "
            f"{need / 2**30:.1f} GiB, more than the {have / 2**30:.1f} GiB available; "
            f"sweep fewer values per dimension (or split the grid)"
        )
    prep = _prepare_grid(grid, data)
    n_combos = len(grid)
    win = _window(prep.calendar, prep.span, start, end)
    eval_start, eval_end = int(win.start), int(win.stop)
    n_obs = eval_end - eval_start
    n_blocks = grid.n_blocks
    if overfitting:
        _check_blocks(n_blocks, n_obs)
    else:
        n_blocks = 2
    edges = block_edges(eval_start, eval_end, n_blocks)
    built: list[tuple[pd.DataFrame, DeflatedSharpeResult | None]] = []

    def tabulate(stats: np.ndarray) -> None:
        # on a Dask cluster, while the workers still run the CSCV passes
        built.append(_table_and_dsr(grid, stats, data, prep.calendar[win], overfitting))

    ev = evaluate(
        prep.arrays,
        eval_start,
        eval_end,
        edges,
        scheduler=scheduler,
        chunk_size=chunk_size,
        progress=progress,
        cscv=overfitting and n_combos >= 2,
        on_stats=tabulate,
    )
    ((table, dsr),) = built
    return SweepResult(
        grid=grid,
        table=table,
        start=prep.calendar[eval_start],
        end=prep.calendar[eval_end - 1],
        n_obs=n_obs,
        periods_per_year=data.periods_per_year,
        deflated=dsr,
        pbo=ev.pbo,
    )


def _table_and_dsr(
    grid: SweepGrid,
    stats: np.ndarray,
    data: MarketData,
    window: pd.DatetimeIndex,
    overfitting: bool,
) -> tuple[pd.DataFrame, DeflatedSharpeResult | None]:
    """The per-combo table of the kernel's statistics and (if ``overfitting``) the
    deflated Sharpe ratio of its best combo."""
    ppy = data.periods_per_year
    metrics = pd.DataFrame(stats_to_metrics(stats, ppy))
    table = pd.concat(
        [grid.combos(), metrics.set_axis(pd.RangeIndex(len(grid), name="combo"))], axis=1
    )
    return table, _deflated(table, grid, data, window, ppy) if overfitting else None


def _deflated(
    table: pd.DataFrame,
    grid: SweepGrid,
    data: MarketData,
    window: pd.DatetimeIndex,
    ppy: float,
) -> DeflatedSharpeResult | None:
    srs = table["sharpe_per_period"].to_numpy(dtype=np.float64)
    finite = np.isfinite(srs)
    if finite.sum() < 2:
        return None
    best = int(np.argmax(np.where(finite, srs, -np.inf)))
    # the net returns of backtest(), without its metrics and benchmarks
    path, _ = rule_path(grid.rule(best), data, start=window[0], end=window[-1])
    r = path["net"].to_numpy()
    dev = r - r.mean()
    m2 = np.mean(dev**2)
    return deflated_sharpe_ratio(
        float(srs[best]),
        n_trials=len(grid),
        var_trials=float(np.var(srs[finite], ddof=1)),
        n_obs=r.size,
        skew=float(np.mean(dev**3) / m2**1.5),
        kurtosis=float(np.mean(dev**4) / m2**2),
        periods_per_year=ppy,
    )
