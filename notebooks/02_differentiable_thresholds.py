# %% [markdown] tags=[]
# # 02 · Differentiable thresholds: learning where to prune
#
# **Paper:** Franco Manessi, Alessandro Rozza, Simone Bianco, Paolo Napoletano, Raimondo Schettini. *Automated
# Pruning for Deep Neural Network Compression.* ICPR 2018, arXiv:1712.01721.
#
# Han et al. (notebook 00) prune by a hand-set threshold per layer (a quality q times the layer's standard
# deviation), then retrain, and repeat. Manessi et al. make the threshold itself a parameter that is learned by
# backpropagation together with the weights: the hard step x·1[|x| > t] is replaced by a smooth **pruning
# function** v^β(x, t), a regularizer pushes the thresholds up, and the network decides per layer how much it
# can lose. The paper claims (C3) that this keeps **14% to 33% fewer weights** than Han et al.'s pipeline, and
# (C4) that the features of the pruned networks transfer as well as the dense network's.
#
# The paper's body (its regularizer, λ, β schedule, tables) is not available to this project, so the method is
# rebuilt from its one published formula plus documented choices (spec `shared/papers/thresholds.md`, tags
# [paper] / [derived] / [unknown]); everything that is a choice is listed in "Deviations and unknowns" at the end.
#
# What you will see: (1) the pruning-function family and why a threshold can learn at all; (2) the two MNIST
# networks and Han's published per-layer tables; (3) Han's baseline, rebuilt with the same training budget as
# ours; (4) the differentiable thresholds on LeNet-300-100 and LeNet-5: thresholds moving, weights leaving;
# (5) the trade-off between sparsity and error, and the operating point; (6) which regularizer does the work;
# (7) a transfer-learning proxy; (8) the paper-versus-reproduction table.
#
# **Run it** with `make reproduce NOTEBOOK=02` (profile `quick`, ≈ 10 minutes on a 2-core laptop CPU; every run
# is cached, so a rerun takes seconds) or from Jupyter. `smoke` proves the code runs (CI, tiny subsets, numbers
# meaningless); `paper` runs the long schedules with 3 seeds (CPU-hours: a GPU is recommended).

# %% tags=["parameters"]
import os

profile = os.environ.get("PRUNING_PROFILE", "quick")  # smoke | quick | paper
seed = 0
device = "auto"  # auto | cpu | cuda | mps
lam = 2.0  # λ, weight of the regularizer: the knob along the accuracy/sparsity trade-off (always in the sweep)
reg = "l0"  # regularizer of the main runs: l0 | thr_exp | thr_log | band_l1 | none
beta_mode = "anneal"  # anneal: c grows from 50 to 1000 | fixed: c stays at 1000
han_mode = "quality"  # Han baseline: quality (one shared q per iteration) | published_ratios (Han's per-layer %)
dense_recipe = "cosine"  # cosine (the suite's shared dense models) | caffe_inv (Caffe's LeNet solver)
select_on = "test"  # test | val: the split on which the operating point ours* is chosen

# %% tags=["injected-parameters", "nbval-skip"]
# Parameters
profile = "quick"


# %% tags=[]
import json
import math

import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import display

import pruning_lib as pl
from pruning_lib.methods import thresholds as thr
from pruning_lib.plots import thresholds as figs

PROFILES = {  # Han: (iterations, retrain epochs each); ours: (joint epochs, fine-tune epochs): equal budgets
    "smoke": dict(
        seeds=1, han_lenet300=(2, 1), ours_lenet300=(1, 1), han_lenet5=(2, 1), ours_lenet5=(1, 1),
        lams_lenet300=[2.0], lams_lenet5=[2.0], han_r_lenet300=[0.08], han_r_lenet5=[0.08],
        ablation=[("l0", 2.0), ("none", 0.0)], ablation_budget=(1, 1),
        transfer_train=2000, transfer_test=1000, transfer_dense=1, transfer_han=(2, 1), transfer_ours=(1, 1),
        probe_train=1000, probe_test=500, fashion_train=0,
    ),
    "quick": dict(
        seeds=1, han_lenet300=(4, 2), ours_lenet300=(6, 2), han_lenet5=(3, 1), ours_lenet5=(2, 1),
        lams_lenet300=[1.0, 2.0, 3.0], lams_lenet5=[2.0], han_r_lenet300=[0.16, 0.08, 0.04],
        han_r_lenet5=[0.08],
        ablation=[("l0", 1.0), ("l0", 3.0), ("thr_exp", 0.1), ("thr_exp", 0.3), ("thr_log", 0.01),
                  ("thr_log", 0.03), ("band_l1", 2.0), ("none", 0.0)], ablation_budget=(1, 1),
        transfer_train=None, transfer_test=None, transfer_dense=3, transfer_han=(2, 1), transfer_ours=(1, 1),
        probe_train=10_000, probe_test=None, fashion_train=10_000,
    ),
    "paper": dict(
        seeds=3, han_lenet300=(5, 8), ours_lenet300=(30, 10), han_lenet5=(5, 4), ours_lenet5=(15, 5),
        lams_lenet300=[0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0], lams_lenet5=[0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0],
        han_r_lenet300=[0.2, 0.12, 0.08, 0.05, 0.03], han_r_lenet5=[0.2, 0.12, 0.08, 0.05, 0.03],
        ablation=[("l0", 1.0), ("l0", 2.0), ("l0", 4.0), ("thr_exp", 0.05), ("thr_exp", 0.1), ("thr_exp", 0.3),
                  ("thr_log", 0.005), ("thr_log", 0.01), ("thr_log", 0.03), ("band_l1", 1.0), ("band_l1", 2.0),
                  ("none", 0.0)], ablation_budget=(20, 5),
        transfer_train=None, transfer_test=None, transfer_dense=15, transfer_han=(3, 3), transfer_ours=(6, 3),
        probe_train=None, probe_test=None, fashion_train=60_000,
    ),
}  # fmt: skip
pl.checks.check_range("lam", lam, 0.0, 1000.0)
pl.checks.check_choice("reg", reg, thr.REGULARIZERS)
pl.checks.check_choice("beta_mode", beta_mode, thr.BETA_MODES)
pl.checks.check_choice("han_mode", han_mode, ("quality", "published_ratios"))
pl.checks.check_choice("dense_recipe", dense_recipe, tuple(pl.dense.RECIPES))
pl.checks.check_choice("select_on", select_on, ("test", "val"))
run = pl.setup_run("thresholds", profile, PROFILES, seed=seed, device=device,
                   params=dict(lam=lam, reg=reg, beta_mode=beta_mode, han_mode=han_mode, dense_recipe=dense_recipe,
                               select_on=select_on))
