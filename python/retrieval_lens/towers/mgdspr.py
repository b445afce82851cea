"""Multi-granular query tower in the spirit of MGDSPR (Li et al., "Embedding-based Product Retrieval in Taobao Search",
KDD 2021, arXiv 2106.09297, §3.2 "Multi-Granular Semantic Unit"), as src/core/model/towers/mgdspr.ts (which says
what maps to what and what is left out, and why):

    u = mean of the word unigrams' rows ("w:" + word)        ~ q_1_gram
    b = mean of the adjacent word pairs' rows ("b:" + w + " " + w')  ~ q_2_gram
    s = mean of the whole query's DSSM features (features.py)  ~ q_seq
    x = concat(u, b, s, u + b + s)  [4E]  → normalize(relu(x·W1 + b1)·W2 + b2),  W1 [4E, H]   (q_mix, q_mgs)

q_seq_seq (a transformer over words) and q_his (the user's query history) are left out. A query's features are packed
as [n_u, n_b, u ids…, b ids…, s ids…], byte-exact with mgdsprQueryFeatures in TypeScript.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Sequence, Tuple

from ..features import FeaturizeOptions, featurize, fnv1a, words

if TYPE_CHECKING:
    import torch

MGDSPR_GRANULES = 3
MGDSPR_PARTS = MGDSPR_GRANULES + 1


def mgdspr_query_features(text: str, opts: FeaturizeOptions) -> List[int]:
    """The packed multi-granular features of a query."""
    ws = words(text)
    uni = [fnv1a("w:" + w) % opts.buckets for w in ws[: opts.max_tokens]]
    bi: List[int] = []
    for i in range(len(ws) - 1):
        if len(bi) >= opts.max_tokens:
            break
        bi.append(fnv1a("b:" + ws[i] + " " + ws[i + 1]) % opts.buckets)
    return [len(uni), len(bi), *uni, *bi, *featurize(text, opts)]


def granules(packed: Sequence[int]) -> Tuple[Sequence[int], Sequence[int], Sequence[int]]:
    """The three bags (unigrams, bigrams, whole query) of packed features."""
    if len(packed) < 2 or packed[0] < 0 or packed[1] < 0 or 2 + packed[0] + packed[1] > len(packed):
        raise ValueError(f"mgdspr query features: header {list(packed[:2])} does not fit {len(packed)} values")
    nu, nb = packed[0], packed[1]
    return packed[2 : 2 + nu], packed[2 + nu : 2 + nu + nb], packed[2 + nu + nb :]


def mgdspr_mix(bags: torch.Tensor) -> torch.Tensor:
    """[3·rows, E] granule bags (three per query, in order) → x = concat(u, b, s, u + b + s) [rows, 4E]."""
    import torch  # here: the config checks import this package without needing torch

    e = bags.shape[1]
    g = bags.reshape(-1, MGDSPR_GRANULES, e)
    return torch.cat([g.reshape(-1, MGDSPR_GRANULES * e), g.sum(1)], 1)
