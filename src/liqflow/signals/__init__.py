"""Signals of each link of the chain and the four-stage classifier.

Pure functions over the series contract (see ``DESIGN.md``): they never mutate their
inputs and the value on day *t* uses only data up to *t*. One module per idea:

* :mod:`~liqflow.signals.liquidity`: net liquidity, Fed bills, TGA drawdown;
* :mod:`~liqflow.signals.credit`: HY/IG spreads, causal percentile, narrowing;
* :mod:`~liqflow.signals.equities`: trend, momentum, small/large relative strength;
* :mod:`~liqflow.signals.breakout`: Russell 2000 all-time-high breakouts;
* :mod:`~liqflow.signals.baskets`: THE alt basket, season index and beaten-down alts on a
  point-in-time universe, with coverage, and the survivorship bias measured;
* :mod:`~liqflow.signals.crypto`: BTC trend, alt basket, Altcoin Season Index, dominance;
* :mod:`~liqflow.signals.traits`: supercycle traits and leverage;
* :mod:`~liqflow.signals.regime`: the stages and their timeline;
* :mod:`~liqflow.signals.compute`: everything from one panel (:func:`compute_signals`).
"""

from liqflow.signals.baskets import AltBasket, SurvivorshipBias, survivorship_bias
from liqflow.signals.breakout import (
    BreakoutConfig,
    BreakoutEvent,
    BreakoutResult,
    breadth,
    breakouts,
    volume_ratio,
)
from liqflow.signals.compute import SignalConfig, SignalSet, compute_signals, default_flags
from liqflow.signals.credit import CreditConfig, CreditSignals, credit_signals, spread_signals
from liqflow.signals.crypto import (
    AltUniverse,
    CryptoConfig,
    CryptoSignals,
    alt_basket,
    alt_universe,
    altcoin_season_index,
    beaten_down,
    btc_dominance,
    crypto_signals,
)
from liqflow.signals.equities import (
    RelativeStrengthConfig,
    TrendConfig,
    TrendSignals,
    relative_strength,
    trend_signals,
)
from liqflow.signals.liquidity import (
    LiquidityConfig,
    LiquiditySignals,
    liquidity_signals,
    net_liquidity,
)
from liqflow.signals.regime import (
    DEFAULT_RULES,
    STAGE_NAMES,
    FlagSpec,
    StageConfig,
    StageRule,
    StageStatus,
    StageTimeline,
    StageTransition,
    evaluate_flags,
    stage_timeline,
)
from liqflow.signals.traits import (
    TraitsConfig,
    TraitsSignals,
    correction_absorption,
    high_beta,
    leverage,
    rotation,
    traits_signals,
)

__all__ = [
    "DEFAULT_RULES",
    "STAGE_NAMES",
    "AltBasket",
    "AltUniverse",
    "BreakoutConfig",
    "BreakoutEvent",
    "BreakoutResult",
    "CreditConfig",
    "CreditSignals",
    "CryptoConfig",
    "CryptoSignals",
    "FlagSpec",
    "LiquidityConfig",
    "LiquiditySignals",
    "RelativeStrengthConfig",
    "SignalConfig",
    "SignalSet",
    "StageConfig",
    "StageRule",
    "StageStatus",
    "StageTimeline",
    "StageTransition",
    "SurvivorshipBias",
    "TraitsConfig",
    "TraitsSignals",
    "TrendConfig",
    "TrendSignals",
    "alt_basket",
    "alt_universe",
    "altcoin_season_index",
    "beaten_down",
    "breadth",
    "breakouts",
    "btc_dominance",
    "compute_signals",
    "correction_absorption",
    "credit_signals",
    "crypto_signals",
    "default_flags",
    "evaluate_flags",
    "high_beta",
    "leverage",
    "liquidity_signals",
    "net_liquidity",
    "relative_strength",
    "rotation",
    "spread_signals",
    "stage_timeline",
    "survivorship_bias",
    "traits_signals",
    "trend_signals",
    "volume_ratio",
]