S = run.settings
SEEDS = [seed + i for i in range(S["seeds"])]
NETS = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5"}
LAMS = {net: sorted(set(S[f"lams_{net}"]) | {float(lam)}) for net in NETS}  # the sweep always holds `lam`
R_HAN = 0.08  # Han's final fraction of weights (Tables 2-3: 8% for both networks)
LR = 0.005  # weights' learning rate in the joint phase, fine-tuning and Han's retraining: 1/10 of the dense 0.05
OPTS = {"reg": reg, "beta_mode": beta_mode, "lr": LR}  # options of every main run of ours
TARGETS = {  # spec §6: the operating point ours* keeps <= pct % of the weights at test error <= err %
    "quick": {"lenet300": (6.9, 1.8), "lenet5": (6.9, 1.0)},
    "paper": {"lenet300": (5.5, 1.6), "lenet5": (5.6, 0.8)},
}.get(profile)  # smoke: every comparison is computed and printed, none is graded
graded = TARGETS is not None
pd.set_option("display.precision", 4)
pd.set_option("display.width", 160)

{**S, "seeds": SEEDS, "lambda sweeps": LAMS}

# %% [markdown] tags=[]
# ## 1 · A family of pruning functions
#
# Magnitude pruning applies the hard threshold h(x, t) = x·1[|x| > t] to every weight. Its derivative with
# respect to t is zero almost everywhere, so gradient descent cannot move t. The paper's pruning function
# [paper] is a smooth member of a family indexed by the sharpness β > 0:
#
# $$v^\beta(x, t) = \mathrm{ReLU}(x - t) + t\,\sigma(\beta(x - t)) - \mathrm{ReLU}(-x - t) - t\,\sigma(\beta(-x - t))$$
#
# with σ the logistic sigmoid and t ≥ 0. Outside the band |x| ≈ t it equals h up to 2t·e^(−β·distance); inside the
# band it is small but not zero; and as β → ∞ it becomes h. It is odd in x and v(0, t) = 0 exactly. Here it is
# for t = 1:

# %% tags=[]
T = 1.0
BETAS = [1, 3, 10, 30, 100]
x = torch.linspace(-3, 3, 6001, dtype=torch.float64)
colors = figs.beta_colors(BETAS)
fig = figs.pruning_functions(x, T, BETAS, colors)  # v^β next to the identity and the hard threshold
run.save_figure(fig, "pruning_functions")
plt.show()

# %% [markdown] tags=[]
# **Why the threshold can learn.** Autograd gives ∂v/∂x and ∂v/∂t at every weight. ∂v/∂x is ≈ 1 for surviving
# weights and ≈ 0 for pruned ones, with a spike ≈ tβ/4 at ±t. ∂v/∂t is ≈ 0 everywhere except within a few 1/β of
# ±t: a threshold receives gradient **only from the weights near it** (for 10 ≤ βt ≤ 100 the spec's bound puts
# |∂v/∂t| > 1e-3 within 12/β of ±t; shaded below for β = 100). So β is a trade-off: sharp enough that v is close
# to the hard mask we will finally apply, soft enough that the band holds weights to learn from. The method
# therefore **anneals** β upward during training (§4).

# %% tags=[]
fig = figs.threshold_gradients(x, T, BETAS[1:], colors[1:])  # ∂v/∂x and ∂v/∂t, from autograd
run.save_figure(fig, "threshold_gradients")
plt.show()

# %% [markdown] tags=[]
# The same facts as numbers (float64, t = 1): the value at the threshold, v(±t, t) = ±(t/2 − t·σ(−2βt)), which
# stays ≈ t/2 for every β (the convergence to h is pointwise, not uniform, so all counts below use the hard
# mask); the peak of |∂v/∂t| (≈ tβ/4 + 1/2, at x = t); and the half-width of the band around ±t where
# |∂v/∂t| > 1e-3, next to the 12/β bound:

# %% tags=[]
# NBVAL_CHECK_OUTPUT
family = thr.family_table(BETAS, T)  # float64, on 60,001 points of [-3, 3]
family

