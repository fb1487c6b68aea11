"""Command-line options shared by the entry scripts: seed ranges and GP sampler options."""

from __future__ import annotations

import argparse
import json
from typing import Any

# What a benchmark may vary: the documented options of parabo's GPSampler (its docstring), and
# nothing else. An unknown name is refused instead of being set as an attribute.
GP_OPTIONS = (
    "acquisition",
    "pending",
    "n_startup",
    "failed",
    "ucb_beta",
    "warp",
    "refit_every",
    "fit_max_points",
    "max_points",
    "n_candidates",
    "n_starts",
    "pending_cap",
    "busy_max_points",
    "trust_region",
    "trust_region_share",
    "incumbent",
)


def seed_range(text: str) -> range:
    """``FIRST-LAST`` (inclusive) or a single seed, as a range (an argparse ``type=``)."""
    try:
        first, _, last = text.partition("-")
        seeds = range(int(first), int(last or first) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIRST-LAST such as 0-9, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"LAST must be >= FIRST, got {text!r}")
    return seeds


def int_list(text: str) -> list[int]:
    """A comma-separated list of positive integers such as ``1,4,16`` (an argparse ``type=``)."""
    try:
        values = [int(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers such as 1,4,16, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def gp_option(text: str) -> tuple[str, Any]:
    """``NAME=JSON`` for one documented GPSampler option, e.g. ``pending="lp"`` (an argparse ``type=``)."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f'expected NAME=VALUE such as pending="lp", got {text!r}')
    if name not in GP_OPTIONS:
        raise argparse.ArgumentTypeError(
            f"{name!r} is not a documented GPSampler option; choose from {', '.join(GP_OPTIONS)}"
        )
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value  # a bare string such as pending=lp


def add_gp_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--gp-option NAME=VALUE`` (repeatable) to a parser."""
    parser.add_argument(
        "--gp-option",
        type=gp_option,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a documented GPSampler option for parabo's runs, e.g. pending=lp (repeatable)",
    )
