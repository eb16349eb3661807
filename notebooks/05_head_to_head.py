# %% [markdown] tags=[]
# # 05 · Head to head: four pruning papers and the baselines on equal terms
#
# None of the four papers in this suite compares itself with the other three. This notebook does, on the same
# networks (LeNet-300-100 and LeNet-5), the same dense reference models, the same MNIST split (55,000 training,
# 5,000 validation, 10,000 test images) and the same seeds. Each method turns its own knob to trace a trade-off
# curve from about 2× to 512× compression:
#
# | method | notebook | knob | starts from |
# |---|---|---|---|
# | Gumbel-softmax gates (Zhang et al. 2023) | 01 | λ, the weight of the density penalty | scratch: the method learns weights and topology together |
# | differentiable thresholds (Manessi et al. 2018) | 02 | λ, the weight of the pruning regularizer | the dense reference |
# | NNrelief (Dekhovich et al. 2024) | 03 | iterations of prune + retrain (α fixed at the authors' values) | the dense reference |
# | brute-force neuron removal (Wolfe et al. 2017) | 04 | fraction of hidden neurons removed; without and with a short fine-tune | the dense reference |
# | Han et al. 2015, iterative magnitude | 00 | iterations, each halving the weights | the dense reference |
# | one-shot global magnitude, random | 00 | target compression, no retraining | the dense reference |
#
# Every number below is computed the same way for every method (`pl.compare.measure`): weights and parameters
# left, compression (total / nonzero), FLOPs, validation and test accuracy. Then we ask what the compression
# buys on a CPU (measured latency), what each method costs to run, and which method is best at a given budget
# of weights. Run it after notebooks 00-04 (`make reproduce` does): it reuses their cached dense models and, where
# the settings are the same, their cached pruned models.

# %% tags=["parameters"]
import os

profile = os.environ.get("PRUNING_PROFILE", "quick")  # smoke | quick | paper
seed = 0  # first seed; the profile's seed count runs upward from here
device = "auto"  # training device; latencies are always measured on the CPU

# %% tags=["injected-parameters", "nbval-skip"]
# Parameters
profile = "quick"


# %% tags=[]
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import pruning_lib as pl


def powers_of_two(top):
    """2, 4, ..., top: the compressions Han et al.'s iterations reach, one halving each."""
    return [2**k for k in range(1, round(math.log2(top)) + 1)]


NETS = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5"}
# Per profile: seeds, and per network the plan of every registered method: its knob values, its training
# budget in epochs after the dense model (epochs may be fractional) and any setting of the method's dataclass.
PROFILES = {
    "smoke": dict(
        seeds={"lenet300": 1, "lenet5": 1},
        plan={net: {
            "magnitude_global": dict(values=[2, 8, 32, 128]), "random": dict(values=[2, 8, 32, 128]),
            "han": dict(values=powers_of_two(32), budget=0.25),
            "thresholds": dict(values=[2.0], budget=(1, 1)),
            "relief": dict(values=[1, 2], budget=0.5, milestone_fractions=()),
            "neurons": dict(values=f, n_score=500), "neurons_ft": dict(values=f, budget=0.25, n_score=500),
            "gumbel": dict(values=[10.0], budget=1),
        } for net, f in (("lenet300", [0.25, 0.5]), ("lenet5", [0.5, 0.9]))},
        latency_at=[8], latency_time=0.02, latency_rounds=1, budgets_pct=[10, 5, 2, 1, 0.15],
    ),
    "quick": dict(
        seeds={"lenet300": 2, "lenet5": 1},
        plan={
            "lenet300": {
                "magnitude_global": dict(values=powers_of_two(512)), "random": dict(values=powers_of_two(512)),
                "han": dict(values=powers_of_two(512), budget=1),
                "thresholds": dict(values=[1.0, 3.0], budget=(6, 2)),
                "relief": dict(values=range(1, 21), budget=1),
                "neurons": dict(values=[0.25, 0.5, 0.75, 0.9, 0.95], n_score=2000),
                "neurons_ft": dict(values=[0.25, 0.5, 0.75, 0.9, 0.95], budget=1, n_score=2000),
                "gumbel": dict(values=[1.0, 10.0, 100.0], budget=10),
            },
            "lenet5": {
                "magnitude_global": dict(values=powers_of_two(512)), "random": dict(values=powers_of_two(512)),
                "han": dict(values=powers_of_two(512), budget=0.25),
                "thresholds": dict(values=[2.0], budget=(2, 1)),
                "relief": dict(values=range(1, 21), budget=0.5),
                "neurons": dict(values=[0.5, 0.8, 0.9, 0.95, 0.98], n_score=2000),
                "neurons_ft": dict(values=[0.5, 0.8, 0.9, 0.95, 0.98], budget=0.25, n_score=2000),
                "gumbel": dict(values=[1.0, 30.0], budget=2, recipe={"sample_repeats": 1}),
            },
        },
        latency_at=[8, 64], latency_time=0.05, latency_rounds=2, budgets_pct=[10, 5, 2, 1, 0.15],
    ),
    "paper": dict(
        seeds={"lenet300": 3, "lenet5": 3},
        plan={net: {
            "magnitude_global": dict(values=powers_of_two(512)), "random": dict(values=powers_of_two(512)),
            "han": dict(values=powers_of_two(512), budget=han),
            "thresholds": dict(values=[0.5, 1.0, 2.0, 4.0, 8.0], budget=thr),
            "relief": dict(values=range(1, 21), budget=relief),
            "neurons": dict(values=f, n_score=10000), "neurons_ft": dict(values=f, budget=ft, n_score=10000),
            "gumbel": dict(values=[0.3, 1.0, 3.0, 10.0, 30.0, 100.0], budget=gumbel),
        } for net, f, han, thr, relief, ft, gumbel in (
            ("lenet300", [0.25, 0.5, 0.75, 0.9, 0.95], 4, (30, 10), 4, 2, 30),
            ("lenet5", [0.5, 0.8, 0.9, 0.95, 0.98], 2, (15, 5), 2, 1, 15))},
        latency_at=[8, 64], latency_time=0.2, latency_rounds=5, budgets_pct=[10, 5, 2, 1, 0.15],
    ),
}  # fmt: skip
run = pl.setup_run("head_to_head", profile, PROFILES, seed=seed, device=device)
S = run.settings
for net_plan in S["plan"].values():  # the Gumbel runs train from scratch on this profile's data
    net_plan["gumbel"]["profile"] = profile