# %% [markdown] tags=[]
# **How the method uses it** (spec §2.2–2.4). Every Linear/Conv2d weight tensor W_ℓ, the output layer included,
# gets one threshold. To make one set of hyperparameters serve layers whose weights differ by an order of
# magnitude, the threshold is measured in units of the layer's dense standard deviation s_ℓ (frozen):
# t_ℓ = s_ℓ·τ_ℓ with τ_ℓ ≥ 0 learned, starting at τ0 = 0.5, and β_ℓ = c/s_ℓ with c annealed geometrically from
# 50 to 1000 over the joint phase (at c = 1000 the band is ≈ ±0.01·s_ℓ wide). The training objective is
#
# $$L(W, \tau) = \mathrm{CE}\big(f(x; \{v^{\beta_\ell}(W_\ell, t_\ell)\}), y\big) + \lambda\,R + \text{weight decay on } W$$
#
# The paper's regularizer is [unknown]; the default here, `l0`, is the soft fraction of weights kept,
# R = (1/N) Σ_ℓ Σ_i σ(β_ℓ(|w_i| − t_ℓ)) [derived]. Its gradient raises every threshold and pulls near-threshold
# weights toward zero; per unit of τ_ℓ it is the layer's share of the weights times the density of |w|/s_ℓ at
# τ_ℓ, so big layers (where most weights sit) are pushed hardest, and small layers (conv1, the output layers)
# stay denser, as in Han's tables. The cross-entropy pulls the other way. λ sets the exchange rate: the loss
# increase the network accepts per unit fraction of weights removed.
#
# The pipeline, in `pl.methods.thresholds.threshold_prune`: (1) start from the dense reference; (2) joint
# phase: SGD (momentum 0.9, weight decay 5e-4, learning rate 0.005 cosine) on W and Adam (lr 0.01) on τ, τ
# clamped at 0 after every step; (3) hard mask |W_ℓ| > t_ℓ (strict) on the raw weights; (4) fine-tune the
# survivors with the mask fixed (cross-entropy only). Implementation: a `torch.nn.utils.parametrize`
# parametrization per weight tensor computes v^β in the forward pass (in the cheaper odd form
# sign(x)·[ReLU(|x| − t) + t·(σ(β(|x| − t)) − σ(−β(|x| + t)))], whose σ(β(|x| − t)) is reused by R); all
# gradients come from autograd.
#
# ## 2 · The networks and Han et al.'s published tables
#
# The paper's networks are [unknown]; we use Han et al.'s two MNIST networks, against which C3's comparison is
# made. All counts in this notebook are given for the prunable weights and for all parameters (weights + biases,
# which are never pruned); compression = total / nonzero.

# %% tags=[]
# NBVAL_CHECK_OUTPUT
cols = ["layer", "type", "shape", "weights", "flops_dense"]
for net, title in NETS.items():
    model = pl.models.build_model(net)
    c = pl.metrics.counts(model)
    print(f"{title}: {c['weights']:,} weights + {c['params'] - c['weights']:,} biases = {c['params']:,} parameters")
    display(pl.metrics.layer_table(model)[cols])

# %% [markdown] tags=[]
# Han et al.'s per-layer results (Tables 2 and 3, weights only). Rebuilding their totals from the rounded
# per-layer percentages gives slightly more than 8%:

# %% tags=[]
# NBVAL_CHECK_OUTPUT
for net, number in [("lenet300", 2), ("lenet5", 3)]:
    table = pl.reference.han_table(number)
    sizes = {n: m.weight.numel() for n, m in pl.masks.prunable_layers(pl.models.build_model(net)).items()}
    rebuilt = pl.reference.han_rebuilt_count(net, sizes)
    print(f"Han et al. 2015, Table {number} ({NETS[net]}): per-layer % rebuild to {rebuilt:,} weights "
          f"= {100 * rebuilt / sum(sizes.values()):.2f}% (published total 8%)")
    display(table)
t1 = pl.reference.han_table(1).set_index("network")
t1.loc[["LeNet-300-100", "LeNet-5"]]

# %% [markdown] tags=[]
# ## 3 · Dense references and Han's baseline at an equal training budget
#
# Both methods start from the suite's canonical dense models (`pl.dense.reference_model`: SGD 0.05 cosine,
# weight decay 5e-4, batch 64, on the suite's 55,000-image training split; cached, so this is instant after the
# first notebook). Han's baseline is `pl.magnitude.han_prune`, unchanged: iteration k of K prunes every layer at
# q·s_ℓ, with one shared quality q chosen so the total hits r_final^(k/K), then retrains the survivors (SGD,
# learning rate 0.005 cosine, 1/10 of the dense rate as in Han et al.). **Equal budget**: Han's iterations ×
# retraining epochs equal our joint + fine-tuning epochs (quick: 4 × 2 = 6 + 2 for LeNet-300-100, 3 × 1 = 2 + 1
# for LeNet-5).

# %% tags=[]
splits = pl.dense.profile_data(profile)
print("data:", splits.sizes(), "| dense recipe:", dense_recipe, pl.dense.RECIPES[dense_recipe])
dense, dense_info = {}, {}
with run.timed("dense"):
    for net in NETS:
        for s in SEEDS:
            dense[net, s], dense_info[net, s] = thr.dense_start(net, profile, s, dense_recipe, run.device)
            run.cache_hits[f"dense_{net}_seed{s}"] = dense_info[net, s]["cache_hit"]
HAN_REF_ERR = {"lenet300": t1.loc["LeNet-300-100", "error_ref_pct"], "lenet5": t1.loc["LeNet-5", "error_ref_pct"]}
dense_table = pd.DataFrame([
    {"network": NETS[net], "seed": s, "test error %": thr.error_pct(dense_info[net, s]["test_acc"]),
     "Han's Caffe reference error %": HAN_REF_ERR[net], "cached": dense_info[net, s]["cache_hit"]}
    for net in NETS for s in SEEDS
])
dense_err = dense_table.groupby("network", sort=False)["test error %"].mean().rename(index={v: k for k, v in NETS.items()})
dense_table

# %% tags=[]
han_rows, han_runs = [], {}
with run.timed("han"):
    for net in NETS:
        for s in SEEDS:
            for r in S[f"han_r_{net}"]:
                model, hist = pl.magnitude.han_baseline(dense[net, s], splits, r, S[f"han_{net}"], lr=LR,
                                                        mode=han_mode, network=net, seed=s)
                han_runs[net, s, r] = (model, hist)
                run.cache_hits[f"han_{net}_r{r}_seed{s}"] = hist.attrs["summary"]["cache_hit"]
                han_rows.append({"network": net, "seed": s, "r_final": r, **thr.run_row(hist)})
