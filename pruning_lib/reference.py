"""Published numbers as data, each with its citation (Han et al. 2015 and the papers' own claims)."""

from __future__ import annotations

import pandas as pd

HAN2015 = (
    "Song Han, Jeff Pool, John Tran, William J. Dally. Learning both Weights and Connections for "
    "Efficient Neural Networks. NeurIPS 2015. arXiv:1506.02626"
)

# Table 1: all parameters; errors are top-1 test error in %.
HAN_TABLE1 = [
    {
        "network": "LeNet-300-100",
        "error_ref_pct": 1.64,
        "error_pruned_pct": 1.59,
        "params": "267K",
        "params_pruned": "22K",
        "compression": 12,
    },
    {
        "network": "LeNet-5",
        "error_ref_pct": 0.80,
        "error_pruned_pct": 0.77,
        "params": "431K",
        "params_pruned": "36K",
        "compression": 12,
    },
    {
        "network": "AlexNet",
        "error_ref_pct": 42.78,
        "error_pruned_pct": 42.77,
        "params": "61M",
        "params_pruned": "6.7M",
        "compression": 9,
    },
    {
        "network": "VGG-16",
        "error_ref_pct": 31.50,
        "error_pruned_pct": 31.34,
        "params": "138M",
        "params_pruned": "10.3M",
        "compression": 13,
    },
]

# Tables 2 and 3: per layer, weights only. Percentages as published (rounded to whole percent).
HAN_TABLE2 = [  # LeNet-300-100
    {"layer": "fc1", "weights": "235K", "flop": "470K", "act_pct": 38, "weights_left_pct": 8, "flop_pct": 8},
    {"layer": "fc2", "weights": "30K", "flop": "60K", "act_pct": 65, "weights_left_pct": 9, "flop_pct": 4},
    {"layer": "fc3", "weights": "1K", "flop": "2K", "act_pct": 100, "weights_left_pct": 26, "flop_pct": 17},
    {
        "layer": "total",
        "weights": "266K",
        "flop": "532K",
        "act_pct": 46,
        "weights_left_pct": 8,
        "flop_pct": 8,
    },
]
HAN_TABLE3 = [  # LeNet-5
    {
        "layer": "conv1",
        "weights": "0.5K",
        "flop": "576K",
        "act_pct": 82,
        "weights_left_pct": 66,
        "flop_pct": 66,
    },
    {
        "layer": "conv2",
        "weights": "25K",
        "flop": "3200K",
        "act_pct": 72,
        "weights_left_pct": 12,
        "flop_pct": 10,
    },
    {"layer": "fc1", "weights": "400K", "flop": "800K", "act_pct": 55, "weights_left_pct": 8, "flop_pct": 6},
    {"layer": "fc2", "weights": "5K", "flop": "10K", "act_pct": 100, "weights_left_pct": 19, "flop_pct": 10},
    {
        "layer": "total",
        "weights": "431K",
        "flop": "4586K",
        "act_pct": 77,
        "weights_left_pct": 8,
        "flop_pct": 16,
    },
]
HAN_LAYER_TABLES = {"lenet300": HAN_TABLE2, "lenet5": HAN_TABLE3}


def han_table(number: int) -> pd.DataFrame:
    """Han et al. 2015 Table 1, 2 or 3 as a DataFrame (the citation is in `.attrs['source']`)."""
    rows = {1: HAN_TABLE1, 2: HAN_TABLE2, 3: HAN_TABLE3}[number]
    df = pd.DataFrame(rows)
    df.attrs["source"] = f"{HAN2015}, Table {number}"
    return df


def han_layer_keep(model: str) -> dict[str, float]:
    """Han's published per-layer fraction of weights left ('lenet300' or 'lenet5'), without the total row."""
    return {r["layer"]: r["weights_left_pct"] / 100 for r in HAN_LAYER_TABLES[model] if r["layer"] != "total"}


