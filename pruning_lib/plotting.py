"""One plotting style for the suite: a seaborn theme, one colour and label per method, atomic PNG saving."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns

from .files import atomic_write

_PALETTE = sns.color_palette("colorblind")

# One distinct colour per method, from the colour-blind-safe palette (Okabe-Ito / seaborn "colorblind"), with
# a method's variants in shades of one hue: one-shot magnitude blues, Han's magnitude-and-retrain greens, neuron
# removal (the structured family) indigos. The figures add a marker per method, so no reader depends on
# colour alone.
METHOD_COLORS = {
    "dense": "#333333",
    "random": _PALETTE[7],  # grey
    "magnitude_global": _PALETTE[0],  # blue
    "magnitude_layerwise": _PALETTE[9],  # sky blue
    "han": _PALETTE[2],  # bluish green
    "han_rebuilt": "#00513a",  # dark green
    "gradual": "#a39a00",  # olive (the palette's yellow, darkened to read on white)
    "gumbel": _PALETTE[3],  # vermilion
    "thresholds": _PALETTE[4],  # reddish purple
    "relief": "#e69f00",  # orange (Okabe-Ito's, yellower than the vermilion)
    "neurons": "#332288",  # indigo
    "neurons_ft": "#8877cc",  # light indigo
    # the neuron-pruning paper's own colours: blue brute force, green 1st order, red 2nd order
    "bf": "#1f4fd8",
    "taylor1": "#2a9d3a",
    "taylor2": "#d62728",
}
METHOD_MARKERS = {
    "dense": "",
    "random": "x",
    "magnitude_global": "o",
    "magnitude_layerwise": "h",
    "han": "s",
    "han_rebuilt": "*",
    "gradual": "D",
    "gumbel": "v",
    "thresholds": "^",
    "relief": "P",
    "neurons": "X",
    "neurons_ft": "X",
}
METHOD_LABELS = {
    "dense": "dense",
    "random": "random",
    "magnitude_global": "global magnitude",
    "magnitude_layerwise": "layerwise magnitude",
    "han": "Han et al. (iterative)",
    "gumbel": "Gumbel gates",
    "thresholds": "differentiable thresholds",
    "relief": "NNrelief",
    "neurons": "neuron removal (BF)",
    "neurons_ft": "neuron removal (BF) + fine-tune",
    "gradual": "gradual magnitude (Zhu & Gupta)",
    "han_rebuilt": "Han et al. (rebuilt)",
    "bf": "Brute Force",
    "taylor1": "1st Order / Skeletonization",
    "taylor2": "2nd Order Taylor Approx",
}


def set_style() -> None:
    """The suite's matplotlib/seaborn style (white grid, colour-blind palette, readable sizes)."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titlesize": 12,
            "legend.fontsize": 9,
            "legend.framealpha": 0.9,
        }
    )


def color(method: str):
    """The colour of a method (the same in every figure of the suite)."""
    return METHOD_COLORS[method]


def marker(method: str) -> str:
    """The marker of a method in line plots ("o" for a method without one)."""
    return METHOD_MARKERS.get(method, "o")


def label(method: str) -> str:
    """The legend label of a method."""
    return METHOD_LABELS.get(method, method)


def save_figure(fig, path: Path) -> Path:
    """Save `fig` as PNG through a temporary file and a rename; returns the path."""
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)


def compression_axis(ax, axis: str = "x") -> None:
    """A log2 axis whose ticks read 2x, 4x, 8x, ... (for compression ratios)."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log", base=2)
    target.set_major_locator(LogLocator(base=2))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))


def percent_log_axis(ax, axis: str = "y") -> None:
    """A log10 axis whose ticks read as plain percentages (0.1%, 1%, 10%, ...) with unlabelled minor ticks."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    target.set_minor_formatter(NullFormatter())
