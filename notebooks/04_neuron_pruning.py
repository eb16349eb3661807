# %% [markdown] tags=[]
# # 04 · Removing whole neurons: serial brute force versus Taylor estimates
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pruning-suite/pruning-suite/blob/main/notebooks/04_neuron_pruning.ipynb)
#
# **Paper.** Nikolas Wolfe, Aditya Sharma, Lukas Drude, Bhiksha Raj, *The Incredible Shrinking Neural Network: New
# Perspectives on Learning Representations Through The Lens of Pruning*, arXiv:1701.04465 (2017).
#
# The paper removes whole **hidden neurons** from a trained network, one at a time and **without retraining**, and
# asks which neuron can go next with the least damage. It compares an exact but expensive answer (try every
# remaining neuron: *serial brute force*) with two cheap estimates from a Taylor series of the error (1st and 2nd
# order). Its claims: brute force removes 40-70% of the neurons of small sigmoid networks with little effect; the
# Taylor estimates fail early; re-ranking after every removal beats ranking once; and the decisions say something
# about how networks represent things (many neurons cancel each other out).
#
# **What you will learn**
#
# * how to remove a hidden neuron exactly (set its output to 0) and why trying every neuron, *serial brute force*,
#   is cheaper than it looks: a removal changes the next layer by a rank-1 term;
# * how a 1st- and a 2nd-order Taylor series estimate the change of the error, and where those estimates break;
# * why re-ranking the neurons after every removal (the paper's Algorithm II) beats ranking them once (Algorithm I);
# * how to read a pruning curve: how many neurons go before the accuracy falls 1 point, and which layer empties first;
# * where the paper's own equations and the authors' code disagree, and what that does to the paper's verdict.
#
# Reading and run times are printed just below the imports.
#
# **The plan.** (1) the method, with the algebra that makes brute force cheap, on a net you can check by hand;
# (2) the sigmoid / squared-error networks of the paper, trained here and cached; (3) why a removal can be
# estimated by a Taylor series, and where that breaks, on a real MNIST neuron; (4) the paper's experiments: a
# cosine regressor, 10-class MNIST nets with one and two hidden layers under both schedules; (5) the speed of
# vectorised versus naive brute force; (6) gain curves; (7) which layer brute force empties first; (8) two 2-D toy
# shapes, with the decision boundary as neurons go; (9) one-vs-all digit nets; (10) the authors' code variant of the
# Taylor criteria; (11) the paper-versus-reproduction table, what we learned and the deviations from the paper.
# Four exercises check themselves along the way.
#
# What this run finds is printed from its own numbers in section 11 (with 95% intervals over training seeds) and
# summed up in words under "What we learned". The Taylor criteria are computed two ways: with the paper's
# equations and as the authors' public code computes them (`legacy_taylor`: a backprop without the weights and a
# "take the largest score below the median" selection, listed under "Deviations from the paper").
#
# **Run it** with `make reproduce NOTEBOOK=04` (the quick profile: full MNIST, shortened training schedules, a few
# minutes on 2 CPU cores) or from Jupyter. `profile="smoke"` proves the code runs in under a minute on tiny subsets
# (numbers meaningless); `profile="paper"` uses the paper's longer training schedules and data sizes. Trained nets
# and pruning runs are cached under `cache/`.

# %% tags=[]
# In Colab: fetch the suite, install it and MNIST; anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    suite = "/content/pruning-suite"
    subprocess.run(["git", "clone", "-q", "https://github.com/pruning-suite/pruning-suite", suite], check=False)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", suite], check=True)
    subprocess.run([sys.executable, "-m", "pruning_lib.data"], check=True, cwd=suite)
    sys.path.insert(0, suite)

# %% tags=["parameters"]
import os

profile = os.environ.get("PRUNING_PROFILE", "quick")  # smoke | quick | paper
seed = 0
device = "auto"  # auto | cpu | cuda | mps
legacy_taylor = False  # True: the paper-style figures draw the Taylor criteria as the authors' Java code computes them
solutions = os.environ.get("PRUNING_SOLUTIONS") in ("1", "true")  # True: fill every exercise with its reference answer
bf_chunk = 2**20  # elements per chunk of the brute-force candidate tensor (speed and memory only, not results)
jobs = int(os.environ.get("PRUNING_JOBS", "0"))  # parallel workers for the plans of training and pruning (0: one per core)

# %% tags=["injected-parameters", "nbval-skip"]
# Parameters
profile = "quick"


# %% tags=[]
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import pruning_lib as pl
from pruning_lib.methods import neurons as nr
from pruning_lib.methods.neurons import experiments as ex

PROFILES = {  # data sizes and training lengths per profile (the recipes, the same in all: `ex.RECIPES`)
    "smoke": dict(cos_n=1000, cos_nets=[[1, 5, 5, 1], [1, 10, 10, 1]], cos_epochs=3, shape_draw=4000,
                  shape_test=2000, shape_net=[2, 8, 8, 1], shape_epochs=2, mnist_train=2000, mnist_test=500,
                  mnist_nets=[[784, 16, 10], [784, 8, 8, 10]], mnist_epochs=2, digit_net=[784, 16, 2],
                  digit_max_epochs=1, gain_n=1000, timing_n=500, timing_steps=3, mnist_seeds=2),
    "quick": dict(cos_n=10000, cos_nets=[[1, 10, 10, 1], [1, 50, 50, 1]], cos_epochs=50, shape_draw=40000,
                  shape_test=20000, shape_net=[2, 50, 50, 1], shape_epochs=40, mnist_train=None, mnist_test=None,
                  mnist_nets=[[784, 100, 10], [784, 50, 50, 10]], mnist_epochs=15, digit_net=[784, 100, 2],
                  digit_max_epochs=5, gain_n=10000, timing_n=5000, timing_steps=3, mnist_seeds=3),
    "paper": dict(cos_n=10000, cos_nets=[[1, 10, 10, 1], [1, 50, 50, 1]], cos_epochs=100, shape_draw=100000,
                  shape_test=100000, shape_net=[2, 50, 50, 1], shape_epochs=200, mnist_train=None, mnist_test=None,
                  mnist_nets=[[784, 100, 10], [784, 50, 50, 10]], mnist_epochs=50, digit_net=[784, 100, 2],
                  digit_max_epochs=5, gain_n=None, timing_n=5000, timing_steps=3, mnist_seeds=3),
}
USEFUL_BALANCED_ACC = 0.8  # a one-vs-all net enters the verdicts only at or above this training balanced accuracy
pl.checks.check_bool("legacy_taylor", legacy_taylor)
pl.checks.check_bool("solutions", solutions)
pl.checks.check_range("bf_chunk", bf_chunk, 2**10, 2**28, integer=True)
pl.checks.check_range("jobs", jobs, 0, 64, integer=True)  # 0: automatic
run = pl.setup_run("neurons", profile, PROFILES, seed=seed, device=device,
                   params={"legacy_taylor": legacy_taylor, "bf_chunk": bf_chunk, "solutions": solutions, "jobs": jobs})

# %% tags=[]
pl.timings.about("04_neuron_pruning")
COLD = not any(pl.cache.entries(k) for k in ("neurons-net", "neurons-prune"))  # none of our runs cached yet

# %% tags=[]
if "OMP_NUM_THREADS" not in os.environ:  # the timings (T7) are defined on 2 CPU cores
    torch.set_num_threads(min(2, os.cpu_count() or 1))
S, dev = run.settings, run.device
CRITERIA, SCHEDULES, TAYLOR = nr.CRITERIA, nr.SCHEDULES, ex.TAYLOR  # ("taylor1", "taylor2")
VARIANTS = ex.VARIANTS  # Taylor scores from the paper's equations ("paper"), or as the authors' Java code computes them
MAIN = "legacy" if legacy_taylor else "paper"  # the variant drawn in the paper-style figures
SHORT = {"paper": "eqs", "legacy": "code"}
NET_VERSION, PRUNE_VERSION = ex.NET_VERSION, ex.PRUNE_VERSION  # cache versions of trained nets / pruning runs
has_targets = profile != "smoke"  # smoke nets are too small for the targets
pd.set_option("display.precision", 4)
print(f"torch threads: {torch.get_num_threads()}, legacy_taylor={legacy_taylor}")
S