def han_rebuilt_count(model: str, layer_sizes: dict[str, int]) -> int:
    """Weights left if each layer keeps Han's published percentage (LeNet-300-100: 21,776; LeNet-5: 36,280)."""
    keep = han_layer_keep(model)
    return round(sum(keep[name] * n for name, n in layer_sizes.items()))


# --- Zhang, Tao, Zhang 2023: Gumbel-softmax pruning (notebook 01; filled in by the gumbel issue) -------------

ZHANG2023 = (
    "Zhang Zhang, Ruyi Tao, Jiang Zhang. Neural Network Pruning by Gradient Descent. arXiv:2311.12526 "
    "(2023); code: github.com/3riccc/neural_pruning"
)
ZHANG2023_CLAIMS = {
    "mnist_params_pct": 0.15,  # abstract: "high accuracy" with 0.15% of the parameters; no accuracy number
    "mnist_kept_max": 399,  # 0.15% of LeNet-300-100's 266,200 gated weights, rounded down (our reading of the abstract)
    "toy_density_last": 0.1125,  # authors' tutorial notebook, committed output: last logged D_hat = 18/160
    "toy_edges": 18,  # edges of the authors' drawn toy graph: 10 in {x1,x2}->y1, 8 in {x3,x4}->y2
}


# --- Manessi et al. 2018: differentiable thresholds (notebook 02; filled in by the thresholds issue) ---------

MANESSI2018 = (
    "Franco Manessi, Alessandro Rozza, Simone Bianco, Paolo Napoletano, Raimondo Schettini. Automated "
    "Pruning for Deep Neural Network Compression. ICPR 2018. arXiv:1712.01721"
)
MANESSI2018_CLAIMS = {"fewer_weights_than_han_pct": (14, 33)}


# --- Dekhovich et al. 2024: NNrelief (notebook 03; filled in by the relief issue) ----------------------------

DEKHOVICH2024 = (
    "Aleksandr Dekhovich, David M. J. Tax, Marco H. F. Sluiter, Miguel A. Bessa. Neural network "
    "relief: a pruning algorithm based on neural activity. Machine Learning 113(5):2597-2618, 2024. "
    "arXiv:2109.10795; code: github.com/adekhovich/NNrelief"
)
# The paper's LeNet and CIFAR tables are not available to this project; its abstract claims
# LeNet results "comparable to the state of the art". The project's targets are therefore set at Dynamic Network
# Surgery's published LeNet results (all parameters remaining), tightened to the paper profile.
GUO2016 = (
    "Yiwen Guo, Anbang Yao, Yurong Chen. Dynamic Network Surgery for Efficient DNNs. NeurIPS 2016. "
    "arXiv:1608.04493"
)
DNS2016_REMAINING_PCT = {"lenet300": 1.8, "lenet5": 0.9}  # of all parameters (56x and 108x compression)
DEKHOVICH2024_SETTINGS = {  # from the authors' code (commit 13a3f84): alphas, iterations, pruning-set size
    "alpha": {
        "lenet300": {"fc": 0.95},
        "lenet5": {"conv": 0.9, "fc": 0.95},
        "vgg_like": {"conv": 0.95, "fc": 0.95},
        "resnet20": {"conv": 0.95, "fc": 0.99},
    },
    "iterations": {"lenet": 20, "vgg_like": 6, "resnet20": 10},
    "n_prune": 1000,
}
RELIEF_TARGETS = {  # project targets [derived]: (max remaining % of all parameters, max test-accuracy drop in pp)
    "quick": {"lenet300": (4.0, 0.5), "lenet5": (3.0, 0.5)},
    "paper": {"lenet300": (2.0, 0.3), "lenet5": (1.0, 0.3)},
}


# --- Wolfe, Sharma, Drude, Raj 2017: neuron removal (notebook 04; filled in by the neurons issue) ------------