SEEDS = {net: list(range(seed, seed + n)) for net, n in S["seeds"].items()}
splits = pl.dense.profile_data(profile)
pd.set_option("display.precision", 4)
pd.set_option("display.max_columns", 20)
print("seeds:", SEEDS, "| data:", splits.sizes(), "| methods:", ", ".join(pl.methods.registry.METHODS))


# %% [markdown] tags=[]
# ## 1 · The operating points
#
# For each network and seed, the dense reference comes from `pl.dense.reference_model` (cached), and each
# method registered in `pl.methods.registry.METHODS` runs through one loop, `pl.compare.operating_points`. The schedules are the profile's
# (table above); notebooks 01-04 explain each method. Two methods are special: the **Gumbel gates** train a
# network from scratch, because the method learns weights and topology together (seed 2050 + seed, the authors'
# convention), and **neuron removal** deletes whole hidden units (LeNet-300-100: all 400; LeNet-5: the 500 units of
# fc1, the convolutions untouched), so its compression is bounded by the share of weights those units hold.

# %% tags=[]
def operating_points(net, s):
    """The dense reference and every registered method's points on one network and seed (cached ones load)."""
    dense, info = pl.dense.reference_model(net, profile, s, run.device)
    run.cache_hits[f"dense_{net}_{s}"] = info["cache_hit"]
    pts = pl.compare.operating_points(dense, splits, S["plan"][net], seed=s)
    return dense, info, [pl.compare.dense_point(dense, info), *pts]


rows, models, dense_info = [], {}, {}
for net in NETS:
    for s in SEEDS[net]:
        with run.timed(f"points_{net}_{s}"):
            dense, info, pts = operating_points(net, s)
        dense_info[net, s] = info
        with run.timed(f"measure_{net}_{s}"):
            for p in pts:
                rows.append(pl.compare.measure(p, net, s, splits))
                if s == seed:
                    models[net, p.method, p.value] = p.model
        print(f"{NETS[net]} seed {s}: {len(pts)} points in {run.timings[f'points_{net}_{s}']:.0f} s "
              f"({sum(p.cache_hit for p in pts)} from the cache)")
points = pd.DataFrame(rows)
points.groupby(["network", "method"])["value"].count().unstack(0)

# %% [markdown] tags=[]
# ## 2 · Accuracy against compression
#
# One curve per method: mean test accuracy over the seeds (the band spans the seeds' minimum and maximum) against
# compression of the weights, on a log2 axis. The dashed line is the dense model. Without retraining, the
# one-shot baselines mark the floor; with retraining and more elaborate criteria, the curves move right.