# %% [markdown] tags=[]
# ## 1 · The method
#
# **Net and error.** A fully connected net with a logistic sigmoid σ on every hidden and output unit:
# h₀ = x, a_l = W_l h_{l-1} + b_l, h_l = σ(a_l) ⊙ m_l, o = σ(a_L). The 0/1 vector m_l is the **neuron mask**:
# removing neuron k sets its output to 0, which deletes its outgoing weights and, in effect, its incoming weights
# and bias. The error is the sum of squared errors over the pruning set, E = Σ_n ½ Σ_i (o_ni − t_ni)². Only hidden
# neurons are removed, all layers compete in one global ranking, nothing is retrained, and the run goes on until
# every hidden neuron is gone, recording the whole curve.
#
# **Criteria.** Each one gives ΔE_k, the (estimated) change of E when neuron k goes; the smallest signed ΔE goes
# first, so a removal that *lowers* the error is taken first.
#
# * **Brute force (BF)**: ΔE_k = E(m with k off) − E(m), exact.
# * **1st order** ("Skeletonization"): write the neuron's output as O_k. Removing it moves O_k to 0, so a Taylor
#   series of E in O_k around the trained value, evaluated at O_k = 0, gives
#   ΔE¹_k = Σ_n −O_{n,k} ∂E_n/∂O_k.
# * **2nd order**: one more term, ΔE²_k = ΔE¹_k + ½ Σ_n O_{n,k}² ∂²E_n/∂O_k².
#
# The derivatives come from one backward pass. ∂E/∂O is the ordinary gradient. For the second derivative the
# paper back-propagates only the diagonal of the Hessian:
#
# ```
# δ_L = (o − t) ⊙ σ'(a_L)                 s_L = σ'(a_L)² + (o − t) ⊙ σ''(a_L)
# for l = L−1 … 1:   g_l = W_{l+1}ᵀ δ_{l+1}            (∂E_n/∂h_l, exact)
#                    H_l = (W_{l+1} ⊙ W_{l+1})ᵀ s_{l+1} (∂²E_n/∂h_l², diagonal recursion)
#                    δ_l = m_l ⊙ g_l ⊙ σ'(a_l)          s_l = m_l ⊙ (H_l ⊙ σ'(a_l)² + g_l ⊙ σ''(a_l))
# ```
#
# For the last hidden layer H is exact (every output pre-activation is linear in h). For earlier layers the
# recursion drops the cross terms ∂²E/∂a_i∂a_k: that is the paper's "diagonal Hessian" assumption.
#
# **Schedules.** *Algorithm I* (single overall ranking) scores once and removes in that order. *Algorithm II*
# (iterative re-ranking) re-scores every remaining neuron after every removal. Algorithm II with brute force is
# the paper's *serial brute force*.
#
# **Making brute force cheap.** Done naively, serial brute force on K neurons costs K(K+1)/2 full forward
# passes. But removing neuron k of layer l changes only the next pre-activation, by a rank-1 term:
# a_{l+1} → a_{l+1} − h_l[:, k] W_{l+1}[:, k]ᵀ. So `nr.bf_scores` caches the activations once (the 784-wide
# input product is computed a single time per data set), builds the next pre-activation of *every* candidate at
# once as a (width × candidates × samples) tensor, pushes it through the layers above and sums the squared
# errors: float32 arithmetic, float64 sums, in chunks of `bf_chunk` elements. `nr.bf_scores_naive` is the
# one-forward-pass-per-candidate reference; section 5 checks that both give the same removal order and times them.
#
# Here is all of it on a net small enough to check by hand: 2 inputs, 3 sigmoid hidden neurons, 1 output,
# fixed weights, four samples. The table gives, per hidden neuron, the true ΔE and the two Taylor estimates.

# %% tags=["nbval-check-output"]
toy = nr.SigmoidMLP([2, 3, 1]).double()
with torch.no_grad():
    toy.layers[0].weight.copy_(torch.tensor([[3.0, -2.0], [-4.0, 1.0], [1.0, 1.0]]))
    toy.layers[0].bias.copy_(torch.tensor([0.5, 1.0, -1.0]))
    toy.layers[1].weight.copy_(torch.tensor([[4.0, -3.0, 0.5]]))
    toy.layers[1].bias.copy_(torch.tensor([-0.5]))
Xtoy = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
Ttoy = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=torch.float64)
print(f"E(all on) = {nr.error(toy, Xtoy, Ttoy):.4f}")
pd.DataFrame({
    "true ΔE (brute force)": nr.bf_scores(toy, Xtoy, Ttoy)[0].numpy(),
    "ΔE¹ (1st order)": nr.taylor_scores(toy, Xtoy, Ttoy, order=1)[0].numpy(),
    "ΔE² (2nd order)": nr.taylor_scores(toy, Xtoy, Ttoy, order=2)[0].numpy(),
}, index=pd.Index([0, 1, 2], name="hidden neuron")).round(4)

# %% [markdown] tags=[]
# Even here the estimates can be far off: the error is a sigmoid of a weighted sum, not a parabola, and a neuron
# whose output is large sits far from the point the series expands around. Counting is simple, because a removed
# neuron takes its incoming weights, its bias and its outgoing weights with it. For the two MNIST nets of the
# paper:

# %% tags=["nbval-check-output"]
rows = []
for sizes, removed in [([784, 100, 10], []), ([784, 100, 10], range(50)), ([784, 50, 50, 10], []),
                       ([784, 50, 50, 10], [*range(25), *range(50, 75)]), ([784, 50, 50, 10], range(50, 100))]:
    masks = nr.masks_from_removed(sizes, removed)
    c = nr.param_counts(sizes, masks)
    rows.append({"net": "-".join(map(str, sizes)), "neurons left per hidden layer": [int(m.sum()) for m in masks],
                 "weights left": c["weights_nonzero"], "parameters left": c["params_nonzero"],
                 "compression (weights)": round(c["compression_weights"], 2)})
pd.DataFrame(rows)

# %% [markdown] tags=[]
# ### Exercise 1 · Brute force by hand (coding, about 10 minutes)
#
# Write `bf_by_hand(net, X, T, k)`: the exact change of the SSE, E(without k) − E(with k), when hidden neuron k
# of a one-hidden-layer sigmoid net is removed. Use plain tensor operations: the weights are
# `net.layers[0].weight`, `net.layers[0].bias` (input to hidden) and `net.layers[1].weight`, `net.layers[1].bias`
# (hidden to output), and E = ½ Σ_n Σ_i (o_ni − t_ni)². The check compares your number, for every neuron of two
# small nets, with the library's rank-1 brute force `nr.bf_scores` and with one masked forward pass per neuron.
# Hint: removing a neuron sets its *output* to 0; zeroing its incoming weights is not the same (σ(b) ≠ 0). You can
# take its term h_k W₂[:, k] out of the output pre-activation, which is what the library's rank-1 trick does.

# %% tags=[]
def bf_by_hand(net, X, T, k):
    """Exact change of the SSE when hidden neuron k of a one-hidden-layer sigmoid net is removed (a float)."""
    raise NotImplementedError  # your code here


if solutions:
    bf_by_hand = pl.exercises.solution("neurons", "bf_by_hand")

# %% tags=["exercise"]
pl.exercises.neurons.check_neuron_bf_by_hand(bf_by_hand)

# %% [markdown] tags=[]
# ### Exercise 2 · The 2nd-order Taylor estimate by hand (formula, about 15 minutes)
#
# Write `taylor2_by_hand(net, X, T, k)`: the paper's 2nd-order estimate ΔE²_k = Σ_n (−O_nk g_nk + ½ O_nk² H_nk) for
# hidden neuron k of a one-hidden-layer sigmoid net, where O_nk is the neuron's output on sample n,
# g_nk = ∂E_n/∂O_k = Σ_i δ_ni W₂[i, k] with δ = (o − t) σ'(a), and H_nk = ∂²E_n/∂O_k² = Σ_i W₂[i, k]² s_ni with
# s = σ'(a)² + (o − t) σ''(a) (the paper's Eqs. 1-4 and its appendix, written out in section 1 above). The check
# compares your number with the library's `nr.taylor_scores(net, X, T, order=2)` on two small nets, for every
# neuron, and prints brute force beside it. Hint: σ' = σ(1 − σ) and σ'' = σ'(1 − 2σ), with σ(a) = o.

# %% tags=[]
def taylor2_by_hand(net, X, T, k):
    """The paper's 2nd-order estimate of the SSE change when hidden neuron k is removed (a float)."""
    raise NotImplementedError  # your code here


if solutions:
    taylor2_by_hand = pl.exercises.solution("neurons", "taylor2_by_hand")

# %% tags=["exercise"]
pl.exercises.neurons.check_neuron_taylor2_by_hand(taylor2_by_hand)

# %% [markdown] tags=[]
# ## 2 · Data and networks
#
# Every network is trained once per (profile, seed) and cached; a rerun loads it. The data sets, nets and cached
# runs are defined in the library (`pruning_lib.methods.neurons.experiments`, here `ex`), so that a plan of tasks
# trains all nets in parallel workers (`jobs`, one per core by default) before the cells below read them. Recipes (with
# the deviations from the paper listed at the end):
#
# * **cosine**: x ~ U[0, 1), t = cos x; nets 1-10-10-1 and 1-50-50-1; weights and biases U(−1, 1); Adam on the
#   mean per-sample squared error, learning rate 0.01, batch 100; a fresh test set of the same size.
# * **diamond** (label 1 iff |x₁| + |x₂| < 0.7) and **random shape** (a seeded 12-vertex star polygon): balanced
#   training sets (all positives among N uniform points plus as many negatives), uniform test points; 2-50-50-1
#   nets, U(−1, 1), Adam 0.003, batch 64.
# * **MNIST 10-class**: all 60,000 training and 10,000 test images of 28 × 28 pixels, scaled to [0, 1], one-hot
#   targets; 784-100-10 and 784-50-50-10 with PyTorch's default initialisation, Adam 0.003, batch 100.
# * **one-vs-all** digits 0, 1, 2: raw pixels 0-255, targets (1, 0) for the digit and (0, 1) otherwise, 784-100-2,
#   U(−1, 1), plain SGD on 600-image batches at learning rate 0.3 (the authors' 5e-4 on the summed gradient),
#   stopped at the first check (every 10 batches) whose training accuracy reaches 95%, at most 5 epochs:
#   deliberately under-trained. Each image's squared error is weighted so that the digit and the rest carry half
#   the loss each (class-balanced, our addition): on the plain SSE the digit-2 net sat on the plateau of the
#   trivial answer "not a 2" for 20 epochs, its accuracy equal to the share of non-2 images (a side study on the
#   training set, before any pruning). **Rule, fixed before the run:** a one-vs-all net enters the verdicts only if
#   its *training* balanced accuracy (the mean of the two per-class hit rates; a constant answer scores 0.5) is at
#   least 0.8; the table also sets its test accuracy beside the share of the majority class.
#
# The two MNIST 10-class nets are trained from `mnist_seeds` seeds (`seed`, `seed` + 1, …: initialisation and
# batch order), and every Algorithm II run and the Algorithm I brute-force run are repeated on each, so that the
# counts the verdicts rest on come with a 95% interval over seeds (Student t, `pl.stats.mean_interval`). The
# figures show the first seed. The other nets have one seed; their counts have no interval.
#
# Curves are measured on the training set (the pruning set, as the authors did), with the test set along the same
# removal order as our addition. No choice in this notebook reads a test curve.

