"""One plain function per task; each picks the runtime for the model it is given.

The functions are imported eagerly (numpy is the only heavy import): each lives in a submodule of
the same name, and a lazy ``__getattr__`` would be shadowed by the submodule once anything imported
it (``localmodels.tasks.embed`` would then be the module, not the function).
"""

from __future__ import annotations

from .embed import embed, embed_batch
from .generate import chat, generate, token_logprobs
from .ner import ner
from .rerank import rerank, score_pairs
from .search import search
from .zero_shot import zero_shot

# embed_batch and score_pairs also return usage (tokens per input): what a server reports.
__all__ = ["embed", "embed_batch", "search", "rerank", "score_pairs", "ner", "zero_shot", "generate", "chat",
           "token_logprobs"]