sweep_han = pd.DataFrame(han_rows)
assert (sweep_han["r_final"] == R_HAN).any(), "the Han sweep must contain r_final = 8%"
han8 = sweep_han[sweep_han["r_final"] == R_HAN].groupby("network", sort=False).mean(numeric_only=True)
show = ["network", "seed", "r_final", "q", "weights_nonzero", "weights_pct", "params_nonzero", "params_pct",
        "compression_weights", "compression_params", "error_final_pct", "seconds"]
sweep_han[show]

# %% [markdown] tags=[]
# Han reproduced at r_final = 8%, next to the published per-layer percentages (seed-0 run). `q` is the final
# quality parameter (threshold = q × the layer's dense standard deviation):

# %% tags=[]
for net, number in [("lenet300", 2), ("lenet5", 3)]:
    hist = han_runs[net, SEEDS[0], R_HAN][1]
    published = pl.reference.han_table(number).set_index("layer")["weights_left_pct"]
    summ = hist.attrs["summary"]
    print(f"{NETS[net]}: Han reproduced keeps {summ['counts']['weights_nonzero']:,} weights "
          f"({summ['counts']['weights_pct']:.2f}%, {summ['counts']['compression_weights']:.1f}x; all parameters "
          f"{summ['counts']['params_pct']:.2f}%, {summ['counts']['compression_params']:.1f}x), final q = "
          f"{summ['q']:.3f}, test error {summ['error_final_pct']:.2f}% (dense {dense_err[net]:.2f}%; Han et al.: "
          f"{t1.loc[NETS[net], 'error_ref_pct']}% -> {t1.loc[NETS[net], 'error_pruned_pct']}%)")
    display(pd.DataFrame({"Han 2015: weights left %": published, "reproduced: weights left %": thr.remaining_by_layer(hist)}))

# %% [markdown] tags=[]
# ## 4 · Differentiable thresholds
#
# Now the method itself, at every λ of the profile's sweep (quick: λ ∈ {1, 2, 3} on LeNet-300-100 and
# λ = 2 on LeNet-5). Each run records three test errors: **soft** (the network with v^β at the end of the joint
# phase), **hard** (after the hard mask, before fine-tuning) and **final** (after fine-tuning).

# %% tags=[]
ours_rows, ours_runs = [], {}
with run.timed("ours"):
    for net in NETS:
        for s in SEEDS:
            for lam_ in LAMS[net]:
                model, hist = thr.threshold_run(dense[net, s], splits, lam_, S[f"ours_{net}"], seed=s, **OPTS)
                ours_runs[net, s, lam_] = (model, hist)
                run.cache_hits[f"ours_{net}_lam{lam_}_seed{s}"] = hist.attrs["summary"]["cache_hit"]
                ours_rows.append({"network": net, "seed": s, "lam": lam_, **thr.run_row(hist)})
sweep_ours = pd.DataFrame(ours_rows)
show = ["network", "seed", "lam", "error_soft_pct", "error_hard_pct", "error_final_pct", "weights_nonzero",
        "weights_pct", "params_pct", "compression_weights", "compression_params", "joint_s", "finetune_s"]
sweep_ours[show]

# %% [markdown] tags=[]
# Where the thresholds ended, per layer (τ in units of the layer's dense standard deviation, t in weight units),
# and how much of each layer is left:

# %% tags=[]
per_layer_cols = [c for c in sweep_ours.columns if c.startswith(("tau_", "t_")) or c.endswith("_pct")]
per_layer_cols = [c for c in per_layer_cols if not c.startswith(("error", "val_error", "joint", "weights", "params"))]
sweep_ours[["network", "seed", "lam", *per_layer_cols]].dropna(axis=1, how="all")

# %% [markdown] tags=[]
# How the thresholds move during the joint phase (the main run, λ = `lam`): τ climbs fast at first, while the
# regularizer's pull beats the cross-entropy's, and each layer settles at its own level. The hard % remaining
# (what |W| > t would keep at that step) falls accordingly; the initial τ0 = 0.5 already removes the many
# near-zero weights of the dense networks. Note how the thresholds then **freeze** well before the end of the
# joint phase (in `quick`): as β sharpens, the regularizer pushes the weights just below t to zero and the
# cross-entropy pulls the useful ones just above t away from it, so the band around ±t empties and, by the
# locality shown in §1, the thresholds stop receiving gradient. The rest of the joint phase mostly retrains the
# survivors. Occasional jumps are weights drifting back into the band.

# %% tags=[]
main = {net: ours_runs[net, SEEDS[0], float(lam)] for net in NETS}
fig = figs.threshold_trajectories({NETS[net]: main[net][1] for net in NETS}, lam)  # τ and hard % per joint step
run.save_figure(fig, "threshold_trajectories")
plt.show()

# %% [markdown] tags=[]
# What the weights look like: the dense distribution of each layer (grey) against the weights our method keeps
# (colour), with the learned thresholds ±t_ℓ dashed; Han's survivors at 8% are the green outline. The method
# cuts the same kind of hole as magnitude pruning, but the width of the hole is learned per layer, and the
# survivors have been moved by the joint training.

# %% tags=[]
fig = figs.weight_histograms([  # per layer: dense, ours kept, Han kept, and ours' learned ±t
    (NETS[net], dense[net, SEEDS[0]], main[net][0], han_runs[net, SEEDS[0], R_HAN][0], main[net][1].attrs["summary"]["t"])
    for net in NETS
])
run.save_figure(fig, "weight_histograms")
plt.show()