# %% tags=[]
with run.timed("data"):
    sets = ex.data_sets(S, seed, dev)  # the same function builds them in every worker of the plans below
    mnist, cos_data, shapes, digits = sets["mnist"], sets["cosine"], sets["shapes"], sets["digits"]
    polygon, outlines, DIAMOND = sets["polygon"], sets["outlines"], ex.DIAMOND
sizes_table = {"mnist": {k: len(v[0]) for k, v in mnist.items()}, "cosine": {k: len(v[0]) for k, v in cos_data.items()},
               **{n: {k: len(v[0]) for k, v in d.items()} for n, d in shapes.items()}}
print("examples per set:", sizes_table)

# %% tags=[]
NETS = ex.nets(S, sets)  # net id -> (family, sizes, data)
SEEDS = ex.seeds(S, seed)


def net_config(net_id, s=seed):
    """The cache key of a trained net (`ex.net_config`)."""
    return ex.net_config(net_id, S, NETS, s)


# %% tags=[]
def train_net(net_id, s=seed):
    """(net, payload, cache hit): read from the cache the plan below fills (`ex.train_net`)."""
    net, payload, hit = ex.train_net(net_id, S, NETS, s, dev)
    run.cache_hits[f"net_{net_id}" + (f"_seed{s}" if s != seed else "")] = hit
    return net, payload, hit


# %% tags=[]
def describe_net(net_id, net, payload, hit):
    """Sizes, accuracy and SSE on both sets, counts, training time; one-vs-all nets add their usefulness."""
    data = NETS[net_id][2]
    info = {
        "sizes": NETS[net_id][1], "K": sum(net.hidden_sizes),
        "train_acc": nr.mlp_accuracy(net, *data["train"]), "test_acc": nr.mlp_accuracy(net, *data["test"]),
        "sse0_train": nr.error(net, *data["train"]), "sse0_test": nr.error(net, *data["test"]),
        **{k: nr.param_counts(net)[k] for k in ("weights", "params")},
        "train_seconds": payload["seconds"], "cache_hit": hit,
    }
    if NETS[net_id][0] == "digit":
        steps_done = payload["history"].get("step") or [0]
        n_test = len(data["test"][0])
        lo, hi = pl.stats.wilson(round(info["test_acc"] * n_test), n_test)
        info |= {"train_steps": int(steps_done[-1]), "train_balanced_acc": nr.balanced_accuracy(net, *data["train"]),
                 "test_balanced_acc": nr.balanced_accuracy(net, *data["test"]), "test_acc_interval": [lo, hi],
                 "test_majority_share": float(data["test"][1][:, 1].mean())}
        info["useful"] = info["train_balanced_acc"] >= USEFUL_BALANCED_ACC
    return info


# %% tags=[]
run.plan("nets", ex.net_tasks(S, seed, dev), jobs)
with run.timed("train"):
    nets, seed_nets, net_info = {}, {}, {}
    for net_id in pl.train.progress(NETS, desc="nets", leave=True):
        for s in SEEDS[net_id]:
            seed_nets[net_id, s], payload, hit = train_net(net_id, s)
            if s != seed:
                continue
            nets[net_id] = seed_nets[net_id, s]
            net_info[net_id] = describe_net(net_id, nets[net_id], payload, hit)
nets_table = pd.DataFrame(net_info).T[["sizes", "K", "train_acc", "test_acc", "sse0_train", "sse0_test", "weights",
                                       "params", "train_seconds", "cache_hit"]]
print("MNIST 10-class nets trained from seeds", SEEDS["mnist_100"], "(the table shows the first)")
nets_table

# %% tags=[]
digit_table = pd.DataFrame({d: {k: net_info[d][k] for k in (
    "train_steps", "train_acc", "train_balanced_acc", "test_acc", "test_acc_interval", "test_majority_share",
    "test_balanced_acc", "useful")} for d in digits}).T
print(f"one-vs-all nets: a net enters the verdicts only if its training balanced accuracy is >= {USEFUL_BALANCED_ACC}")
digit_table

# %% [markdown] tags=[]
# ## 3 · Why a Taylor series can estimate a removal, and where it breaks
#
# Scale one neuron's output by a gain α: α = 1 is the trained net, α = 0 removes the neuron. The error along that
# line, E(α), is a smooth curve; the 1st-order criterion replaces it by its tangent at α = 1 and reads the tangent
# at α = 0, the 2nd-order criterion uses the parabola through α = 1 with the right slope and curvature:
#
# Ê¹(α) = E(1) + (α − 1) D₁,  Ê²(α) = Ê¹(α) + ½ (α − 1)² D₂, with D₁ = Σ_n O g = −ΔE¹ and D₂ = Σ_n O² H.
#
# Both are exact only if E(α) is a straight line or a parabola between 0 and 1. The figure shows E(α) for two
# real neurons of the trained 784-100-10 net (its only hidden layer is the last one, so D₂ here is the exact
# curvature): the neuron whose true ΔE is the median of all its neurons, and the neuron where the 2nd-order estimate is
# worst. The true curve comes from `nr.gain_curve` (the same rank-1 trick with α − 1 in place of −1).