# %% tags=[]
ORDER = pl.plots.head_to_head.ORDER
for net in NETS:
    fig = pl.plots.head_to_head.tradeoff_figure(points, net, NETS[net], len(SEEDS[net]), profile)
    run.save_figure(fig, f"tradeoff_{net}")
    plt.show()

# %% [markdown] tags=[]
# ## 3 · What the compression buys on a CPU
#
# Compression counts weights; a CPU counts time. The **theoretical speedup** is dense FLOPs / effective FLOPs
# (every zero weight skipped for free). To measure real time, each selected pruned model is run three ways
# (`pl.inference`): **dense with zeros** (the pruned model as trained: no faster), **sparse CSR** (each weight
# matrix as a `torch` sparse CSR matrix; convolutions as unfold + sparse product), and **compact** (dead or
# removed units physically cut out, giving smaller dense layers; a unit whose inputs are all pruned emits a
# constant that is folded into the next layer's bias, so the function is unchanged). Each timing is the median of
# repeated timed blocks at batch 1 and batch 256; the dense model is timed in the same interleaved rounds as each
# pruned model (`pl.inference.paired_latency`), so a drift of the machine's speed during the run does not
# masquerade as a speedup (the "dense with zeros" column shows how large the remaining noise is).

# %% tags=[]
cpu = torch.device("cpu")
latency_rows = []
REPS = {"dense with zeros": pl.inference.plain_copy, "sparse CSR": pl.inference.sparse,
        "compact": pl.inference.compact}
with run.timed("latency"):
    for net in NETS:
        df = points[(points["network"] == net) & (points["seed"] == seed)]
        dense_model = models[net, "dense", 1.0].to(cpu).eval()
        for method in ORDER:
            sub = df[df["method"] == method]
            chosen = {sub.iloc[(np.log2(sub["compression_weights"]) - np.log2(t)).abs().argmin()]["value"]
                      for t in S["latency_at"]} if len(sub) else set()
            for value in sorted(chosen):
                model = models[net, method, value].to(cpu).eval()
                row = sub[sub["value"] == value].iloc[0]
                reps = {rep: make(model) for rep, make in REPS.items()}
                for b in (1, 256):  # the dense model is timed in the same interleaved rounds as the pruned ones
                    t = pl.inference.paired_latency({"dense": dense_model, **reps}, b,
                                                    min_run_time=S["latency_time"], rounds=S["latency_rounds"])
                    for rep, m in reps.items():
                        latency_rows.append({"network": net, "method": method, "value": value,
                                             "compression_weights": row["compression_weights"],
                                             "speedup_theoretical": row["speedup_theoretical"],
                                             "representation": rep, "batch": b, "median_s": t[rep],
                                             "dense_s": t["dense"], "speedup_measured": t["dense"] / t[rep],
                                             "stored": pl.inference.param_count(m)})
latency = pd.DataFrame(latency_rows)
print(f"timed with {torch.get_num_threads()} CPU threads")
latency.pivot_table(index=["network", "method", "value"], columns=["representation", "batch"],
                    values="speedup_measured").round(2)

# %% tags=[]
fig = pl.plots.head_to_head.speedup_figure(points, latency, NETS, torch.get_num_threads())
run.save_figure(fig, "speedup")
plt.show()

# %% [markdown] tags=[]
# ## 4 · What each method costs
#
# Wall-clock seconds each method spent to reach each operating point (training and pruning, as recorded when the
# run was computed, including runs loaded from the cache), relative to training the dense model once. Gumbel
# gates and neuron removal are counted from their own start (scratch, or the dense model); the others start from
# the dense model, whose training is not included. One-shot pruning takes milliseconds; its points are drawn at
# no less than 10⁻⁴ to stay on the axis.

# %% tags=[]
fig = pl.plots.head_to_head.cost_figure(points, NETS, seed, profile)
run.save_figure(fig, "cost")
plt.show()


# %% [markdown] tags=[]
# ## 5 · The best method at a given budget of weights
#
# For each budget (the share of the weights left), among the operating points within it, the winner is the one
# with the best mean **validation** accuracy (the test set is not used to choose); its mean test accuracy is
# reported. A method whose curve never reaches the budget cannot win it.

