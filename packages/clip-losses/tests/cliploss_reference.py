"""Plain, loop-based reference formulas for the losses (float64), kept in the tests."""

import math


def dot(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


def logits(radar, text, scale, bias=0.0):
    return [[scale * dot(r, t) + bias for t in text] for r in radar]


def positives(n, ids):
    return [[(i == j) if ids is None else (ids[i] == ids[j]) for j in range(n)] for i in range(n)]


def soft_ce_rows(z, pos):
    total = 0.0
    for row, prow in zip(z, pos, strict=True):
        mx = max(row)
        lse = mx + math.log(sum(math.exp(v - mx) for v in row))
        k = sum(prow)
        total += -sum((v - lse) / k for v, p in zip(row, prow, strict=True) if p)
    return total / len(z)


def clip(radar, text, scale, ids=None):
    z = logits(radar, text, scale)
    pos = positives(len(z), ids)
    zt = [list(c) for c in zip(*z, strict=True)]
    post = [list(c) for c in zip(*pos, strict=True)]
    return (soft_ce_rows(z, pos) + soft_ce_rows(zt, post)) / 2


def siglip(radar, text, scale, bias, ids=None):
    z = logits(radar, text, scale, bias)
    pos = positives(len(z), ids)
    total = 0.0
    for row, prow in zip(z, pos, strict=True):
        for v, p in zip(row, prow, strict=True):
            s = v if p else -v
            total += -(min(s, 0.0) - math.log1p(math.exp(-abs(s))))  # -log sigmoid(s), stable
    return total / len(z)