# %% tags=[]
with run.timed("intuition"):
    net = nets["mnist_100"]
    X, T = mnist["train"]
    true_dE = nr.bf_scores(net, X, T, chunk=bf_chunk)[0].cpu()
    dE1 = nr.taylor_scores(net, X, T, order=1)[0].cpu()
    dE2 = nr.taylor_scores(net, X, T, order=2)[0].cpu()
    E_full = nr.error(net, X, T)
    picks = {"median true ΔE": int(torch.argsort(true_dE, stable=True)[len(true_dE) // 2]),
             "worst 2nd-order estimate": int((dE2 - true_dE).abs().argmax())}
    alphas = torch.arange(0, 201) / 100
    curves = {k: nr.gain_curve(net, X, T, None, (0, j), alphas, chunk=bf_chunk).cpu() for k, j in picks.items()}

fig = pl.plots.neurons.taylor_intuition_figure(picks, alphas, curves, E_full, true_dE, dE1, dE2)
run.save_figure(fig, "taylor_intuition")
plt.show()
est = pd.DataFrame({"true": true_dE.numpy(), "1st": dE1.numpy(), "2nd": dE2.numpy()})
rank_corr = est.corr(method="spearman")["true"].drop("true")
print("rank correlation with the true ΔE over all", len(true_dE), "neurons:", rank_corr.round(3).to_dict())
print("neurons whose removal lowers E (true ΔE < 0):", int((true_dE < 0).sum()), "of", len(true_dE))


# %% [markdown] tags=[]
# A neuron's output is far from zero on most images, so α = 0 is a long way from the expansion point; where the
# curve bends, tangent and parabola miss, sometimes even in sign. The rank correlation printed above is what the
# ranking cares about: a criterion only needs to order the neurons correctly, not to get ΔE right.

# %% [markdown] tags=[]
# ### Exercise 3 · Does the 1st-order estimate rank neurons as brute force does? (predict, then measure, about 5 minutes)
#
# Take a small 2-6-1 sigmoid net that sits near a minimum of its error, like a trained net (its targets are its own
# outputs plus a little noise). Rank its six neurons once by the true ΔE (brute force) and once by the 1st-order
# estimate ΔE¹. Before you run anything, predict what you will see: do the two rankings agree completely, pick the
# same first neuron but differ later, or disagree already on the first neuron? Set `prediction` to one of
# `"same order"`, `"same first neuron, different order"`, `"different first neuron"`. The check measures the three
# rankings (brute force, 1st and 2nd order) and explains the outcome. Hint: what is the gradient of the error at a
# minimum, and what does that leave of the term −O ∂E/∂O?

# %% tags=[]
prediction = None  # "same order" | "same first neuron, different order" | "different first neuron"

if solutions:
    prediction = pl.exercises.solution("neurons", "prediction")

# %% tags=["exercise"]
pl.exercises.neurons.check_first_order_ranking_prediction(prediction)

# %% [markdown] tags=[]
# ## 4 · Serial pruning of every network
#
# For every net, each criterion runs under Algorithm II (re-ranking); the two MNIST 10-class nets also run under
# Algorithm I. The two Taylor criteria run twice: with the paper's equations and as the authors' code computes them
# (`legacy`, section 10). Every run on the first seed removes all K hidden neurons and records the training and test
# error and accuracy after each removal. On the other MNIST seeds the Algorithm II runs and the Algorithm I
# brute-force run are repeated as *count runs*: they stop at the first removal that costs more than 1 point of
# training accuracy (all `n_1pp` needs) and record no test curve. Runs are cached under a key that includes a
# hash of the trained weights and of the data, so a retrained net or a changed data set is never paired with a
# stale run. Like the training, the runs are one plan of tasks run by parallel workers; the loop then reads them.

# %% tags=[]
def key(schedule, criterion, variant=MAIN):
    """Summary key of a run: 'rerank/bf', 'rerank/taylor2/paper', 'single/taylor1/legacy', ..."""
    return ex.prune_key(schedule, criterion, variant)


def prune_cached(net_id, s, schedule, criterion, variant):
    """One cached run (`ex.prune_run`); on the extra seeds only a count run (stopped 1 point down, no test curve)."""
    r, hit = ex.prune_run(net_id, S, NETS, seed_nets[net_id, s], s, seed, schedule, criterion, variant, bf_chunk)
    run.cache_hits[f"prune_{net_id}_{key(schedule, criterion, variant).replace('/', '_')}"
                   + (f"_seed{s}" if s != seed else "")] = hit
    return r


# %% tags=[]
run.plan("pruning", ex.prune_tasks(S, seed, dev, bf_chunk), jobs)  # every run below, in parallel workers
PLAN = [(net_id, s, job) for net_id in NETS for s in SEEDS[net_id] for job in ex.runs_of(NETS[net_id][0], s, seed)]
all_runs = {}
bar = pl.train.progress(total=len(PLAN), desc="pruning runs", leave=True)
for net_id in NETS:
    with run.timed(f"prune_{net_id}"):
        for n_, s, (sch, c, v) in PLAN:
            if n_ == net_id:
                all_runs[net_id, s, key(sch, c, v)] = prune_cached(net_id, s, sch, c, v)
                bar.update(1)
bar.close()
runs = {n: {(sch, c): all_runs[n, seed, key(sch, c)] for sch in SCHEDULES for c in CRITERIA
            if (n, seed, key(sch, c)) in all_runs} for n in NETS}  # first seed, the figures' Taylor variant
pd.DataFrame({f"{n} seed {s} {k}": {"K": len(r.order), "seconds": r.seconds}
              for (n, s, k), r in all_runs.items()}).T.head(12)


# %% tags=[]
def summary(r):
    """n_1pp, n_5pp, n_sse5 and n_sse2x on the training and the test curves of one run."""
    return {"train": nr.curve_summary(r.sse, r.acc),
            "test": nr.curve_summary(r.eval_curves["test"]["sse"], r.eval_curves["test"]["acc"])}


summaries = {n: {k: summary(r) for (n_, s, k), r in all_runs.items() if n_ == n and s == seed} for n in NETS}
per_seed = {n: {k: [nr.n_within(all_runs[n, s, k].acc, 0.01) for s in SEEDS[n]] for (n_, s0, k) in all_runs
                if n_ == n and s0 == seed and all((n, s, k) in all_runs for s in SEEDS[n])} for n in NETS}
# sanity: same endpoints for every criterion; greedy BF is the best first removal
for (net_id, s, k), r in all_runs.items():
    ref = all_runs[net_id, s, "rerank/bf"]
    K = net_info[net_id]["K"]
    if s == seed:  # full runs
        assert len(r.sse) == len(r.acc) == len(r.eval_curves["test"]["acc"]) == K + 1, (net_id, s, k)
        assert sorted(r.order) == list(range(K)), (net_id, s, k)
        assert r.sse[-1] == ref.sse[-1], (net_id, s, k)
    else:  # count runs: stopped at the first removal 1 point down (or at K)
        assert len(r.sse) == len(r.acc) == len(r.order) + 1 and len(set(r.order)) == len(r.order), (net_id, s, k)
        assert r.acc[-1] < r.acc[0] - 0.01 or len(r.order) == K, (net_id, s, k)
    assert r.sse[0] == ref.sse[0], (net_id, s, k)
    assert ref.sse[1] <= r.sse[1] * (1 + 1e-6), (net_id, s, k, ref.sse[1], r.sse[1])
print(f"checked {len(all_runs)} runs: full runs have curves of length K+1, orders are permutations, equal "
      "endpoints; count runs stop 1 point down; BF's first removal is the best")

# %% [markdown] tags=[]
# ### 4.1 · Cosine regression (paper Fig. 2)
#
# Two small nets learn t = cos x on [0, 1). The paper reports that serial brute force can remove almost every
# neuron beyond the 10-11 that the smaller net "always uses", because the rest cancel each other's influence.
#
# The SSE of these nets spans several decades, so the figure uses a log axis, and so must a count read off it. The
# count `n_sse5` (neurons before the SSE has risen 5% of its *total* rise, SSE(K) − SSE(0)) waits until the SSE
# is thousands of times its start: on 1-50-50-1 it credited the 2nd-order criterion with more neurons than brute
# force while its curve lay far above brute force's for most of the run. It stays in the table (the paper's numbers were read with it), but
# the comparison uses `n_sse2x`, the neurons removed before the SSE first doubles (a log-ratio threshold), and the
# median distance in decades between a criterion's curve and brute force's.

# %% tags=[]
fig = pl.plots.neurons.cosine_figure(runs, net_info)
run.save_figure(fig, "cosine")
plt.show()
cosine_table = pd.DataFrame({
    (n, pl.plotting.label(c) + ("" if c == "bf" else f" ({v})")): {
        "n_sse2x (before SSE doubles)": summaries[n][key("rerank", c, v)]["train"]["n_sse2x"],
        "n_sse5 (5% of the total rise)": summaries[n][key("rerank", c, v)]["train"]["n_sse5"],
        "decades above BF (median over steps)": nr.decades_above(all_runs[n, seed, key("rerank", c, v)].sse,
                                                                 runs[n]["rerank", "bf"].sse)}
    for n in ["cos_10x10", "cos_50x50"] for c, v in [("bf", None)] + [(c, v) for v in VARIANTS for c in TAYLOR]}).T
cosine_table

# %% [markdown] tags=[]
# ### 4.2 · MNIST, 10 classes: single ranking (Alg. I) versus re-ranking (Alg. II) (paper Figs. 3-4, 8-9)
#
# Rows: 784-100-10 and 784-50-50-10. Columns: SSE over the whole run (log scale), the same SSE zoomed on the first
# removals (linear scale), accuracy over the whole run, and accuracy zoomed on the first removals; training solid,
# test dashed. The verdicts are read in the zoomed panels: how many neurons go before the training accuracy falls
# below the dotted line 1 point under its start. The grey band in each full-range panel marks the zoomed range.

# %% tags=[]
for schedule, fname in (("single", "mnist_single_ranking"), ("rerank", "mnist_rerank")):
    fig = pl.plots.neurons.mnist_figure(runs, net_info, schedule)
    run.save_figure(fig, fname)
    plt.show()

# %% tags=[]
RUN_COLS = [("bf", None)] + [(c, v) for v in VARIANTS for c in TAYLOR]
col_name = lambda c, v: pl.plotting.label(c) + ("" if c == "bf" else f" ({v})")  # noqa: E731


def with_interval(values):
    """'37' for one seed, '37.3 [33.1, 41.5]' (mean, 95% t-interval over seeds) for several."""
    iv = pl.stats.mean_interval(values)
    return f"{values[0]}" if iv is None else f"{np.mean(values):.1f} [{iv[0]:.1f}, {iv[1]:.1f}]"


mnist_table = pd.DataFrame({
    (net_id, sch): {col_name(c, v): with_interval(per_seed[net_id][key(sch, c, v)])
                    if key(sch, c, v) in per_seed[net_id] else summaries[net_id][key(sch, c, v)]["train"]["n_1pp"]
                    for c, v in RUN_COLS}
    for net_id in ["mnist_100", "mnist_50x50"] for sch in SCHEDULES}).T
print("neurons removed before training accuracy drops more than 1 point (n_1pp); with several seeds: mean [95% "
      f"interval] over seeds {SEEDS['mnist_100']} (Alg. I Taylor runs: first seed only)")
mnist_table

# %% [markdown] tags=[]
# ### Exercise 4 · Serial brute force with re-ranking (coding, about 10 minutes)
#
# The figures above show re-ranking (Algorithm II) beating a single ranking (Algorithm I). Write
# `rerank_order(net, X, T, n)`: the global ids (layer by layer, `nr.neuron_ids(net.sizes)` maps an id to
# (layer, index)) of the first `n` neurons serial brute force removes. Start from `masks = net.full_masks()`; at
# every step score all neurons with `nr.bf_scores(net, X, T, masks)` (one tensor per hidden layer), take the
# alive neuron with the smallest ΔE (the lowest id on a tie), switch it off in `masks` and repeat. The check
# compares your order with the library's `nr.serial_prune(net, X, T, "bf", "rerank")` on two small nets and
# prints the SSE after each removal for both schedules. Hint: `nr.bf_scores` gives removed neurons a score of 0,
# which can be the smallest: set them to +inf before taking the minimum.

# %% tags=[]
def rerank_order(net, X, T, n):
    """Global ids of the first n neurons that serial brute force removes, re-scoring after every removal."""
    raise NotImplementedError  # your code here


if solutions:
    rerank_order = pl.exercises.solution("neurons", "rerank_order")

# %% tags=["exercise"]
pl.exercises.neurons.check_rerank_order(rerank_order)

# %% [markdown] tags=[]
# ### 4.3 · Paper versus reproduction, curve by curve
#
# The paper's numbers were read off its v1 figures (`pl.reference.WOLFE2017_TABLE`): neurons removed before the
# SSE has risen by 5% of its total rise (`n_sse5`), and before the accuracy falls 1 or 5 points (`n_1pp`, `n_5pp`).
# The paper's MNIST nets are 400-input nets on a 4,500-image subset and its Taylor curves come from the authors'
# code (see the deviations at the end), so only the shape of the comparison transfers, not the exact counts. Our Taylor
# counts are given for both variants; the first seed throughout.

# %% tags=[]
paper = pl.reference.wolfe_table()
our_run = []
for _, p in paper.iterrows():
    row = {}
    for v in VARIANTS:
        sm = summaries[p["net"]][key(p["schedule"], p["criterion"], v)]["train"]
        cls = not p["net"].startswith("cos")
        row |= {f"{m} our run ({SHORT[v]})": sm[m] if cls or m == "n_sse5" else None for m in ("n_sse5", "n_1pp", "n_5pp")}
    our_run.append(row)
versus = pd.concat([paper, pd.DataFrame(our_run)], axis=1)[
    ["net", "schedule", "criterion", "K"] + [f"{m}{t}" for m in ("n_sse5", "n_1pp", "n_5pp")
                                             for t in ("", " our run (eqs)", " our run (code)")]]
print("source:", paper.attrs["source"], "| 'our run (eqs)' / 'our run (code)': this run with the Taylor scores of the paper's "
      "equations / of the authors' code (the same for brute force)")
versus

# %% [markdown] tags=[]
# ## 5 · Speed: vectorised versus naive brute force
#
# The whole serial brute-force run of section 4 on 784-100-10 evaluates 100 + 99 + … + 1 = 5,050 candidate removals over
# every training image. Its time (from the run above, or from the cache that stored it) is the performance target
# T7. To measure the speedup, the first Algorithm II steps run both ways on the first training images: the naive
# loop does one full masked forward pass per candidate, as the authors' code did.

# %% tags=[]
with run.timed("naive_vs_vectorised"):
    net = nets["mnist_100"]
    Xs, Ts = mnist["train"][0][: S["timing_n"]], mnist["train"][1][: S["timing_n"]]
    t0 = time.perf_counter()
    naive = nr.serial_prune(net, Xs, Ts, "bf", "rerank", naive=True, steps=S["timing_steps"], progress_bar=False)
    naive_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    vec = nr.serial_prune(net, Xs, Ts, "bf", "rerank", steps=S["timing_steps"], chunk=bf_chunk, progress_bar=False)
    vec_s = time.perf_counter() - t0
assert naive.order == vec.order, (naive.order, vec.order)
assert np.allclose(naive.sse, vec.sse, rtol=1e-5), (naive.sse, vec.sse)

# %% tags=[]
bf_full = runs["mnist_100"]["rerank", "bf"]
K100 = net_info["mnist_100"]["K"]
n_cand = sum(K100 - i for i in range(S["timing_steps"]))
naive_full_est = naive_s / n_cand / len(Xs) * (K100 * (K100 + 1) / 2) * len(mnist["train"][0])
perf = {"bf_rerank_mnist_100_s": bf_full.seconds, "bf_rerank_from_cache": run.cache_hits.get("prune_mnist_100_rerank_bf"),
        "naive_subset_s": naive_s, "vectorised_subset_s": vec_s, "speedup": naive_s / vec_s,
        "subset_images": len(Xs), "subset_steps": S["timing_steps"], "subset_candidates": n_cand,
        "naive_full_run_estimate_s": naive_full_est, "torch_threads": torch.get_num_threads()}
print(f"full serial brute force (Alg. II), {'-'.join(map(str, net_info['mnist_100']['sizes']))}, "
      f"{len(mnist['train'][0]):,} images: {bf_full.seconds:.1f} s "
      f"({'measured when it was computed; loaded from cache now' if perf['bf_rerank_from_cache'] else 'measured now'}, "
      f"{torch.get_num_threads()} torch threads)")
print(f"first {S['timing_steps']} steps ({n_cand} candidates) on {len(Xs):,} images: naive {naive_s:.2f} s, "
      f"vectorised {vec_s:.3f} s -> speedup {naive_s / vec_s:.0f}x; identical removal orders {vec.order}")
print(f"the naive loop would need about {naive_full_est / 60:.0f} min for the full run")

# %% [markdown] tags=[]
# ## 6 · Gain curves (paper Figs. 5-7, 10-12)
#
# Along each Algorithm II run, take the neuron removed at step 0, K/10, 2K/10, …, keep the earlier removals off,
# and sweep its gain α from 0 to 10. A good candidate has a low, flat curve between α = 1 and α = 0; a steep rise
# for α > 1 marks an influential neuron. Brute force picks neurons whose curves are flat at the left; the Taylor
# criteria only see the slope and curvature at α = 1.

# %% tags=[]
with run.timed("gain"):
    gain_alphas = torch.arange(0, 101) / 10
    n_gain = S["gain_n"] or len(mnist["train"][0])
    gains = {}
    for net_id in ["mnist_100", "mnist_50x50"]:
        X, T = mnist["train"][0][:n_gain], mnist["train"][1][:n_gain]
        K = net_info[net_id]["K"]
        steps = sorted({round(j * K / 10) for j in range(10)})
        for c in CRITERIA:
            r = runs[net_id]["rerank", c]
            gains[net_id, c] = {st: nr.gain_curve(nets[net_id], X, T, [m.to(dev) for m in r.masks_after(st)],
                                                  r.order[st], gain_alphas, chunk=bf_chunk).cpu().numpy()
                                for st in steps}

fig = pl.plots.neurons.gain_curves_figure(gains, gain_alphas, net_info, n_gain)
run.save_figure(fig, "gain_curves")
plt.show()

# %% [markdown] tags=[]
# ## 7 · Which layer goes first?
#
# The paper reports that brute force removes mostly from the deepest layer first, while the Taylor criteria show
# no clear preference. On 784-50-50-10 under Algorithm II, each row below colours every removal step by the layer
# of the neuron removed, and the curve gives the running fraction of removals taken from hidden layer 2 (the
# layer next to the output).

# %% tags=[]
net_id = "mnist_50x50"
K = net_info[net_id]["K"]
layer_pref = {c: nr.share_from_layer(runs[net_id]["rerank", c].layers, 1, max(1, K // 4))
              if len(net_info[net_id]["sizes"]) > 3 else None for c in CRITERIA}
fig = pl.plots.neurons.layer_preference_figure(runs[net_id], net_info[net_id]["sizes"])
run.save_figure(fig, "layer_preference")
plt.show()
print("fraction of the first K/4 removals taken from hidden layer 2:", {c: round(v, 2) for c, v in layer_pref.items()})

# %% [markdown] tags=[]
# ## 8 · Two-dimensional toys: diamond and random shape (paper Fig. 25)
#
# A 2-50-50-1 net classifies points of [−1, 1]² as inside or outside a shape. Left: the training data and the true
# outline; middle and right: SSE and accuracy as neurons go (training solid, test dashed).

# %% tags=[]
fig = pl.plots.neurons.toys_figure(shapes, outlines, runs, net_info)
run.save_figure(fig, "toys")
plt.show()

# %% [markdown] tags=[]
# How brute force takes the diamond net apart: the region where the net says "inside" (o > 0.5) after removing
# 0, 25, 50, 60 and 75% of its hidden neurons in the Algorithm II brute-force order.

# %% tags=[]
fig = pl.plots.neurons.diamond_boundaries_figure(nets["diamond"], runs["diamond"]["rerank", "bf"], DIAMOND, dev)
run.save_figure(fig, "diamond_boundaries")
plt.show()

# %% [markdown] tags=[]
# ## 9 · Under-trained one-vs-all nets (paper Figs. 13, 17, 21)
#
# Each 784-100-2 net separates one digit from the rest on raw pixels and was stopped as soon as it reached 95%
# training accuracy (or after 5 epochs). The paper observes that brute-force removal first *lowers* the error of
# such nets: many neurons do more harm than good. A net below the usefulness rule of section 2 (training balanced
# accuracy < 0.8) is shown but left out of the verdict.

# %% tags=[]
digit_stats = {name: {"sse0": runs[name]["rerank", "bf"].sse[0], "sse_bf_1": runs[name]["rerank", "bf"].sse[1],
                      "n_below_start": nr.n_below_start(runs[name]["rerank", "bf"].sse),
                      "train_steps": net_info[name].get("train_steps"), "useful": net_info[name]["useful"]}
               for name in ["digit0", "digit1", "digit2"]}
fig = pl.plots.neurons.single_digit_figure(runs, net_info)
run.save_figure(fig, "single_digit")
plt.show()
pd.DataFrame(digit_stats).T

# %% [markdown] tags=[]
# ## 10 · The authors' code ("legacy Taylor") on every net
#
# The authors' Java code computes the Taylor scores differently from the paper: its hidden-layer
# backprop omits the weights, its 1st-order term uses ∂E/∂a instead of ∂E/∂O, its output second derivative drops
# σ'², and it selects the *largest* score (Alg. I) or the largest among neurons with |score| ≤ median (Alg. II).
# Both variants ran on every net in section 4 (brute force is the same in both). Below, Algorithm II on every net:
# brute force, and the two Taylor criteria with the paper's equations (solid) and as the authors' code has them
# (dashed); accuracy for the classifiers, SSE (log) for the cosine regressors.

# %% tags=[]
variant_runs = {n: {(c, v): all_runs[n, seed, key("rerank", c, v)] for c, v in RUN_COLS} for n in NETS}
fig = pl.plots.neurons.taylor_variants_figure(variant_runs, net_info)
run.save_figure(fig, "taylor_variants")
plt.show()
variants_table = pd.DataFrame({n: {col_name(c, v): summaries[n][key("rerank", c, v)]["train"][
    "n_sse2x" if n.startswith("cos") else "n_1pp"] for c, v in RUN_COLS} for n in NETS}).T
print("Alg. II, first seed: neurons removed within 1 point of training accuracy (cosine nets: before the SSE doubles)")
variants_table

# %% [markdown] tags=[]
# ## 11 · Paper versus reproduction
#
# The targets are the ones we set for this reproduction, checked in the quick profile (full MNIST, shortened
# schedules) and the paper profile (the paper's schedules); the smoke profile (tiny subsets) only proves the code
# runs. `n_1pp` is the number
# of neurons removed before *training* accuracy first falls more than 1 point below its start; every count is read
# off a training curve (the pruning set), never a test curve. On the two MNIST nets each count is a mean over the
# training seeds with its 95% t-interval. **Rules, fixed before the results:**
#
# * A target "at least X" is **met** when the mean reaches X. Where the row also names a published number, the
#   **verdict** compares the interval with it: `better` / `worse` when the interval lies wholly above / below,
#   `tie` when it contains it.
# * 784-100-10 has two published numbers, and both are rows: the paper's **figure** (35 neurons within 1 point)
#   and its **text** ("almost 60%", abstract 40-70%; the target we set: ≥ 50).
# * Taylor versus brute force (T4), separately for the paper's equations and for the authors' code: per seed, the
#   gap is brute force's `n_1pp` minus that of the *better* of the two Taylor criteria on that seed (the better one
#   is chosen on the training curve, the same curve the count is read from). The paper's phenomenon is **present**
#   (met) when the mean gap is at least 10 neurons **and** its interval lies above 0 (paper: 31 and 23). A smaller
#   gap, or one whose interval contains 0, is no evidence for it.
# * Re-ranking versus single ranking (T5): per seed, Alg. II minus Alg. I brute-force `n_1pp`; met when its
#   interval lies above 0.
# * One-vs-all (T6): only the nets that pass the usefulness rule of section 2 count.

# %% tags=[]
n1 = {n: {k: summaries[n][k]["train"]["n_1pp"] for k in summaries[n]} for n in NETS}
K_of = {n: net_info[n]["K"] for n in NETS}


def mean_iv(vals, low, high):
    """(mean over seeds, its 95% t-interval clipped to [low, high], the range a count of neurons cannot leave)."""
    iv = pl.stats.mean_interval(vals)
    return float(np.mean(vals)), None if iv is None else [max(low, iv[0]), min(high, iv[1])]


src = "Wolfe et al. 2017 (v1 figs.)"
nm = lambda n: "-".join(map(str, net_info[n]["sizes"]))  # noqa: E731


def vs_value(iv, value):
    """The verdict of an interval against a published number (None without an interval)."""
    return None if iv is None else pl.stats.against_value(iv, value)


def above_zero(iv):
    """'better' when the interval of a difference lies above 0, 'tie' when it contains 0, 'worse' below."""
    return vs_value(iv, 0.0)


# %% tags=[]
bf_seeds = {n: per_seed[n]["rerank/bf"] for n in ["mnist_100", "mnist_50x50"]}
gaps = {(n, v): [b - max(t1, t2) for b, t1, t2 in zip(bf_seeds[n], per_seed[n][key("rerank", "taylor1", v)],
                                                        per_seed[n][key("rerank", "taylor2", v)])]
        for n in bf_seeds for v in VARIANTS}
rerank_gain = {n: [a - b for a, b in zip(bf_seeds[n], per_seed[n]["single/bf"])] for n in bf_seeds}
stat = {"bf": {n: mean_iv(v, 0, K_of[n]) for n, v in bf_seeds.items()},
        "gap": {(n, v): mean_iv(g, -K_of[n], K_of[n]) for (n, v), g in gaps.items()},
        "rerank_gain": {n: mean_iv(v, -K_of[n], K_of[n]) for n, v in rerank_gain.items()}}
useful_digits = [d for d in digits if net_info[d]["useful"]]
digit_drop = max((digit_stats[d]["sse_bf_1"] - digit_stats[d]["sse0"] for d in useful_digits), default=None)
gap_met = lambda k: stat["gap"][k][0] >= 10 and above_zero(stat["gap"][k][1]) == "better"  # noqa: E731
targets = {
    "T1a": stat["bf"]["mnist_100"][0] >= 35, "T1b": stat["bf"]["mnist_100"][0] >= 50,
    "T2": stat["bf"]["mnist_50x50"][0] >= 30, "T3": n1["diamond"]["rerank/bf"] >= 45,
    **{f"T4_{n}_{v}": gap_met((n, v)) for n in bf_seeds for v in VARIANTS},
    **{f"T5_{n}": above_zero(stat["rerank_gain"][n][1]) == "better" for n in bf_seeds},
    "T6": None if digit_drop is None else digit_drop < 0,
    "T7": bf_full.seconds <= 60,
}
target_met = lambda t: (None if targets[t] is None else bool(targets[t])) if has_targets else None  # noqa: E731
seeds_txt = f"{len(SEEDS['mnist_100'])} seeds"


# %% tags=[]
def count_row(rid, n, quantity, target, t, paper, value, versus_text, source=src):
    """A brute-force count over seeds: met against its target, the verdict of its interval against `value`."""
    mean, iv = stat["bf"][n]
    return pl.report.headline(quantity, mean, id=rid, paper=paper, target=target, met=target_met(t), interval=iv,
                              verdict=vs_value(iv, value), versus=versus_text, source=source)


headline = [
    count_row("mnist_100_bf_n1pp_vs_figure", "mnist_100", f"{nm('mnist_100')} BF Alg. II: neurons removed within 1 pp "
              f"({seeds_txt})", "≥ 35 (paper's figure)", "T1a", 35, 35, "paper's figure: 35", src + ", Fig. 4"),
    count_row("mnist_100_bf_n1pp_vs_text", "mnist_100", f"{nm('mnist_100')} BF Alg. II: neurons removed within 1 pp "
              f"({seeds_txt})", f"≥ 50 of {K_of['mnist_100']} (paper's text)", "T1b", "40-70%", 50,
              "paper's text: 50", "Wolfe et al. 2017, abstract and text ('almost 60%')"),
    count_row("mnist_50x50_bf_n1pp", "mnist_50x50", f"{nm('mnist_50x50')} BF Alg. II: neurons removed within 1 pp "
              f"({seeds_txt})", f"≥ 30 of {K_of['mnist_50x50']}", "T2", 26, 26, "paper's figure: 26", src + ", Fig. 9"),
    pl.report.headline(f"diamond {nm('diamond')} BF Alg. II: neurons removed within 1 pp (1 seed)",
                       n1["diamond"]["rerank/bf"], id="diamond_bf_n1pp", paper=53, target=f"≥ 45 of {K_of['diamond']}",
                       met=target_met("T3"), source=src + ", Fig. 25"),
]

# %% tags=[]
headline += [
    *[pl.report.headline(
        f"{nm(n)} Alg. II: BF minus the better Taylor criterion ({'paper equations' if v == 'paper' else 'authors code'}"
        f"), neurons within 1 pp ({seeds_txt})", stat["gap"][n, v][0], id=f"{n}_bf_minus_taylor_{SHORT[v]}",
        paper={"mnist_100": 31, "mnist_50x50": 23}[n], target="≥ 10 and interval above 0", met=target_met(f"T4_{n}_{v}"),
        interval=stat["gap"][n, v][1], verdict=above_zero(stat["gap"][n, v][1]),
        versus=f"better Taylor criterion ({'paper equations' if v == 'paper' else 'authors code'})",
        source=src + " (paper: 35 vs 4, 26 vs 3; Taylor curves from the authors' code)")
      for n in bf_seeds for v in VARIANTS],
]

# %% tags=[]
headline += [
    *[pl.report.headline(f"{nm(n)} BF: Alg. II minus Alg. I (single ranking), neurons within 1 pp ({seeds_txt})",
                         stat["rerank_gain"][n][0], id=f"{n}_rerank_minus_single", paper={"mnist_100": 23,
                         "mnist_50x50": 17}[n], target="interval above 0", met=target_met(f"T5_{n}"),
                         interval=stat["rerank_gain"][n][1], verdict=above_zero(stat["rerank_gain"][n][1]),
                         versus="Alg. I (single ranking)", source=src + " (paper: 35 vs 12, 26 vs 9)")
      for n in bf_seeds],
    pl.report.headline(f"one-vs-all digits {', '.join(d[-1] for d in useful_digits) or 'none'} (useful nets), BF Alg. "
                       "II: largest SSE(1) − SSE(0)", digit_drop, id="one_vs_all_sse_first_removal",
                       target="< 0 (SSE falls)", met=target_met("T6"), source=src + ", Figs. 13/17/21"),
    pl.report.headline(f"full serial BF Alg. II, {nm('mnist_100')}, {len(mnist['train'][0]):,} images: wall time",
                       bf_full.seconds, id="bf_full_run_seconds", target="≤ 60 s (2 cores)", unit="s",
                       met=target_met("T7"), source="this notebook", volatile=True),
    pl.report.headline(f"vectorised vs naive BF speedup (first {S['timing_steps']} steps, {len(Xs):,} images)",
                       perf["speedup"], id="bf_vectorised_speedup", unit="×", source="this notebook", volatile=True),
]
pl.report.comparison_table(headline)

# %% [markdown] tags=[]
# ### What this run shows
#
# The statements below are printed from this run's numbers, next to what the paper reports.

# %% tags=[]
pct = lambda n, net_id: f"{n:.0f} of {K_of[net_id]} ({100 * n / K_of[net_id]:.0f}%)"  # noqa: E731
fmt_iv = lambda m: f"{m[0]:.1f}" + ("" if m[1] is None else f" [{m[1][0]:.1f}, {m[1][1]:.1f}]")  # noqa: E731
best_t = lambda n, v: max(variants_table.loc[n, col_name(c, v)] for c in TAYLOR)  # noqa: E731
findings = [
    f"Serial brute force (Alg. II) keeps training accuracy within 1 point while removing "
    f"{fmt_iv(stat['bf']['mnist_100'])} of {K_of['mnist_100']} neurons of {nm('mnist_100')} and "
    f"{fmt_iv(stat['bf']['mnist_50x50'])} of {nm('mnist_50x50')} (mean [95% interval] over {seeds_txt}; paper: 35 "
    "and 26 read off its figures, 'almost 60%' and 'up to 40%' in its text): "
    f"{headline[0]['verdict'] or '–'} against the figure, {headline[1]['verdict'] or '–'} against the text.",
    f"Within 5 points (first seed): {summaries['mnist_100']['rerank/bf']['train']['n_5pp']} and "
    f"{summaries['mnist_50x50']['rerank/bf']['train']['n_5pp']} neurons (paper: 63 and 43).",
    "Brute force minus the better Taylor criterion (neurons within 1 point; paper: 31 and 23): with the paper's "
    f"equations {fmt_iv(stat['gap']['mnist_100', 'paper'])} on {nm('mnist_100')} (one hidden layer: the 2nd-order "
    f"term is exact) and {fmt_iv(stat['gap']['mnist_50x50', 'paper'])} on {nm('mnist_50x50')} (diagonal Hessian); "
    f"as the authors' code computes them {fmt_iv(stat['gap']['mnist_100', 'legacy'])} and "
    f"{fmt_iv(stat['gap']['mnist_50x50', 'legacy'])}. The paper's failure of the Taylor criteria (rule above) is "
    + "; ".join(f"{'present' if targets[f'T4_{n}_paper'] else 'absent'} with the equations and "
                f"{'present' if targets[f'T4_{n}_legacy'] else 'absent'} with the code on {nm(n)}" for n in bf_seeds)
    + ".",
]

# %% tags=[]
findings += [
    "The other nets, Alg. II, first seed (cosine: neurons before the SSE doubles; others: within 1 point), the "
    "better Taylor criterion as the authors' code / with the paper's equations / brute force: " + "; ".join(
        f"{n} {best_t(n, 'legacy')} / {best_t(n, 'paper')} / {variants_table.loc[n, col_name('bf', None)]}"
        for n in NETS if not n.startswith("mnist")) + ".",
    f"Single ranking (Alg. I) with brute force keeps 1 point for {per_seed['mnist_100']['single/bf']} and "
    f"{per_seed['mnist_50x50']['single/bf']} neurons (per seed) against {bf_seeds['mnist_100']} and "
    f"{bf_seeds['mnist_50x50']} with re-ranking (paper: 12 / 9 vs 35 / 26).",
    f"Diamond: brute force keeps 1 point for {pct(n1['diamond']['rerank/bf'], 'diamond')}, 5 points for "
    f"{summaries['diamond']['rerank/bf']['train']['n_5pp']} (paper: 53 and 61); the Taylor criteria (authors' code) "
    f"keep 1 point for {n1['diamond'][key('rerank', 'taylor1', 'legacy')]} / "
    f"{n1['diamond'][key('rerank', 'taylor2', 'legacy')]} (paper: 0 / 48), with the paper's equations "
    f"{n1['diamond'][key('rerank', 'taylor1', 'paper')]} / {n1['diamond'][key('rerank', 'taylor2', 'paper')]}.",
    "Under-trained one-vs-all nets: the first brute-force removal changes the training SSE by "
    + ", ".join(f"{v['sse_bf_1'] - v['sse0']:+.1f} (digit {k[-1]}{'' if v['useful'] else ', not useful: excluded'})"
                for k, v in digit_stats.items())
    + "; the SSE stays at or below its start for "
    + ", ".join(f"{v['n_below_start']}" for v in digit_stats.values()) + " removals (paper: 60-80% of the neurons).",
    f"Layer preference ({nm('mnist_50x50')}): share of the first K/4 removals taken from the hidden layer next to "
    "the output: " + ", ".join(f"{pl.plotting.label(c)} {v:.0%}" for c, v in layer_pref.items() if v is not None) + ".",
    f"Speed: the full serial brute-force run took {bf_full.seconds:.1f} s; the vectorised scoring was "
    f"{perf['speedup']:.0f}x faster than one forward pass per candidate on the timing subset.",
]
for line in findings:
    print("•", line)

# %% tags=[]
MISS_NOTES = {  # why a target we set can be missed, printed only when it is
    "T1a": "the count is below the paper's own figure; see T1b for the likely reason.",
    "T1b": "the paper's text claims more than its own figure shows (35). A likely reason for the gap to the text: our "
           "nets, trained with exact gradients and Adam on all 60k images, use more of their neurons than the "
           "paper's (trained with a hidden-layer backprop that omitted the weights, see the deviations). No training "
           "choice was made from pruning results.",
    "T2": "as T1b (paper's figure: 26).",
    "T3": "as T1b (paper's figure: 53); the diamond net's accuracy falls slowly rather than all at once, so the "
          "1-point count is far below the 5-point count printed above.",
    **{f"T4_{n}_paper": "with the paper's equations the 2nd-order term is exact for a last hidden layer, so the "
       "criterion is close to brute force; the published Taylor curves come from the authors' code (the legacy row)."
       for n in bf_seeds},
    **{f"T4_{n}_legacy": "the authors' code variant did not fail as clearly as in the paper on this net."
       for n in bf_seeds},
    **{f"T5_{n}": "single ranking held as long as re-ranking within the interval over seeds." for n in bf_seeds},
    "T6": "a removal that lowers the SSE exists only when the net has harmful neurons.",
    "T7": "the timing depends on the machine; it was measured with the thread count printed in section 5.",
}

# %% tags=[]
if has_targets:
    for t, ok in targets.items():
        if ok is not None and not ok:
            print(f"MISSED {t}: {MISS_NOTES[t]}")
    if not all(net_info[d]["useful"] for d in digits):
        print("EXCLUDED from T6:", [d for d in digits if not net_info[d]["useful"]], "(usefulness rule of section 2)")

# %% [markdown] tags=[]
# ### Sanity checks
#
# The asserts in section 4 hold in every profile: all criteria start and end at the same SSE, and brute force's first
# removal is never worse than any criterion's. The accuracy bounds below (the targets we set for the trained nets) are checked in
# the quick and paper profiles and reported rather than asserted, so that a miss is visible with its number.

# %% tags=[]
sanity = {
    "mnist_100 test acc >= 0.97": net_info["mnist_100"]["test_acc"] >= 0.97,
    "mnist_50x50 test acc >= 0.97": net_info["mnist_50x50"]["test_acc"] >= 0.97,
    "diamond test acc >= 0.985": net_info["diamond"]["test_acc"] >= 0.985,
    "rshape test acc >= 0.97": net_info["rshape"]["test_acc"] >= 0.97,
    **{f"{d} test acc in (0.90, 0.995)": 0.90 < net_info[d]["test_acc"] < 0.995 for d in digits},
    "cos_10x10 training SSE(0) <= 0.1": net_info["cos_10x10"]["sse0_train"] <= 0.1,
    "cos_50x50 training SSE(0) <= 0.1": net_info["cos_50x50"]["sse0_train"] <= 0.1,
}
sanity_table = pd.DataFrame({"passed": sanity}).assign(
    measured=[net_info["mnist_100"]["test_acc"], net_info["mnist_50x50"]["test_acc"], net_info["diamond"]["test_acc"],
              net_info["rshape"]["test_acc"], *[net_info[d]["test_acc"] for d in digits],
              net_info["cos_10x10"]["sse0_train"], net_info["cos_50x50"]["sse0_train"]])
if not has_targets:
    sanity_table["passed"] = None  # smoke nets are too small and too briefly trained for these bounds
sanity_table

# %% [markdown] tags=[]
# **The pruned models themselves.** This notebook never retrains, so its final models are the trained nets with
# the brute-force Alg. II removals up to `n_1pp` applied. Each is exported as `torch.nn.utils.prune` masks (a
# removed neuron masks its row in the layer that makes it and its column in the next), checked with
# `pl.metrics.check_sparsity` against the weights the removals leave, stored in the cache, **read back from disk**
# into a fresh net and checked again, and its training SSE must equal the pruning curve's value at that step. A
# lost mask raises.

# %% tags=[]
def pruned_model_check(net_id, s):
    """Export, cache and reload the BF Alg. II model at n_1pp; check its kept weights (both times) and its SSE."""
    r, net = all_runs[net_id, s, "rerank/bf"], seed_nets[net_id, s]
    n = nr.n_within(r.acc, 0.01)
    masks = [m.to(dev) for m in r.masks_after(n)]
    what = f"{net_id} seed {s}, {n} neurons removed"
    model = nr.checked_export(net, masks, what)
    kept = nr.param_counts(net, masks)["weights_nonzero"]
    cfg = {"net": net_config(net_id, s), "weights": pl.cache.fingerprint(net), "removed": r.order[:n]}
    run.cached(f"pruned_{net_id}_seed{s}", "neurons-pruned", cfg, lambda: pl.masks.export_state(model),
               version=PRUNE_VERSION)
    reloaded = pl.masks.load_state(nr.SigmoidMLP(net.sizes).to(dev), pl.cache.load("neurons-pruned", cfg,
                                                                                    version=PRUNE_VERSION))
    pl.metrics.check_sparsity(reloaded, kept, what + " (reloaded from the cache)")
    sse = nr.error(reloaded, *NETS[net_id][2]["train"])
    assert np.isclose(sse, r.sse[n], rtol=1e-4), (what, sse, r.sse[n])
    return {"removed": n, "weights kept": kept, "of": nr.param_counts(net)["weights"], "SSE reloaded": sse,
            "SSE on the curve": r.sse[n]}


pruned_checks = pd.DataFrame({f"{n} seed {s}": pruned_model_check(n, s) for n in NETS for s in SEEDS[n]}).T
print("checked: every exported and reloaded pruned model keeps exactly the weights its removals leave")
pruned_checks

# %% tags=[]
results = {  # everything results.json records; the timing, the targets and the table are added in the last cell
    "nets": {n: {**net_info[n], "runs": summaries[n]} for n in NETS},
    "at_bf_n_1pp": {n: {"n_1pp": summaries[n]["rerank/bf"]["train"]["n_1pp"], **nr.param_counts(
        net_info[n]["sizes"], runs[n]["rerank", "bf"].masks_after(summaries[n]["rerank/bf"]["train"]["n_1pp"]))}
                    for n in NETS},
    "one_vs_all": digit_stats,
    "layer_preference_first_quarter_layer2": layer_pref,
    "seeds": SEEDS,
    "n_1pp_per_seed": per_seed,
    "bf_minus_better_taylor_per_seed": {f"{n}/{v}": g for (n, v), g in gaps.items()},
    "rerank_minus_single_per_seed": rerank_gain,
    "taylor_variants_n": variants_table.to_dict("index"),
    "cosine": cosine_table.reset_index().astype({"level_0": str, "level_1": str}).to_dict("records"),
    "pruned_model_checks": pruned_checks.to_dict("index"),
    "taylor_intuition": {"picks": picks, "rank_correlation": rank_corr.to_dict(),
                         "neurons_with_negative_dE": int((true_dE < 0).sum())},
    "sanity": {k: (bool(v) if has_targets else None) for k, v in sanity.items()},
    "paper_vs_our_run": versus.to_dict("records"),
    "legacy_taylor": legacy_taylor,
}
print("recorded:", ", ".join(results))


# %% [markdown] tags=[]
# ## What we learned
#
# The numbers behind each sentence are the ones printed under "What this run shows" above.
#
# * **Removing a neuron is cheap to evaluate exactly.** Removing neuron k only changes the next layer's
#   pre-activation by a rank-1 term, so every candidate is scored at once from cached activations; section 5
#   prints how much faster that is than one forward pass per candidate, with identical removal orders.
# * **Serial brute force removes a large share of the neurons without retraining** before training accuracy falls
#   1 point; compare its count with the paper's figure and with the paper's (larger) claim in its text.
# * **Re-ranking beats a single ranking.** Removing one neuron changes what the others are worth (many neurons
#   cancel each other out), so a ranking computed once goes stale; Exercise 4 shows it on a tiny net.
# * **Whether the Taylor criteria fail depends on how they are computed.** With the paper's own equations the
#   2nd-order term is exact for a last hidden layer (the one-hidden-layer MNIST net), while the two-hidden-layer
#   net only gets the diagonal of the Hessian; the authors' code computes the scores differently again. The
#   printed verdicts say, net by net, whether the paper's failure of the Taylor criteria appears with the
#   equations and with the code. Near a trained minimum the slope (1st order) says little, as Exercise 3 shows.
# * **Under-trained nets carry harmful neurons**: brute force can first *lower* their error.
# * **A removal is not a small step**: it moves a neuron's output all the way to 0, far from where a Taylor
#   series is expanded (section 3), so an estimate can miss the true change, even in sign.

# %% [markdown] tags=[]
# ### Deviations from the paper
#
# For each point: what the paper states, what the authors' public code does where it matters, and what we chose.
#
# * **MNIST data.** The paper trains on a 5,000-image 20 × 20 subset of MNIST (4,500 / 500). We use the full
#   28 × 28 MNIST (60,000 / 10,000), so absolute SSE is not comparable (the set is 13 times larger) and our nets
#   are 784-input nets.
# * **Training recipes.** The paper does not document how its MNIST nets were trained; the authors' code trains
#   the other nets with per-sample SGD with momentum and a hidden-layer backprop that omits the weights. We use
#   Adam on mini-batches with exact gradients, so the trained nets, and hence all curves, differ from the
#   published ones.
# * **MNIST learning rate**: Adam at 0.003 instead of the 0.001 we first planned. In a side study before any
#   pruning, nets trained at 0.001 still under-fitted after 15 epochs and scored lower on the suite's 5,000-image
#   validation split (the choice was made there, never on the test set). The final nets train on all 60,000 images.
# * **Cosine training length**: 50 epochs in the quick profile (full data, shortened
#   schedules) instead of the 30 we first planned: after 30 epochs
#   at a constant learning rate of 0.01 the 1-10-10-1 net's training SSE was still above the sanity bound of 0.1
#   we set (training error, no test data involved). All learning rates are constant.
# * **Sigmoid MNIST nets trained on squared error** reach lower test accuracy than today's nets (LeCun et al. 1998
#   report about 95-97% for such nets); the 97% bound we set is reported above, not asserted.
# * **One-vs-all nets.** The authors' code trains them with softmax outputs and appears to evaluate them with
#   sigmoid outputs during pruning. We use sigmoid outputs with SSE, no softmax; stopped at 95% training accuracy,
#   checked on the whole training set every 10 batches, at most 5 epochs (the paper does not give the number of
#   epochs). On raw 0-255 pixels with U(−1, 1) weights the hidden units are saturated step functions, so only the
#   output layer learns. On the plain SSE the digit-2 net stayed on the plateau of the trivial "not a 2"
#   classifier (accuracy = the share of non-2 images) even after 20 epochs, so every one-vs-all net now trains on
#   a **class-balanced** SSE (each class carries half the loss; our addition, decided on training accuracy alone).
#   The digit-2 net may still end at its 5-epoch cap below 95%; the usefulness rule of section 2 decides whether
#   it enters the verdicts.
# * **Seeds**: the paper shows one net per experiment. Our MNIST 10-class counts are means over `mnist_seeds`
#   trained nets with a 95% t-interval; the cosine, toy and one-vs-all nets have one seed, so their counts carry
#   no interval and are not compared.
# * **SSE counts**: `n_sse5` (5% of the total rise, our reading of the paper's figures) is kept for the
#   paper-versus-reproduction table; curves are compared with `n_sse2x` (SSE below twice its start), a log-ratio
#   count that matches the log axis of the figures.
# * **Random shape**: the authors' shape cannot be reproduced; a seeded 12-vertex star polygon (`shape_seed=7`)
#   stands in for it. The diamond rule is exact.
# * **Taylor criteria.** The paper gives the equations (its Eqs. 1-4 and appendix) and says values above a
#   threshold were replaced by the mean or median, without giving the threshold. The authors' code computes the
#   scores differently (no weights in the hidden backprop, ∂E/∂a in place of ∂E/∂O, σ'' alone at the output) and
#   picks the largest score below the median. We default to the paper's equations with signed-minimum selection
#   and no thresholding, and run the code's variant beside it on every net (section 10; `legacy_taylor=True` draws
#   it in the paper-style figures).
# * **Pruning set**: the paper's text says a validation set, its code uses the training set. We prune on the
#   training set and add test curves along the same removal order, covering both readings.
# * **"Deepest layer"** is read as the hidden layer next to the output; the layer-preference figure shows both
#   layers, so either reading can be checked.
# * **Paper version**: this follows v1 of the paper; v2's body may differ.
# * **Timing**: the full brute-force run's time is the wall time of the cached Algorithm II brute-force run
#   (including its test-set curve), measured with the torch thread count printed in section 5 when it was
#   computed; the budget we set is defined for 2 idle cores.

# %% tags=[]
notebook_s = time.perf_counter() - run.started
cold = COLD  # the wall-time budget (T8) counts on a cold run only: no net or run of ours in the cache at the start
results["performance"] = {**perf, "notebook_s": notebook_s}
results["targets"] = {k: (None if v is None or not has_targets else bool(v)) for k, v in targets.items()} | {
    "T8": (notebook_s <= (60 if profile == "smoke" else 360)) if (profile != "paper" and cold) else None}
results["headline"] = headline + [pl.report.headline(
    "notebook wall time" + ("" if cold else " (warm cache: no target)"), notebook_s, id="notebook_wall_seconds",
    target="≤ 360 s (2 cores, cold)" if profile == "quick" else None, unit="s",
    met=(notebook_s <= 360) if (profile == "quick" and cold) else None, source="this notebook", volatile=True)]
figures = ["taylor_intuition", "cosine", "mnist_single_ranking", "mnist_rerank", "gain_curves", "toys",
           "single_digit", "diamond_boundaries", "layer_preference", "taylor_variants"]
path = run.write_results(results, figures=figures)  # written last (strict JSON: NaN/inf -> null)
print(f"wrote {pl.paths.relpath(path)} and {len(figures)} figures; wall time {notebook_s:.0f} s")