# %% [markdown] tags=[]
# ## 5 · Trade-off and operating point
#
# The operating point **ours\*** is the sparsest run of the λ sweep (seed means in `paper`) whose error is at
# most e_max = min(target error, this notebook's own Han error at r_final = 8%) (spec §6; `select_on="val"`
# chooses by validation error ≤ Han's validation error instead). The reduction against Han is
# 100·(1 − nnz(ours\*) / nnz(Han at 8%)), weights only.

# %% tags=[]
err_col = "error_final_pct" if select_on == "test" else "val_error_final_pct"


def operating_point(net):
    """ours*: the sparsest λ (seed means) whose error is <= e_max, or None; with Han's 8% run for reference."""
    agg = sweep_ours[sweep_ours["network"] == net].groupby("lam").mean(numeric_only=True)
    han_err = han8.loc[net, err_col]
    target_err = TARGETS[net][1] if graded and select_on == "test" else math.inf
    e_max = min(target_err, han_err)
    ok = agg[agg[err_col] <= e_max + 1e-9]
    out = {"select_on": select_on, "e_max_pct": e_max, "han_error_pct": han_err,
           "han_weights_nonzero": han8.loc[net, "weights_nonzero"], "han_weights_pct": han8.loc[net, "weights_pct"]}
    if ok.empty:
        return {**out, "lam": None}
    lam_star = ok["weights_nonzero"].idxmin()
    row = agg.loc[lam_star]
    return {**out, "lam": float(lam_star), **{k: row[k] for k in (
        "error_final_pct", "val_error_final_pct", "error_soft_pct", "error_hard_pct", "weights_nonzero", "weights_pct",
        "params_nonzero", "params_pct", "compression_weights", "compression_params")},
        "reduction_vs_han_pct": 100 * (1 - row["weights_nonzero"] / han8.loc[net, "weights_nonzero"])}


op = {net: operating_point(net) for net in NETS}
reduction = {net: op[net].get("reduction_vs_han_pct") for net in NETS}
for net in NETS:
    o = op[net]
    if o["lam"] is None:
        at = sweep_ours[(sweep_ours["network"] == net) & (sweep_ours["lam"] == float(lam))].mean(numeric_only=True)
        x_ = 100 * (1 - at["weights_nonzero"] / o["han_weights_nonzero"])
        print(f"{NETS[net]}: no λ of the sweep reaches e_max = {o['e_max_pct']:.2f}%; at λ = {lam:g} "
              f"ours keeps {x_:.1f}% fewer weights than Han (paper claims 14-33%), at {at['error_final_pct']:.2f}% "
              f"error vs Han's {o['han_error_pct']:.2f}%")
    else:
        print(f"{NETS[net]}: ours* (λ = {o['lam']:g}) keeps {o['weights_nonzero']:,.0f} weights "
              f"({o['weights_pct']:.2f}%, all params {o['params_pct']:.2f}%) at {o['error_final_pct']:.2f}% test "
              f"error; Han at 8%: {o['han_weights_nonzero']:,.0f} weights at {o['han_error_pct']:.2f}% "
              f"(e_max {o['e_max_pct']:.2f}%)")
        margin = o["e_max_pct"] - o[err_col]
        n_sel = len((splits.test if select_on == "test" else splits.val)[1])
        print(f"    margin to e_max: {margin:.2f} pp ({round(margin / 100 * n_sel)} of {n_sel:,} {select_on} images)")
        print(f"    ours keeps {o['reduction_vs_han_pct']:.1f}% fewer weights than Han (paper claims 14-33%)")

# %% tags=[]
fig = figs.tradeoff(  # error vs weights kept: ours per λ, Han per r_final, Han's published point, ours*
    sweep_ours, sweep_han, NETS, han_published_err={net: t1.loc[NETS[net], "error_pruned_pct"] for net in NETS},
    dense_err=dense_err, op=op, targets=TARGETS, profile=profile, reg=reg,
)
run.save_figure(fig, "tradeoff")
plt.show()

# %% [markdown] tags=[]
# Per layer, ours\* against Han's published and reproduced percentages. Han's published networks keep the small
# layers (conv1, the output layers) much denser than the big ones: Han et al. tuned each layer's threshold by a
# sensitivity analysis. The reproduced baseline uses one shared quality q, so its layers end up close to the same
# percentage. The learned thresholds find the published profile's shape on their own: the regularizer's pressure
# scales with a layer's size, so the small layers stay dense and the big ones carry the pruning.

# %% tags=[]
LAM_STAR = {net: op[net]["lam"] if op[net]["lam"] is not None else float(lam) for net in NETS}
fig = figs.per_layer_remaining([  # % left per layer: Han published, Han reproduced (8%), ours at λ*
    {"title": NETS[net], "published": pl.reference.han_table(number).set_index("layer")["weights_left_pct"],
     "han": han_runs[net, SEEDS[0], R_HAN][1], "ours": ours_runs[net, SEEDS[0], LAM_STAR[net]][1],
     "lam": LAM_STAR[net], "operating_point": op[net]["lam"] is not None}
    for net, number in [("lenet300", 2), ("lenet5", 3)]
])
run.save_figure(fig, "per_layer_remaining")
plt.show()

