"""The flags of the default stage rules, one group per link of the chain, with their
thresholds from the signal configuration (:func:`liqflow.signals.compute.default_flags`)."""

from __future__ import annotations

from liqflow.signals.breakout import BreakoutConfig
from liqflow.signals.credit import CreditConfig
from liqflow.signals.crypto import CryptoConfig
from liqflow.signals.equities import RelativeStrengthConfig, TrendConfig
from liqflow.signals.fiscal import FiscalConfig
from liqflow.signals.liquidity import LiquidityConfig
from liqflow.signals.market_structure import MarketStructureConfig
from liqflow.signals.regime import FlagSpec


def _liquidity_flags(lq: LiquidityConfig) -> tuple[FlagSpec, ...]:
    return (
        FlagSpec(
            "liquidity.net_liquidity_rising",
            f"liquidity.net_liquidity_chg_{lq.long_weeks}w",
            ">",
            0.0,
            f"net liquidity (Fed assets - TGA - RRP) up over {lq.long_weeks} weeks, USD mn",
        ),
        FlagSpec(
            "liquidity.fed_bills_rising",
            f"liquidity.fed_bills_chg_{lq.long_weeks}w",
            ">",
            0.0,
            f"Fed T-bill holdings up over {lq.long_weeks} weeks (bill purchases), USD mn",
        ),
        FlagSpec(
            "liquidity.tga_drawdown",
            f"liquidity.tga_chg_{lq.short_weeks}w",
            "<",
            0.0,
            f"Treasury General Account drawn down over {lq.short_weeks} weeks, USD mn",
        ),
    )


def _credit_flags(cr: CreditConfig) -> tuple[FlagSpec, ...]:
    w = cr.change_weeks
    return (
        FlagSpec(
            "credit.hy_narrowing",
            f"credit.spread_chg_{w}w",
            "<",
            cr.narrowing_below,
            f"HY OAS (BAA10Y where HY is missing) narrowing over {w} weeks, pp",
        ),
        FlagSpec(
            "credit.ig_narrowing",
            f"credit.ig_chg_{w}w",
            "<",
            cr.narrowing_below,
            f"IG OAS narrowing over {w} weeks, pp",
        ),
    )


def _equity_flags(
    lc: TrendConfig, sc: TrendConfig, bo: BreakoutConfig, rs: RelativeStrengthConfig
) -> tuple[FlagSpec, ...]:
    return (
        FlagSpec(
            "large_caps.above_ma",
            "large_caps.pct_above_ma",
            ">",
            lc.above_ma_threshold,
            f"S&P 500 above its {lc.ma_window}-session average (close/avg - 1)",
        ),
        FlagSpec(
            "large_caps.momentum",
            "large_caps.momentum",
            ">",
            lc.momentum_threshold,
            f"S&P 500 return over {lc.momentum_window} sessions",
        ),
        FlagSpec(
            "small_caps.breakout_live",
            "small_caps.breakout_live",
            ">=",
            1.0,
            f"Russell 2000 all-time-high breakout live (new high within {bo.live_days} "
            "sessions, latest event not failed)",
            display="small_caps.breakout_state",
        ),
        FlagSpec(
            "small_caps.breakout_volume",
            "small_caps.live_volume_ratio",
            ">=",
            bo.volume_threshold,
            f"live breakout's volume: {bo.volume_window}-session mean / prior "
            f"{bo.volume_average}-session mean",
        ),
        FlagSpec(
            "small_caps.breakout_breadth",
            "small_caps.live_breadth",
            ">=",
            bo.breadth_threshold,
            f"live breakout's breadth: share of segments at {bo.high_window}-session highs",
        ),
        FlagSpec(
            "small_caps.rs_rising",
            "small_caps.ratio_momentum",
            ">",
            0.0,
            f"Russell 2000 / S&P 500 ratio up over {rs.momentum_window} sessions",
        ),
        FlagSpec(
            "small_caps.above_ma",
            "small_caps.pct_above_ma",
            ">",
            sc.above_ma_threshold,
            f"Russell 2000 above its {sc.ma_window}-session average",
        ),
    )


