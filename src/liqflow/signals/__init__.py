"""Signals of each link of the chain and the four-stage classifier.

Pure functions over the series contract (see ``docs/design.md``): they never mutate their
inputs and the value on day *t* uses only data up to *t*. One module per idea:

* :mod:`~liqflow.signals.liquidity`: net liquidity, Fed bills, TGA drawdown;
* :mod:`~liqflow.signals.credit`: HY/IG spreads, causal percentile, narrowing;
* :mod:`~liqflow.signals.equities`: trend, momentum, small/large relative strength;
* :mod:`~liqflow.signals.breakout`: Russell 2000 all-time-high breakouts;
* :mod:`~liqflow.signals.crypto`: BTC trend, alt basket, Altcoin Season Index, dominance;
* :mod:`~liqflow.signals.traits`: supercycle traits and leverage;
* :mod:`~liqflow.signals.regime`: the stages and their timeline;
* :mod:`~liqflow.signals.compute`: everything from one panel (:func:`compute_signals`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from liqflow._lazy import lazy_exports

if TYPE_CHECKING:
    from liqflow.signals.baskets import AltBasket
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
    from liqflow.signals.fiscal import FiscalConfig, FiscalSignals, fiscal_signals
    from liqflow.signals.liquidity import (
        LiquidityConfig,
        LiquiditySignals,
        liquidity_signals,
        net_liquidity,
    )
    from liqflow.signals.market_structure import (
        MarketStructureConfig,
        MarketStructureSignals,
        market_structure_signals,
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
    from liqflow.signals.survivorship import SurvivorshipBias, survivorship_bias
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
    "FiscalConfig",
    "FiscalSignals",
    "FlagSpec",
    "LiquidityConfig",
    "LiquiditySignals",
    "MarketStructureConfig",
    "MarketStructureSignals",
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
    "fiscal_signals",
    "high_beta",
    "leverage",
    "liquidity_signals",
    "market_structure_signals",
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

#: Where each name is defined (imported on first use: see liqflow._lazy).
_SOURCES = {
    "AltBasket": "baskets",
    "SurvivorshipBias": "survivorship",
    "survivorship_bias": "survivorship",
    "AltUniverse": "crypto",
    "FiscalConfig": "fiscal",
    "FiscalSignals": "fiscal",
    "fiscal_signals": "fiscal",
    "MarketStructureConfig": "market_structure",
    "MarketStructureSignals": "market_structure",
    "market_structure_signals": "market_structure",
    "BreakoutConfig": "breakout",
    "BreakoutEvent": "breakout",
    "BreakoutResult": "breakout",
    "CreditConfig": "credit",
    "CreditSignals": "credit",
    "CryptoConfig": "crypto",
    "CryptoSignals": "crypto",
    "DEFAULT_RULES": "regime",
    "FlagSpec": "regime",
    "LiquidityConfig": "liquidity",
    "LiquiditySignals": "liquidity",
    "RelativeStrengthConfig": "equities",
    "STAGE_NAMES": "regime",
    "SignalConfig": "compute",
    "SignalSet": "compute",
    "StageConfig": "regime",
    "StageRule": "regime",
    "StageStatus": "regime",
    "StageTimeline": "regime",
    "StageTransition": "regime",
    "TraitsConfig": "traits",
    "TraitsSignals": "traits",
    "TrendConfig": "equities",
    "TrendSignals": "equities",
    "alt_basket": "crypto",
    "alt_universe": "crypto",
    "altcoin_season_index": "crypto",
    "beaten_down": "crypto",
    "breadth": "breakout",
    "breakouts": "breakout",
    "btc_dominance": "crypto",
    "compute_signals": "compute",
    "correction_absorption": "traits",
    "credit_signals": "credit",
    "crypto_signals": "crypto",
    "default_flags": "compute",
    "evaluate_flags": "regime",
    "high_beta": "traits",
    "leverage": "traits",
    "liquidity_signals": "liquidity",
    "net_liquidity": "liquidity",
    "relative_strength": "equities",
    "rotation": "traits",
    "spread_signals": "credit",
    "stage_timeline": "regime",
    "traits_signals": "traits",
    "trend_signals": "equities",
    "volume_ratio": "breakout",
}
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())