# %% tags=[]
for net, number in [("lenet300", 2), ("lenet5", 3)]:
    lam_star = op[net]["lam"] if op[net]["lam"] is not None else float(lam)
    ours_t = pd.DataFrame(ours_runs[net, SEEDS[0], lam_star][1].attrs["summary"]["per_layer"]).set_index("layer")
    han_t = pd.DataFrame(han_runs[net, SEEDS[0], R_HAN][1].attrs["summary"]["per_layer"]).set_index("layer")
    print(f"{NETS[net]}: weights left per layer, ours at λ = {lam_star:g} (FLOP % = effective / dense FLOPs)")
    display(pd.DataFrame({
        "weights": ours_t["weights"],
        "Han 2015 %": pl.reference.han_table(number).set_index("layer")["weights_left_pct"],
        "Han reproduced nonzero": han_t["nonzero"], "Han reproduced %": han_t["remaining_pct"],
        "ours nonzero": ours_t["nonzero"], "ours %": ours_t["remaining_pct"],
        "Han 2015 FLOP %": pl.reference.han_table(number).set_index("layer")["flop_pct"],
        "ours FLOP %": ours_t["flops_pct"],
    }))

# %% [markdown] tags=[]
# ## 6 · Which regularizer does the work? (LeNet-300-100)
#
# The paper's regularizer is [unknown], so the spec names alternatives (all with a short 1 + 1 epoch budget):
#
# | `reg` | R | acts on |
# |---|---|---|
# | `l0` (default) | soft fraction of weights kept, (1/N) Σ σ(β(\|w\| − t)) | W and τ |
# | `thr_exp` | Σ_ℓ (N_ℓ/N)·exp(−τ_ℓ) | τ only |
# | `thr_log` | −Σ_ℓ (N_ℓ/N)·log(τ_ℓ + 10⁻³) | τ only |
# | `band_l1` | (1/N) Σ (\|w\|/s_ℓ)·(1 − σ(β(\|w\| − sg(t)))) (sg = stop-gradient) | W only; t learns from CE alone |
# | `none` | 0 (control) | – |
#
# Without any regularizer the cross-entropy can only gain from keeping weights, so the thresholds should sink.

# %% tags=[]
abl_rows, abl_runs = [], {}
with run.timed("ablation"):
    for reg_, lam_ in S["ablation"]:
        model, hist = thr.threshold_run(dense["lenet300", SEEDS[0]], splits, lam_, S["ablation_budget"],
                                        seed=SEEDS[0], reg=reg_, beta_mode=beta_mode, lr=LR)
        abl_runs[reg_, lam_] = (model, hist)
        run.cache_hits[f"ablation_{reg_}_lam{lam_}"] = hist.attrs["summary"]["cache_hit"]
        abl_rows.append({"reg": reg_, "lam": lam_, **thr.run_row(hist)})
ablation = pd.DataFrame(abl_rows)
ablation[["reg", "lam", "error_soft_pct", "error_hard_pct", "error_final_pct", "joint_weights_pct", "weights_pct",
          "params_pct", "tau_fc1", "tau_fc2", "tau_fc3"]]

# %% tags=[]
fig = figs.regularizer_ablation(ablation, abl_runs, dense_err["lenet300"], S["ablation_budget"])
run.save_figure(fig, "regularizer_ablation")
plt.show()
none_joint_pct = ablation.loc[ablation["reg"] == "none", "joint_weights_pct"]
print(f"reg='none': {none_joint_pct.iloc[0]:.2f}% of the weights remain at the end of the joint phase"
      if len(none_joint_pct) else "no 'none' run in this profile")

# %% [markdown] tags=[]
# ## 7 · Do pruned features transfer? A proxy for the paper's claim C4
#
# The paper's transfer study (networks, tasks, layer, classifier) is [unknown] and ImageNet-scale; this is the
# spec's documented proxy. A LeNet-5 with a 5-way head learns MNIST digits 0–4 (all 30,596 training images of
# those digits; the transfer task does not use the suite's validation split). It is pruned by Han (8%) and by
# ours (λ = `lam`) at equal budgets. Everything up to the fc1 ReLU is then frozen, and a multinomial
# logistic-regression probe (L-BFGS, 200 iterations, L2 10⁻⁴, features standardized on the probe's training
# set) is trained on digits 5–9, which none of the networks has seen, and tested on MNIST-test digits 5–9.
# Fashion-MNIST is a second task only where it is already on disk (it is never downloaded).

# %% tags=[]
Xtr, ytr = pl.data.load_mnist(True)
Xte, yte = pl.data.load_mnist(False)
src = pl.data.Splits(train=thr.digits(Xtr, ytr, range(5), S["transfer_train"]), val=None,
                     test=thr.digits(Xte, yte, range(5), S["transfer_test"]))
probe_data = {"digits 5-9": (thr.digits(Xtr, ytr, range(5, 10), S["probe_train"]),
                             thr.digits(Xte, yte, range(5, 10), S["probe_test"]))}
fashion = bool(S["fashion_train"]) and pl.data.fashion_present()
if fashion:
    Fx, Fy = pl.data.load_fashion_mnist(True)
    probe_data["Fashion-MNIST"] = (pl.data.subset(Fx, Fy, S["fashion_train"]), pl.data.load_fashion_mnist(False))
print(f"source: {len(src.train[1]):,} train / {len(src.test[1]):,} test images of digits 0-4; probes:",
      {k: (len(a[1]), len(b[1])) for k, (a, b) in probe_data.items()}, "" if fashion else
      "(Fashion-MNIST not on disk or not in this profile: skipped)")