def _crypto_flags(cy: CryptoConfig) -> tuple[FlagSpec, ...]:
    return (
        FlagSpec(
            "crypto.btc_above_ma",
            "crypto.btc_pct_above_ma",
            ">",
            0.0,
            f"BTC above its {cy.trend_window}-day average",
        ),
        FlagSpec(
            "crypto.alts_outperform",
            "crypto.alt_rs",
            ">",
            0.0,
            f"equal-weight alt basket beats BTC over {cy.rs_window} days (return difference)",
        ),
        FlagSpec(
            "crypto.alt_season",
            "crypto.season_index",
            ">=",
            cy.alt_season,
            f"Altcoin Season Index: % of alts beating BTC over {cy.season_window} days",
            display="crypto.season_index",
        ),
        FlagSpec(
            "crypto.dominance_falling",
            "crypto.btc_dominance_chg",
            "<",
            0.0,
            f"BTC dominance change over {cy.dominance_window} days",
        ),
        FlagSpec(
            "crypto.beaten_outperform",
            "crypto.beaten_rs",
            ">",
            0.0,
            f"alts >= {cy.beaten_drawdown:.0%} below their high beat BTC over "
            f"{cy.beaten_window} days",
        ),
    )


def _fiscal_flags(fc: FiscalConfig) -> tuple[FlagSpec, ...]:
    return (
        FlagSpec(
            "fiscal.net_liquidity_daily_rising",
            f"fiscal.net_liquidity_daily_chg_{fc.long_days}d",
            ">",
            0.0,
            f"daily net liquidity (Fed assets - DTS TGA - RRP) up over {fc.long_days} days, USD mn",
        ),
        FlagSpec(
            "fiscal.tga_daily_drawdown",
            f"fiscal.tga_daily_chg_{fc.long_days}d",
            "<",
            0.0,
            f"Treasury cash (DTS TGA) drawn down over {fc.long_days} days, USD mn "
            f"({fc.short_days}-day change beside it)",
        ),
        FlagSpec(
            "fiscal.tax_refunds_above_prior",
            "fiscal.tax_refunds_vs_prior",
            ">",
            0.0,
            f"individual tax refunds over {fc.refund_days} days above the same days of the "
            f"previous {fc.refund_years} years (ratio - 1)",
        ),
        FlagSpec(
            "fiscal.mbs_rising",
            f"fiscal.fed_mbs_chg_{fc.weeks}w",
            ">",
            0.0,
            f"Fed MBS holdings up over {fc.weeks} weeks (MBS purchases), USD mn",
        ),
        FlagSpec(
            "fiscal.mortgage_rate_falling",
            f"fiscal.mortgage_rate_chg_{fc.weeks}w",
            "<",
            0.0,
            f"30-year mortgage rate down over {fc.weeks} weeks, pp",
        ),
    )


def _market_flags(mc: MarketStructureConfig) -> tuple[FlagSpec, ...]:
    return (
        FlagSpec(
            "market.etf_absorbing_supply",
            f"market.etf_supply_multiple_{mc.long_days}d",
            ">",
            1.0,
            f"spot-ETF net buying over {mc.long_days} days, as a multiple of the BTC mined",
        ),
        FlagSpec(
            "market.funding_below_median",
            "market.funding_pct",
            "<",
            0.5,
            f"perpetual funding ({mc.funding_days}-day mean) percentile in the trailing "
            f"{mc.percentile_days} days: leverage lower than usual",
        ),
        FlagSpec(
            "market.cme_lev_net_rising",
            "market.cme_lev_net_chg",
            ">",
            0.0,
            f"CME Bitcoin leveraged funds' net position (contracts) up over {mc.cot_weeks} "
            "weeks (a shrinking net short: less basis-trade leverage)",
        ),
    )
