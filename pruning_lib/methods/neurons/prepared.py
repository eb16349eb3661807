"""A data set prepared for many masked passes of one net: the input-width product is computed only once.

Removing hidden neurons never changes a_1 = X W_1^T + b_1, so brute force (Wolfe et al. 2017, Sec. "Brute Force
Removal Approach"), the Taylor criteria and the pruning loop's curves all start from the cached a_1 and sigma(a_1).
"""

from __future__ import annotations

import torch

from .net import SigmoidMLP, activate, target_labels


class Prepared:
    """(X, T) ready for repeated masked passes: a_1 = X W_1^T + b_1 and its activation are computed once.

    Arrays are kept feature-major, (width, N): the brute-force kernels run faster in that layout.
    """

    @torch.no_grad()
    def __init__(self, net: SigmoidMLP, X: torch.Tensor, T: torch.Tensor, batch: int = 16384):
        W, b = net.layers[0].weight, net.layers[0].bias
        X = X.flatten(1)
        self.net, self.n = net, len(X)
        self.a1t = torch.cat(
            [torch.addmm(b[:, None], W, X[i : i + batch].to(W).t()) for i in range(0, len(X), batch)], 1
        )
        self.f1t = activate(net.activation, self.a1t)
        self.T = T.to(W)
        self.Tt = self.T.t().contiguous()
        self.labels = target_labels(self.T)

    @torch.no_grad()
    def run_t(self, masks):
        """Feature-major (a_l^T, f_l^T, out^T) of the masked pass: pre-activations, UNMASKED hidden activations
        f_l = act(a_l) and outputs. Each layer's input mask is folded into its weight: a_{l+1} = (W m_l) f_l + b."""
        net = self.net
        a, f = [self.a1t], []
        for i, layer in enumerate(net.layers[1:]):
            f.append(self.f1t if i == 0 else activate(net.activation, a[-1]))
            W = layer.weight * masks[i].to(layer.weight.dtype)
            a.append(torch.addmm(layer.bias[:, None], W, f[-1]))
        return a, f, activate(net.out_activation, a[-1])

    def run(self, masks):
        """Sample-major (a, h, out) of the masked pass, h_l = f_l m_l (views and copies of `run_t`)."""
        a, f, out = self.run_t(masks)
        h = [(x * m.to(x.dtype)[:, None]).t() for x, m in zip(f, masks)]
        return [x.t() for x in a], h, out.t()

    def taylor_terms(self, layer: int, f_t):
        """(f, f^2, s'(a), s''(a)) of hidden layer `layer` from its activation f = s(a); cached for the first
        hidden layer, whose activation never changes."""
        if layer == 0 and hasattr(self, "_terms1"):
            return self._terms1
        f = f_t[layer]
        sp = f * (1 - f)
        terms = (f, f.square(), sp, sp * (1 - 2 * f))
        if layer == 0:
            self._terms1 = terms
        return terms

    @torch.no_grad()
    def evaluate(self, masks) -> tuple[float, float]:
        """(E, accuracy) with `masks`."""
        out = self.run_t(masks)[2]  # (n_out, N)
        if out.shape[0] > 1:
            pred = out.t().contiguous().argmax(1)  # much faster than a reduction over the strided dim 0
        else:
            pred = (out[0] > (0.5 if self.net.out_activation == "sigmoid" else 0.0)).long()
        acc = (pred == self.labels).double().mean().item()
        if self.net.error == "sse":
            E = 0.5 * (out - self.Tt).square().sum(0, dtype=torch.float64).sum().item()
        else:
            E = (torch.logsumexp(out, 0) - (out * self.Tt).sum(0)).sum(dtype=torch.float64).item()
        return E, acc