WOLFE2017 = (
    "Nikolas Wolfe, Aditya Sharma, Lukas Drude, Bhiksha Raj. The Incredible Shrinking Neural Network: "
    "New Perspectives on Learning Representations Through The Lens of Pruning. arXiv:1701.04465 (2017)"
)
WOLFE2017_CLAIMS = {
    "removable_neurons_pct": (40, 70),  # serial brute force removes 40-70% of the neurons with little effect
    "taylor_removable_pct": (10, 30),  # the Taylor criteria usually survive only 10-30% removal
    "mnist_100_almost_pct": 60,  # "almost 60%" of 784-100-10's neurons (text)
    "mnist_50x50_up_to_pct": 40,  # "up to 40%" of 784-50-50-10's neurons (text)
}
# Neurons removed before the curve degrades, read off the paper's v1 figures (Sec. 5, Figs. 3-9; Alg. II unless
# "single"). sse5: first point where SSE exceeds its start by 5% of (final - start); acc1 / acc5: first point where
# accuracy is more than 1 / 5 points below the start. None: not given (cosine nets have no accuracy curve). The
# Taylor columns come from the authors' code (github.com/nikwolfe7/neural-network), not from the paper's equations.
WOLFE2017_TABLE = [
    {
        "net": "cos_10x10",
        "schedule": "rerank",
        "K": 20,
        "bf": (11, None, None),
        "taylor1": (1, None, None),
        "taylor2": (3, None, None),
    },
    {
        "net": "cos_50x50",
        "schedule": "rerank",
        "K": 100,
        "bf": (94, None, None),
        "taylor1": (36, None, None),
        "taylor2": (11, None, None),
    },
    {
        "net": "mnist_100",
        "schedule": "single",
        "K": 100,
        "bf": (25, 12, 26),
        "taylor1": (9, 2, 11),
        "taylor2": (13, 1, 13),
    },
    {
        "net": "mnist_100",
        "schedule": "rerank",
        "K": 100,
        "bf": (55, 35, 63),
        "taylor1": (9, 4, 10),
        "taylor2": (16, 4, 20),
    },
    {
        "net": "mnist_50x50",
        "schedule": "single",
        "K": 100,
        "bf": (11, 9, 16),
        "taylor1": (3, 1, 3),
        "taylor2": (4, 1, 4),
    },
    {
        "net": "mnist_50x50",
        "schedule": "rerank",
        "K": 100,
        "bf": (35, 26, 43),
        "taylor1": (10, 3, 11),
        "taylor2": (6, 3, 6),
    },
    {
        "net": "diamond",
        "schedule": "rerank",
        "K": 100,
        "bf": (61, 53, 61),
        "taylor1": (0, 0, 0),
        "taylor2": (48, 48, 48),
    },
    {
        "net": "rshape",
        "schedule": "rerank",
        "K": 100,
        "bf": (42, 38, 45),
        "taylor1": (3, 2, 4),
        "taylor2": (33, 33, 36),
    },
]
# Unpruned test accuracy as published (MNIST 10-class on the authors' 500 test images; one-vs-all on 10k).
WOLFE2017_TEST_ACC = {
    "mnist_100": 0.998,
    "mnist_50x50": 1.000,
    "diamond": 0.992,
    "rshape": 0.986,
    "digit0": 0.9757,
    "digit1": 0.9881,
    "digit2": 0.9513,
}


def wolfe_table() -> pd.DataFrame:
    """The paper's summary (neurons removed before SSE-5% / accuracy -1 / -5 points) as a long DataFrame."""
    rows = []
    for r in WOLFE2017_TABLE:
        for crit in ("bf", "taylor1", "taylor2"):
            sse5, acc1, acc5 = r[crit]
            rows.append(
                {
                    "net": r["net"],
                    "schedule": r["schedule"],
                    "criterion": crit,
                    "K": r["K"],
                    "n_sse5": sse5,
                    "n_1pp": acc1,
                    "n_5pp": acc5,
                }
            )
    df = pd.DataFrame(rows)
    df.attrs["source"] = f"{WOLFE2017}, v1 figures (values read off the plots)"
    return df
