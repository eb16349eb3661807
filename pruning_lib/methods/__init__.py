"""Pruning methods; each ends in an ordinary nn.Module with torch.nn.utils.prune masks plus a history table."""
