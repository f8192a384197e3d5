"""Sweeps: grid expansion, identical results in every execution mode, DSR and PBO."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liqflow._errors import ConfigError
from liqflow.backtest import MarketData, SweepGrid, backtest, load_grid, run_sweep

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweep_grid.toml"

GRID = SweepGrid(
    signal=("breakout", "all", "stage"),
    lookback=(0, 30, 60),
    volume_threshold=(0.0, 1.2),
    persistence=(0, 3),
    hold_days=(10, 30),
    min_stage=(2, 3),
    asset=("alts", "btc"),
    fallback=("cash", "btc"),
    n_blocks=8,
)


def test_grid_expansion_skips_unused_dimensions() -> None:
    combos = GRID.combos()
    pairs = 3  # alts/cash, alts/btc, btc/cash
    assert len(GRID) == len(combos) == (24 + 24 * 2 + 2) * pairs
    stage = combos[combos["signal"] == "stage"]
    assert stage["lookback"].isna().all() and stage["hold_days"].isna().all()
    assert combos.loc[combos["signal"] == "breakout", "min_stage"].isna().all()
    assert not (combos["asset"] == combos["fallback"]).any()
    rules = GRID.rules()
    row = combos.iloc[5]
    assert rules[5].breakout.lookback == row["lookback"] and rules[5].asset == row["asset"]


def test_example_grid_has_over_1000_combos() -> None:
    grid = load_grid(EXAMPLE)
    assert len(grid) >= 1000
    assert grid.n_blocks == 16 and grid.fee_bps == 10


def test_grid_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("SweepGrid.signal values must be in")):
        SweepGrid(signal=("moon",))
    with pytest.raises(ConfigError, match=re.escape("SweepGrid.hold_days has repeated values")):
        SweepGrid(hold_days=(10, 10))
    with pytest.raises(ConfigError, match="no combo"):
        SweepGrid(asset=("btc",), fallback=("btc",))
    with pytest.raises(ConfigError, match="n_blocks must be an even integer"):
        SweepGrid(n_blocks=7)
    f = tmp_path / "g.toml"
    f.write_text("[grid]\nholds = [1]\n")
    with pytest.raises(ConfigError, match="unknown key\\(s\\) 'holds'"):
        load_grid(f)
    f.write_text("[costs]\nfee_bps = 1\n")
    with pytest.raises(ConfigError, match="has no \\[grid\\] table"):
        load_grid(f)
    f.write_text("grid = 5\n")
    with pytest.raises(ConfigError, match=r"grid must be a table .* got int 5"):
        load_grid(f)


@pytest.fixture(scope="module")
def reference(market: MarketData):  # type: ignore[no-untyped-def]
    return run_sweep(GRID, market)


def test_in_process_chunks_and_progress(market: MarketData, reference) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int]] = []
    res = run_sweep(GRID, market, chunk_size=7, progress=lambda d, t: seen.append((d, t)))
    # chunked evaluation (the kernel and CSCV by chunks of trials) equals one chunk
    pd.testing.assert_frame_equal(res.table, reference.table, check_exact=True)
    for field in ("logits", "is_sharpe", "oos_sharpe"):
        np.testing.assert_array_equal(getattr(res.pbo, field), getattr(reference.pbo, field))
    assert res.deflated == reference.deflated
    from liqflow.backtest._dispatch import distinct_combos
    from liqflow.backtest.sweep import _prepare

    n_distinct = distinct_combos(_prepare(GRID.rules(), market).arrays)[0].combos.shape[0]
    assert seen[-1] == (len(GRID), len(GRID)) and len(seen) == -(-n_distinct // 7)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("scatter", [False, True])
def test_dask_local_cluster_equals_in_process(  # type: ignore[no-untyped-def]
    market: MarketData, reference, scatter: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    from liqflow.backtest import _dask

    if scatter:  # the shares' inputs scattered to their workers, not inside the tasks
        monkeypatch.setattr(_dask, "EMBED_BYTES", 0)
    results = {}
    for workers in (1, 2):
        with LocalCluster(
            n_workers=workers, processes=False, threads_per_worker=1, dashboard_address=":0"
        ) as cluster:
            seen: list[int] = []
            results[workers] = res = run_sweep(
                GRID,
                market,
                scheduler=cluster.scheduler_address,
                chunk_size=20 if workers == 2 else None,
                progress=lambda d, t, seen=seen: seen.append(d),
            )
        assert seen[-1] == len(GRID)
        pd.testing.assert_frame_equal(res.table, reference.table, check_exact=True)
        assert res.pbo is not None and reference.pbo is not None
        for field in ("logits", "is_sharpe", "oos_sharpe"):
            np.testing.assert_array_equal(getattr(res.pbo, field), getattr(reference.pbo, field))
        assert res.deflated == reference.deflated
    assert results[1].pbo.pbo == results[2].pbo.pbo  # type: ignore[union-attr]


def test_dask_trials_stay_on_their_worker(market: MarketData, reference) -> None:  # type: ignore[no-untyped-def]
    # between the workers only the first pass's picks travel (a few floats per split),
    # never a share's per-block sums
    from distributed import LocalCluster

    from liqflow.backtest import _dask

    with LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        res = run_sweep(GRID, market, scheduler=cluster.scheduler_address)
        moved = {
            str(key): size
            for w in cluster.workers.values()
            for entry in w.transfer_incoming_log
            for key, size in entry["keys"].items()
        }
    pd.testing.assert_frame_equal(res.table, reference.table, check_exact=True)
    assert moved and all(k.startswith("share_picks-") for k in moved), moved
    # Dask is told their true size: 5 vectors of 8 bytes per split (70 splits of 8 blocks,
    # in ranges), plus the object's header; each worker gets the other's picks of each
    ranges = _dask.split_ranges(70, _dask.PASS_RANGES)
    sizes = sorted([5 * 8 * (hi - lo) for lo, hi in ranges] * 2)
    assert len(moved) == len(sizes) and sum(sizes) == 2 * 5 * 8 * 70
    got = sorted(moved.values())
    assert all(0 <= g - w < 64 for g, w in zip(got, sizes, strict=True)), moved


def test_dask_through_a_connected_client(market: MarketData, reference) -> None:  # type: ignore[no-untyped-def]
    # a Client the caller holds is used as it is (no connection of its own) and left open
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        for _ in range(2):
            res = run_sweep(GRID, market, scheduler=client)
            pd.testing.assert_frame_equal(res.table, reference.table, check_exact=True)
            assert res.pbo is not None and reference.pbo is not None
            np.testing.assert_array_equal(res.pbo.logits, reference.pbo.logits)
        assert client.status == "running"


def test_dask_scheduler_without_workers(
    market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster

    from liqflow._errors import ProviderError
    from liqflow.backtest import _dask

    monkeypatch.setattr(_dask, "WORKER_WAIT", 0.3)
    with (
        LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster,
        pytest.raises(ProviderError, match=r"has no worker \(none joined within 0\.3 s\)"),
    ):
        run_sweep(GRID, market, scheduler=cluster.scheduler_address)


def test_bad_scheduler(market: MarketData) -> None:
    with pytest.raises(
        ConfigError, match="scheduler must be None \\(in-process\\), 'processes', a Dask"
    ):
        run_sweep(GRID, market, scheduler="threads")


def test_deflated_sharpe_of_the_best_combo(market: MarketData, reference) -> None:  # type: ignore[no-untyped-def]
    table = reference.table
    best = int(table["sharpe"].idxmax())
    dsr = reference.deflated
    assert dsr.n_trials == len(GRID) and dsr.n_obs == reference.n_obs
    assert dsr.sharpe == pytest.approx(table["sharpe_per_period"].max(), rel=1e-12)
    assert dsr.var_trials == pytest.approx(np.nanvar(table["sharpe_per_period"], ddof=1))
    # the best combo backtested alone gives the same Sharpe ratio
    alone = backtest(reference.rule(best), market, start=reference.start, end=reference.end)
    assert alone.metrics.sharpe == pytest.approx(table.loc[best, "sharpe"], rel=1e-9)
    assert reference.best(3).index[0] == best
    assert f"best #{best}" in reference.summary()
    assert reference.pbo.n_trials == len(GRID) and 0 <= reference.pbo.pbo <= 1


def test_window_and_no_overfitting(market: MarketData, reference) -> None:  # type: ignore[no-untyped-def]
    res = run_sweep(GRID, market, start="2019-01-01", end="2019-12-31", overfitting=False)
    assert res.deflated is None and res.pbo is None
    assert res.start == pd.Timestamp("2019-01-01") and res.n_obs == 365
    assert not res.table["sharpe"].equals(reference.table["sharpe"])


def test_local_processes_equal_in_process(market: MarketData) -> None:
    # Spawned worker processes (about 5 s to start: they import numpy, pandas, numba).
    grid = SweepGrid(lookback=(0, 30), hold_days=(10, 30), asset=("alts", "btc"), n_blocks=4)
    ref = run_sweep(grid, market)
    res = run_sweep(grid, market, scheduler="processes", chunk_size=3)
    pd.testing.assert_frame_equal(res.table, ref.table, check_exact=True)
    assert res.pbo is not None and ref.pbo is not None
    np.testing.assert_array_equal(res.pbo.logits, ref.pbo.logits)  # CSCV ran on the pool


def test_sweep_pbo_equals_the_matrix_cscv(market: MarketData, reference) -> None:  # type: ignore[no-untyped-def]
    # the PBO of the sweep is the matrix CSCV of the combos' block sums: the same logits
    # and PBO; the Sharpe ratios to the last bit or so (the matrix form sums the blocks
    # with BLAS, whose summation order can differ in the last bit for some shapes)
    from liqflow.backtest._dispatch import evaluate
    from liqflow.backtest._shared import block_edges
    from liqflow.backtest.overfit import _pbo_from_blocks_reference
    from liqflow.backtest.sweep import _prepare

    prep = _prepare(GRID.rules(), market)
    stop = prep.start + reference.n_obs
    edges = block_edges(prep.start, stop, GRID.n_blocks)
    ev = evaluate(prep.arrays, prep.start, stop, edges, keep_blocks=True)
    assert ev.bsum is not None and ev.bsq is not None
    want = _pbo_from_blocks_reference(np.diff(edges).astype(np.float64), ev.bsum, ev.bsq)
    np.testing.assert_array_equal(reference.pbo.logits, want.logits)
    np.testing.assert_allclose(reference.pbo.oos_sharpe, want.oos_sharpe, rtol=1e-14)
    np.testing.assert_allclose(reference.pbo.is_sharpe, want.is_sharpe, rtol=1e-14)
    assert reference.pbo.pbo == want.pbo
    assert reference.pbo.prob_oos_loss == want.prob_oos_loss


def test_event_rows_equal_events_on_calendar_row_by_row(market: MarketData) -> None:
    from liqflow.backtest import BreakoutParams, event_matrix, events_on_calendar

    params = [BreakoutParams(lb, vt, ps) for lb in (0, 30) for vt in (0.0, 1.2) for ps in (0, 3)]
    sc = market.small_caps
    assert sc is not None
    sessions = event_matrix(sc["close"], sc["volume"], params)
    want = np.stack(
        [events_on_calendar(pd.Series(r, index=sc.index), market.calendar) for r in sessions]
    )
    got = market.event_rows(params)
    assert got.any() and np.array_equal(got, want)


def test_distinct_combos_stand_for_their_duplicates(market: MarketData) -> None:
    from liqflow.backtest._dispatch import distinct_combos
    from liqflow.backtest._kernels import sweep_stats
    from liqflow.backtest._shared import block_edges
    from liqflow.backtest.sweep import _prepare

    # volume thresholds far below the usual ratio of volumes pass every day: same events
    grid = SweepGrid(
        lookback=(0, 30),
        volume_threshold=(0.0, 0.1, 0.2, 1.2),
        hold_days=(10, 30),
        asset=("alts", "btc"),
    )
    a = _prepare(grid.rules(), market).arrays
    d, row_of = distinct_combos(a)
    assert d.weights is not None and d.weights.sum() == len(grid)
    assert 0 < d.combos.shape[0] < len(grid) and np.array_equal(np.bincount(row_of), d.weights)
    assert (np.diff(row_of[np.unique(row_of, return_index=True)[1]]) > 0).all()  # first-seen order
    edges = block_edges(100, 900, 4)
    every = sweep_stats(a.last_event, a.stage, a.rets, a.combos, a.cost, a.starts, 100, 900, edges)
    few = sweep_stats(d.last_event, d.stage, d.rets, d.combos, d.cost, d.starts, 100, 900, edges)
    for e, f in zip(every, few, strict=True):
        np.testing.assert_array_equal(e, f[row_of])
    ref = run_sweep(grid, market, chunk_size=len(grid))
    res = run_sweep(grid, market, chunk_size=3)
    pd.testing.assert_frame_equal(res.table, ref.table, check_exact=True)
    assert ref.pbo is not None and res.pbo is not None and ref.pbo.n_trials == len(grid)
    np.testing.assert_array_equal(res.pbo.logits, ref.pbo.logits)
    # the weights count every duplicate: the matrix CSCV over all the combos agrees
    from liqflow.backtest._dispatch import evaluate
    from liqflow.backtest.overfit import _pbo_from_blocks_reference

    prep = _prepare(grid.rules(), market)
    edges = block_edges(prep.start, prep.start + ref.n_obs, grid.n_blocks)
    ev = evaluate(prep.arrays, prep.start, prep.start + ref.n_obs, edges, keep_blocks=True)
    assert ev.bsum is not None and ev.bsq is not None and ev.bsum.shape[0] == len(grid)
    want = _pbo_from_blocks_reference(np.diff(edges).astype(np.float64), ev.bsum, ev.bsq)
    np.testing.assert_array_equal(ref.pbo.logits, want.logits)


@pytest.mark.parametrize(
    "grid",
    [
        GRID,
        SweepGrid(signal=("stage",), min_stage=(1, 2), asset=("btc", "eth")),
        SweepGrid(
            signal=("any", "breakout"), lookback=(0, 30), hold_days=(5, 9), fallback=("eth",)
        ),
    ],
)
def test_grid_codes_equal_the_rules(market: MarketData, grid: SweepGrid) -> None:
    # the vectorised expansion gives the kernel arrays and table of one Rule per combo
    from liqflow.backtest.sweep import _prepare, _prepare_grid

    rules = grid.rules()
    assert len(rules) == len(grid) == len(grid.combos())
    want, got = _prepare(rules, market), _prepare_grid(grid, market)
    for f in ("last_event", "stage", "rets", "combos", "starts"):
        np.testing.assert_array_equal(getattr(got.arrays, f), getattr(want.arrays, f))
    assert got.arrays.cost == want.arrays.cost and got.assets == want.assets
    combos = grid.combos()
    for i in (0, len(rules) // 2, len(rules) - 1):
        r, row = rules[i], combos.iloc[i]
        assert (r.signal, r.asset, r.fallback) == (row["signal"], row["asset"], row["fallback"])
        if r.uses_breakouts:
            assert (r.breakout.lookback, r.hold_days) == (row["lookback"], row["hold_days"])
        else:
            assert row["lookback"] is pd.NA and row["hold_days"] is pd.NA
        if r.uses_stage:
            assert r.min_stage == row["min_stage"]
        else:
            assert row["min_stage"] is pd.NA


def test_grid_larger_than_the_memory_is_refused(
    market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liqflow.backtest import sweep

    need = GRID.memory_estimate(len(market.calendar))
    assert need > GRID.memory_estimate(len(market.calendar), overfitting=False)
    # proportional to the combos (plus the per-block sums), not to combos x days
    holds = tuple(range(1, 10_001))
    big, bigger = (SweepGrid(lookback=tuple(range(k)), hold_days=holds) for k in (7, 14))
    per_combo = (bigger.memory_estimate(900) - big.memory_estimate(900)) / (len(bigger) - len(big))
    assert sweep.BYTES_PER_COMBO <= per_combo < sweep.BYTES_PER_COMBO + 16 * 16 + 100
    monkeypatch.setattr(sweep, "_available_memory", lambda: need - 1)
    with pytest.raises(ConfigError, match=r"a sweep of 222 combos over 900 days needs about"):
        run_sweep(GRID, market)
    monkeypatch.setattr(sweep, "_available_memory", lambda: need)
    assert len(run_sweep(GRID, market, overfitting=False).table) == len(GRID)


def test_row_keys_equal_for_equal_rows_only() -> None:
    from liqflow.backtest._dispatch import _row_keys

    rng = np.random.default_rng(1)
    rows = rng.integers(-3, 4, (500, 7))
    keys = _row_keys(rows)
    assert keys.ndim == 1
    same_key = keys[:, None] == keys[None, :]
    same_row = (rows[:, None, :] == rows[None, :, :]).all(axis=2)
    assert np.array_equal(same_key, same_row)
    wide = np.array([[0, 0], [2**40, 2**40], [0, 0]])
    assert np.array_equal(_row_keys(wide), wide)  # ranges beyond 63 bits: the rows


@pytest.mark.parametrize("grid", [GRID, SweepGrid(signal=("stage",), min_stage=(1, 2))])
def test_sweep_arrays_pickle_exactly_and_small(market: MarketData, grid: SweepGrid) -> None:
    # what the workers receive: the events one bit a day, the last-event index rebuilt
    import pickle

    from liqflow.backtest._dispatch import distinct_combos
    from liqflow.backtest.sweep import _prepare_grid

    a = distinct_combos(_prepare_grid(grid, market).arrays)[0]
    blob = pickle.dumps(a, protocol=5)
    b = pickle.loads(blob)
    for f in ("last_event", "stage", "rets", "combos", "starts", "weights"):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f
    assert b.cost == a.cost and b.last_event.flags.c_contiguous
    assert len(blob) < a.last_event.nbytes / 4 + a.combos.nbytes + a.rets.nbytes + 4096


def test_integers_travel_narrow_and_come_back_exactly(market: MarketData) -> None:
    import pickle

    from liqflow.backtest._dask import Share, share_of
    from liqflow.backtest._dispatch import distinct_combos, narrow
    from liqflow.backtest.sweep import _prepare_grid

    big = np.iinfo(np.int64)
    for x, t in [
        (np.array([-1, 127]), np.int8),
        (np.array([-129, 5]), np.int16),
        (np.array([0, 2**31 - 1]), np.int32),
        (np.array([big.min, big.max]), np.int64),
        (np.array([], dtype=np.int64), np.int64),
    ]:
        y = narrow(x)
        assert y.dtype == t and np.array_equal(y.astype(np.int64), x)
    a = distinct_combos(_prepare_grid(GRID, market).arrays)[0]
    picked = share_of(a, np.arange(1, a.combos.shape[0], 2))
    rows = picked.rows * 1000  # row numbers beyond int16
    share = Share(picked.arrays, rows)
    blob = pickle.dumps(share, protocol=5)
    back = pickle.loads(blob)
    assert back.rows.dtype == np.int64 and np.array_equal(back.rows, rows)
    for f in ("combos", "starts", "weights"):
        x, y = getattr(share.arrays, f), getattr(back.arrays, f)
        assert y.dtype == np.int64 and np.array_equal(x, y), f
    # the combos' codes are small: they travel in a byte or two, not eight
    assert len(blob) < share.nbytes - share.arrays.combos.nbytes // 2


def test_statistics_reach_the_caller_before_the_pbo(market: MarketData) -> None:
    # evaluate hands every combo's statistics to on_stats once (on a Dask cluster while
    # the workers still run the CSCV passes): the same array it returns
    from distributed import LocalCluster

    from liqflow.backtest._dispatch import evaluate
    from liqflow.backtest._shared import block_edges
    from liqflow.backtest.sweep import _prepare_grid

    prep = _prepare_grid(GRID, market)
    edges = block_edges(prep.start, prep.stop, GRID.n_blocks)
    seen: list[np.ndarray] = []
    ev = evaluate(prep.arrays, prep.start, prep.stop, edges, cscv=True, on_stats=seen.append)
    assert len(seen) == 1 and np.array_equal(seen[0], ev.stats, equal_nan=True)
    with LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        far = evaluate(
            prep.arrays,
            prep.start,
            prep.stop,
            edges,
            scheduler=cluster.scheduler_address,
            cscv=True,
            on_stats=seen.append,
        )
    assert len(seen) == 2 and np.array_equal(seen[1], ev.stats, equal_nan=True)
    assert far.pbo is not None and ev.pbo is not None
    np.testing.assert_array_equal(far.pbo.logits, ev.pbo.logits)


def test_share_results_travel_small_and_exact(market: MarketData) -> None:
    # what the client receives from a worker: the rows as runs, the whole-number
    # statistics narrowed; the same rows and statistics bit for bit
    import pickle

    from liqflow.backtest._dask import ShareResult, pack_rows, share_rows, unpack_rows
    from liqflow.backtest._dispatch import distinct_combos
    from liqflow.backtest._kernels import sweep_stats
    from liqflow.backtest._shared import block_edges
    from liqflow.backtest.sweep import _prepare_grid

    rng = np.random.default_rng(3)
    for rows in (
        share_rows(10_000, 3, 256, 1),
        np.sort(rng.choice(10**6, 500, replace=False)),
        np.array([7]),
        np.array([], dtype=np.int64),
    ):
        back = unpack_rows(pack_rows(rows))
        assert back.dtype == np.int64 and np.array_equal(back, rows)
    a = distinct_combos(_prepare_grid(GRID, market).arrays)[0]
    st, _, _ = sweep_stats(
        a.last_event,
        a.stage,
        a.rets,
        a.combos,
        a.cost,
        a.starts,
        100,
        900,
        block_edges(100, 900, 4),
    )
    st[3, 1] = -0.0  # signs and odd values survive
    rows = np.arange(st.shape[0]) * 3
    blob = pickle.dumps(ShareResult(rows, st), protocol=5)
    got = pickle.loads(blob)
    assert np.array_equal(got.rows, rows) and got.trials is None
    assert got.stats.dtype == st.dtype and np.array_equal(
        got.stats.view(np.int64), st.view(np.int64)
    )
    assert len(blob) < st.nbytes * 0.75