# %% tags=[]
def best_at(net, budget):
    """Per method, its best (by mean validation accuracy) point at or under `budget` % weights; winner first."""
    df = points[(points["network"] == net) & (points["method"] != "dense")]
    g = df.groupby(["method", "value"]).agg(weights_pct=("weights_pct", "mean"), val_acc=("val_acc", "mean"),
                                            test_acc=("test_acc", "mean"), n=("seed", "nunique")).reset_index()
    g = g[g["weights_pct"] <= budget].sort_values("val_acc", ascending=False).drop_duplicates("method")
    if g.empty:
        return {"network": NETS[net], "budget_pct": budget, "method": None}
    w = g.iloc[0]
    r = g.iloc[1] if len(g) > 1 else None
    return {"network": NETS[net], "budget_pct": budget, "method": w["method"], "value": w["value"],
            "weights_pct": w["weights_pct"], "val_acc": w["val_acc"], "test_acc": w["test_acc"], "seeds": w["n"],
            "runner_up": None if r is None else r["method"],
            "runner_up_test_acc": None if r is None else r["test_acc"]}


budget_table = pd.DataFrame([best_at(net, b) for net in NETS for b in S["budgets_pct"]])
budget_table

# %% [markdown] tags=[]
# ## 6 · Summary, and what the papers claim
#
# The papers' own claims, with the numbers this suite measured for them in notebooks 01-04, are in those
# notebooks. The rows here are this notebook's: the winner at each budget, and the measured CPU speedups.

# %% tags=[]
graded = profile != "smoke"
headline = []
for r in budget_table.to_dict("records"):
    name = None if pd.isna(r["method"]) else r["method"]
    measured = f"{pl.plotting.label(name) if name != 'neurons_ft' else 'neuron removal + FT'}, " \
               f"{100 * r['test_acc']:.2f}% at {r['weights_pct']:.2g}% of the weights" if name else "no method reaches it"
    headline.append(pl.report.headline(f"{r['network']}: best at ≤ {r['budget_pct']:g}% of the weights", measured,
                                       source="this notebook (chosen on validation, test accuracy shown)"))
for net in NETS:
    lat = latency[(latency["network"] == net) & (latency["batch"] == 256) & (latency["method"] != "dense")]
    if len(lat):
        best = lat.loc[lat["speedup_measured"].idxmax()]
        headline.append(pl.report.headline(
            f"{NETS[net]}: largest measured CPU speedup, batch 256", float(best["speedup_measured"]), unit="×",
            source=f"{best['method']} at {best['compression_weights']:.0f}× ({best['representation']})",
            volatile=True))
pl.report.comparison_table(headline)

# %% [markdown] tags=[]
# ### Deviations and unknowns
#
# * **Equal terms, not equal schedules.** Every method runs its own schedule, scaled to the profile (the table at
#   the top); its cost is measured and shown (section 4) rather than equalised. The paper-faithful schedules are in
#   notebooks 01-04; here several are shorter, so the points are not those notebooks' headline results.
# * **Seeds**: the quick profile uses 2 seeds for LeNet-300-100 and 1 for LeNet-5 (the issue asks for ≥ 3 in the
#   paper profile, which this notebook uses); the figures say how many.
# * **Gumbel gates** start from scratch (the method trains weights and gates together; seed 2050 + seed). On
#   LeNet-5 the convolutions are gated too, with the same gate, where the paper gates `nn.Linear` layers only.
#   In the quick profile LeNet-5's per-epoch monitoring averages 1 sampled mask instead of 10 (monitoring only;
#   the operating point is the argmax mask either way).
# * **NNrelief** retrains with Adam 1e-3 (the authors' LeNet recipe) from the suite's SGD-trained dense reference.
# * **Neuron removal** scores candidates with the cross-entropy summed over the first `n_score` training images
#   (the paper uses squared error on sigmoid nets; notebook 04); its cost counts the whole ranking for every point;
#   the fine-tuned variant adds SGD (lr 0.01, cosine) with the removed neurons kept out.
# * **Latency** is measured on this machine's CPU with PyTorch's own kernels; other CPUs, sparse libraries or
#   batch sizes give other numbers. Compaction removes only units that are provably dead or unread.
# * **Budget winners** are chosen on the validation split and reported on the test split.

# %% tags=[]
results = {
    "points": points.to_dict("records"),
    "latency": latency.to_dict("records"),
    "budgets": budget_table.to_dict("records"),
    "dense": {f"{net}_{s}": {k: v for k, v in info.items() if k in ("test_acc", "val_acc", "train_seconds")}
              for (net, s), info in dense_info.items()},
    "seeds": SEEDS,
    "cpu_threads": torch.get_num_threads(),
    "headline": headline,
}
assert set(points["method"]) == {"dense", *pl.methods.registry.METHODS}, "a registered method has no points"
figures = ["tradeoff_lenet300", "tradeoff_lenet5", "speedup", "cost"]
path = run.write_results(results, figures=figures)  # written last: only a finished run replaces the figures
print(f"wrote {pl.paths.relpath(path)} and {len(figures)} figures; wall time {run.timings['total']:.0f} s")