with run.timed("transfer"):
    dense5, dense5_info = thr.dense_on("lenet5", src, S["transfer_dense"], seed=seed, num_classes=5,
                                       device=run.device)
    han5, han5_hist = pl.magnitude.han_baseline(dense5, src, R_HAN, S["transfer_han"], lr=LR, mode=han_mode,
                                                network="lenet5", seed=seed)
    ours5, ours5_hist = thr.threshold_run(dense5, src, lam, S["transfer_ours"], seed=seed, **OPTS)
    run.cache_hits.update(transfer_dense=dense5_info["cache_hit"], transfer_han=han5_hist.attrs["summary"]["cache_hit"],
                          transfer_ours=ours5_hist.attrs["summary"]["cache_hit"])
    transfer_rows = []
    for method, model in [("dense", dense5), ("han", han5), ("thresholds", ours5)]:
        row = {"method": method, "weights_pct": pl.metrics.counts(model)["weights_pct"],
               "params_pct": pl.metrics.counts(model)["params_pct"],
               "source_error_pct": thr.error_pct(pl.train.evaluate(model, *src.test)["acc"])}
        for task, (probe_train, probe_test) in probe_data.items():
            res = thr.transfer_probe(model, probe_train, probe_test, l2=1e-4, max_iter=200)
            run.cache_hits[f"probe_{method}_{task}"] = res["cache_hit"]
            row[f"{task} probe acc %"] = 100 * res["acc"]
        transfer_rows.append(row)
transfer = pd.DataFrame(transfer_rows).set_index("method")
for task in probe_data:
    transfer[f"{task} Δ pp"] = transfer[f"{task} probe acc %"] - transfer.loc["dense", f"{task} probe acc %"]
transfer

# %% tags=[]
fig = figs.transfer_bars(transfer, list(probe_data))  # source accuracy and probe accuracy per method
run.save_figure(fig, "transfer")
plt.show()


# %% [markdown] tags=[]
# ## 8 · Paper versus reproduction
#
# The paper's own numbers per network are [unknown] (only the 14–33% range of C3 is public); Han et al.'s come
# from `pl.reference`. Targets (spec §6) are graded in `quick` and `paper` only. A missed target is reported as
# MISSED.

# %% tags=[]
def met(ok):
    """A verdict only where this profile has targets."""
    return bool(ok) if graded else None


print("paper:", pl.reference.MANESSI2018)
print("baseline:", pl.reference.HAN2015)
claim = "–".join(map(str, pl.reference.MANESSI2018_CLAIMS["fewer_weights_than_han_pct"]))
src_m, src_h = "Manessi et al. 2018 (C3), spec §6", "Han et al. 2015, Tables 1-3"
targets, headline = {}, []
for net in NETS:
    o, tag = op[net], NETS[net]
    pct_t, err_t = TARGETS[net] if graded else (None, None)
    has = o["lam"] is not None
    targets[f"{net}_weights_pct"] = {"value": o.get("weights_pct"), "threshold": pct_t,
                                     "met": met(has and o["weights_pct"] <= pct_t) if graded else None}
    targets[f"{net}_error_pct"] = {"value": o.get("error_final_pct"), "threshold": err_t,
                                   "met": met(has and o["error_final_pct"] <= err_t) if graded else None}
    targets[f"{net}_reduction_vs_han_pct"] = {"value": reduction[net], "threshold": 0.0,
                                              "met": met(has and reduction[net] > 0) if graded else None}
    headline += [
        pl.report.headline(f"{tag} dense test error", float(dense_err[net]), paper=HAN_REF_ERR[net], unit="%",
                           source=src_h + " (Caffe reference)"),
        pl.report.headline(f"{tag} Han reproduced (8%, equal budget): test error", float(han8.loc[net, "error_final_pct"]),
                           paper=t1.loc[tag, "error_pruned_pct"], unit="%", source=src_h),
        pl.report.headline(f"{tag} ours*: weights left", o.get("weights_pct"), target=f"≤ {pct_t}%" if graded else None,
                           unit="%", met=targets[f"{net}_weights_pct"]["met"], source=src_m),
        pl.report.headline(f"{tag} ours*: test error", o.get("error_final_pct"),
                           target=f"≤ {err_t}% and ≤ own Han" if graded else None, unit="%",
                           met=targets[f"{net}_error_pct"]["met"], source=src_m),
        pl.report.headline(f"{tag} ours* keeps fewer weights than own Han", reduction[net], paper=claim,
                           target="> 0%" if graded else None, unit="%",
                           met=targets[f"{net}_reduction_vs_han_pct"]["met"], source=src_m),
    ]
for m, name in [("han", "Han"), ("thresholds", "ours")]:
    d = float(transfer.loc[m, "digits 5-9 Δ pp"])
    targets[f"transfer_{m}_delta_pp"] = {"value": d, "threshold": 1.0, "met": met(abs(d) <= 1.0)}
    headline.append(pl.report.headline(f"transfer proxy: {name} probe acc. − dense (digits 5-9)", d,
                                       target="|Δ| ≤ 1 pp" if graded else None, unit="pp",
                                       met=targets[f"transfer_{m}_delta_pp"]["met"], source="Manessi et al. 2018 (C4), spec §5D"))
if fashion:
    for m in ("han", "thresholds"):
        targets[f"transfer_fashion_{m}_delta_pp"] = {"value": float(transfer.loc[m, "Fashion-MNIST Δ pp"]),
                                                     "threshold": 1.0, "met": None}
pl.report.comparison_table(headline)


