"""1st- and 2nd-order Taylor estimates of a removal, from the paper's diagonal second-order backprop.

Wolfe et al. 2017, Sec. "Taylor Series Representation of Error" (eqs. 1-4) and Appendix A: dE1 = sum_n -O g,
dE2 = dE1 + 1/2 sum_n O^2 H, with g = dE_n/dO exact and H = d2E_n/dO^2 from the diagonal recursion (exact for the
last hidden layer). `legacy=True` follows the authors' public Java code instead, which differs in four places:
the hidden-layer backprop omits the weights, the 1st-order term uses dE/da, the output second derivative keeps
sigma'' only, and the 2nd-order score uses that delta. Defined for sigmoid units and SSE only.
"""

from __future__ import annotations

import torch

from .net import SigmoidMLP, checked_masks
from .prepared import Prepared


def check_taylor_net(net: SigmoidMLP) -> None:
    """The Taylor criteria need the paper's net: sigmoid hidden and output units, SSE."""
    if (net.activation, net.out_activation, net.error) != ("sigmoid", "sigmoid", "sse"):
        raise ValueError("the Taylor criteria are defined for sigmoid units and SSE (the paper's nets)")


@torch.no_grad()
def backprop2(
    net: SigmoidMLP, X, T, masks=None, legacy: bool = False, prepared: Prepared | None = None
) -> dict:
    """Per-sample h, g = dE_n/dh, H = diag d2E_n/dh^2, delta, s per hidden layer (sigmoid net, SSE).

    Appendix A: g_l = W_{l+1}^T delta_{l+1}, H_l = (W_{l+1}^2)^T s_{l+1}, delta_l = m g_l s'(a_l),
    s_l = m (H_l s'(a_l)^2 + g_l s''(a_l)), from delta_L = (o-t) s'(a_L), s_L = s'(a_L)^2 + (o-t) s''(a_L).
    legacy=True: the authors' Java code; then `g` holds delta (which their score uses).
    The plain, per-sample reference; `taylor_scores` computes the same sums without per-sample tensors.
    """
    check_taylor_net(net)
    masks = checked_masks(net, masks)
    prep = prepared or Prepared(net, X, T)
    a, h, o = prep.run(masks)
    r = o - prep.T
    d1 = o * (1 - o)
    delta = r * d1
    s = d1 * (1 - 2 * o) if legacy else d1.square() + r * d1 * (1 - 2 * o)
    out = {"h": h, "g": [None] * len(masks), "H": [None] * len(masks), "delta": [None] * len(masks)}
    out["s"] = [None] * len(masks)
    for layer in reversed(range(len(masks))):
        W = net.layers[layer + 1].weight
        m = masks[layer].to(W.dtype)
        sig = torch.sigmoid(a[layer])
        sp = sig * (1 - sig)
        spp = sp * (1 - 2 * sig)
        H = s @ W.square()
        if legacy:
            delta_l = m * sp * h[layer] * delta.sum(1, keepdim=True)
            g = delta_l
        else:
            g = delta @ W
            delta_l = m * g * sp
        s = m * (H * sp.square() + g * spp)
        delta = delta_l
        out["g"][layer], out["H"][layer], out["delta"][layer], out["s"][layer] = g, H, delta, s
    return out


@torch.no_grad()
def taylor_scores(net: SigmoidMLP, X, T, masks=None, order: int = 2, legacy: bool = False, prepared=None):
    """Estimated dE per hidden neuron (0 for removed ones): order 1: sum_n -O g; order 2: + 1/2 sum_n O^2 H.

    The same numbers as summing `backprop2` (float64 result), computed feature-major without per-sample
    tensors for the score itself: sum_n O g = column sums of ((delta_{l+1} f_l^T) * W_{l+1}) and
    sum_n O^2 H = column sums of ((s_{l+1} (f_l^2)^T) * W_{l+1}^2), masked afterwards (f_l is the unmasked
    activation); per-sample g, H are formed only to feed the layer below.
    """
    if order not in (1, 2):
        raise ValueError(f"order={order!r} must be 1 or 2")
    check_taylor_net(net)
    masks = checked_masks(net, masks)
    prep = prepared or Prepared(net, X, T)
    a, f_t, o = prep.run_t(masks)  # feature-major (width, N)
    r = o - prep.Tt
    d1 = o * (1 - o)
    delta = r * d1
    s = d1 * (1 - 2 * o) if legacy else d1.square() + r * d1 * (1 - 2 * o)
    scores = [None] * len(masks)
    for layer in reversed(range(len(masks))):
        W = net.layers[layer + 1].weight
        m = masks[layer].to(W.dtype)
        f, f2, sp, spp = prep.taylor_terms(layer, f_t)
        below = layer > 0
        if legacy:
            # delta_l = m s'(a_l) O_l c with c = sum_i delta_{l+1,i}; the score uses it in place of dE/dO
            c = delta.sum(0)
            score = -((sp * f2) @ c)
        else:
            score = -((delta @ f.t()) * W).sum(0)
        if order == 2:
            score = score + 0.5 * ((s @ f2.t()) * W.square()).sum(0)
        scores[layer] = (score * m).double()
        if below:
            m = m[:, None]
            if legacy:
                delta_l = m * sp * f * c[None, :]
                s = m * ((W.square().t() @ s) * sp.square() + delta_l * spp)
                delta = delta_l
            else:
                g = W.t() @ delta
                if order == 2:
                    s = m * ((W.square().t() @ s) * sp.square() + g * spp)
                delta = m * g * sp
    return scores