# %% [markdown] tags=[]
# ### Deviations and unknowns
#
# * **The paper's body is unavailable** [unknown]: the regularizer and λ, the β schedule, the initial threshold,
#   the threshold optimizer, learning rates, epochs, whether it fine-tunes, its networks and per-network results
#   (which network got 14% and which 33%). The project's choices: R = `l0` (soft kept fraction), λ sweep around
#   2, t = s·τ with τ0 = 0.5 and Adam (lr 0.01) on τ, β = c/s with c annealed geometrically 50 → 1000, SGD at
#   lr 0.005 cosine on the weights, a separate fine-tuning phase after a hard mask, Han's two MNIST networks.
# * **Dense references** [derived]: the suite's recipe (SGD 0.05 cosine, weight decay 5e-4, batch 64, 20 / 8
#   epochs in quick), trained on 55,000 of the 60,000 MNIST training images (5,000 are the suite's validation
#   split); Han et al. used Caffe's reference models on all 60,000. `dense_recipe="caffe_inv"` mimics Caffe's
#   LeNet solver (lr 0.01, inv decay γ = 1e-4, power 0.75, 10,000 iterations) on the same 55k split.
#   LeNet-5 has ReLUs after the convolutions (the suite's shared definition; Caffe's has none).
# * **Han's schedule** [unknown in Han et al.]: geometric r_k = r_final^(k/K), one shared q per iteration, layer
#   stds frozen at the dense model, masks only get sparser, retraining at lr 0.005 cosine; budgets equal to ours.
#   Han et al. used far longer retraining, so their published errors are lower than this baseline's.
# * **λ sweep** [derived]: the spec's grids ({1, 2, 3} on LeNet-300-100 in quick), fixed before any run; λ is not
#   tuned on the test set. The operating point is chosen on the test set as the spec prescribes (Han et al. report
#   test error; `select_on="val"` chooses on the validation split instead), and the margin printed in §5 says how
#   close it is to e_max.
# * **Fast path** [derived]: in the odd form, σ(−β(|x| + t)) is skipped while β·t = c·τ ≥ 40 (it is then below
#   4·10⁻¹⁸, under float32 resolution); the unit tests check the fast path against the exact form.
# * **Transfer proxy** [derived]: MNIST digits 0–4 → 5–9 with a linear probe on fc1 features replaces the
#   paper's (unknown, ImageNet-scale) transfer study; the source task uses all 60,000 training images' digits
#   0–4, which is not the suite's 55k split. Fashion-MNIST runs only when on disk.
# * **Soft versus hard**: every count is from the hard mask |W| > t; the soft network still has small nonzero
#   weights inside the band, and its error is reported separately.
# * **Seeds**: quick and smoke use one seed; paper uses three (seed means select ours*). Timings of cached runs
#   are those of the run that computed them.

# %% tags=[]
def records(df):
    """DataFrame rows as JSON-ready dicts."""
    return pl.files.jsonable(df.to_dict("records"))


def ours_result(net):
    """The main run (λ = lam, first seed) of a network: summary, per-layer table and joint history."""
    hist = main[net][1]
    summ = {k: v for k, v in hist.attrs["summary"].items() if k != "config"}
    return {"lam": float(lam), "seed": SEEDS[0], **summ,
            "history": hist[hist["phase"] == "joint"].dropna(axis=1, how="all").to_dict("list")}


def han_result(net):
    """Han's 8% run (first seed): summary, per-layer table, per-iteration history and Han's published numbers."""
    hist = han_runs[net, SEEDS[0], R_HAN][1]
    summ = {k: v for k, v in hist.attrs["summary"].items() if k != "config"}
    number = {"lenet300": 2, "lenet5": 3}[net]
    return {"r_final": R_HAN, "seed": SEEDS[0], **summ, "history": hist.to_dict("records"),
            "mean_over_seeds": han8.loc[net].to_dict(),
            "published": {"table": pl.reference.han_table(number).to_dict("records"),
                          "error_ref_pct": HAN_REF_ERR[net], "error_pruned_pct": t1.loc[NETS[net], "error_pruned_pct"]}}


results = pl.files.jsonable({
    "seeds": SEEDS,
    "timings": dict(run.timings),
    "dense": {net: {"test_error_pct": float(dense_err[net]), "han_reference_error_pct": HAN_REF_ERR[net],
                    "recipe": dense_recipe, "runs": records(dense_table[dense_table["network"] == NETS[net]])}
              for net in NETS},
    "han": {net: han_result(net) for net in NETS},
    "ours": {net: ours_result(net) for net in NETS},
    "operating_point": op,
    "reduction_vs_han_pct": reduction,
    "sweep_ours": records(sweep_ours),
    "sweep_han": records(sweep_han),
    "ablation": records(ablation),
    "transfer": {"rows": records(transfer.reset_index()), "source_train": len(src.train[1]),
                 "source_test": len(src.test[1]), "probe": {k: [len(a[1]), len(b[1])] for k, (a, b) in probe_data.items()},
                 "fashion": fashion, "dense_cache_hit": dense5_info["cache_hit"]},
    "function_family": records(family),
    "targets": targets,
    "headline": headline,
})
REQUIRED = {"seeds", "timings", "dense", "han", "ours", "operating_point", "reduction_vs_han_pct",
            "sweep_ours", "sweep_han", "ablation", "transfer", "function_family", "targets"}
assert REQUIRED <= set(results), f"results lack {REQUIRED - set(results)}"
FIGURES = ["pruning_functions", "threshold_gradients", "threshold_trajectories", "weight_histograms",
           "per_layer_remaining", "tradeoff", "regularizer_ablation", "transfer"]
for net in NETS:  # counts from masks agree with counts from nonzeros
    model = main[net][0]
    assert sum(int(m.sum()) for m in pl.masks.get_masks(model).values()) >= pl.metrics.counts(model)["weights_nonzero"]
if graded:  # spec §8.9
    assert dense_err["lenet300"] <= 1.7 and dense_err["lenet5"] <= 0.9, dense_err.to_dict()
    gap = (sweep_ours["error_hard_pct"] - sweep_ours["error_soft_pct"]).abs()
    assert (gap <= 0.3 + 1e-9).all(), f"soft vs hard error gap too large: {gap.max():.2f} pp"
    assert (none_joint_pct >= 80).all(), f"reg='none' left only {none_joint_pct.tolist()}% of the weights"
path = run.write_results(results, figures=FIGURES)  # written last: only a finished run replaces the figures
print(f"wrote {pl.paths.relpath(path)} and {len(FIGURES)} figures; wall time {run.timings['total']:.0f} s")
