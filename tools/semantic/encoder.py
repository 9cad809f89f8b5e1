"""Writes the sentence encoder the meaning tagger runs, and the vectors of texts it knows.

Run by hand from the repository root (see README.md in this folder):

    python tools/semantic/encoder.py src/competency/encoder.bin src/competency/encoder-known.bin

`encoder.bin` is all-MiniLM-L6-v2 with every weight matrix quantised to int8 (one f32
scale per row) and the vectors (biases, layer norms) kept in f32: the vocabulary, the
tensors' names, shapes, scales and vectors, then the matrices' int8 data. `encoder-known.bin` holds the vectors of the texts the
gateway would otherwise encode at every start: the labelled examples and the shipped
framework's item definitions, computed with the quantised weights, so they are the
vectors the gateway's own encoder gives (its unit tests check a few).
"""

import json
import re
import struct
import sys
import unicodedata

import numpy as np

from minilm import MiniLM

MAGIC_MODEL = b"LGME"
MAGIC_KNOWN = b"LGMK"
MODEL_VERSION = 2
KNOWN_VERSION = 1
# Word pieces a text is cut to (with [CLS] and [SEP]); the gateway uses the same limit.
MAX_PIECES = 128
EXAMPLES = "src/competency/semantic-examples.json"
FRAMEWORK = "src/competency/default-framework.json"


def quantise(m):
    scale = np.abs(m).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(m / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def quantised_model():
    """The model with each matrix replaced by its int8 round trip, and what to write."""
    model = MiniLM()
    tensors = []
    for name in sorted(model.w):
        if name == "embeddings.position_ids":
            continue
        w = model.w[name].astype(np.float32)
        if name == "embeddings.token_type_embeddings.weight":
            # Only type 0 is ever used: one text, no sentence pair.
            name, w = "embeddings.token_type_embeddings.0", w[0]
        if w.ndim == 2:
            q, scale = quantise(w)
            model.w[name] = q.astype(np.float32) * scale[:, None]
            tensors.append((name, q, scale))
        else:
            model.w[name] = w
            tensors.append((name, w, None))
    model.w["embeddings.token_type_embeddings.weight"] = model.w["embeddings.token_type_embeddings.0"][None]
    return model, tensors


def write_model(path, model, tensors):
    """Header, vocabulary, every tensor's name, shape, scales or values, then the int8
    matrices one after another: reading the header never touches the matrices' pages."""
    c = model.config
    with open(path, "wb") as f:
        f.write(MAGIC_MODEL)
        f.write(struct.pack("<7I", MODEL_VERSION, len(model.vocab), c["hidden_size"], c["num_hidden_layers"],
                            c["num_attention_heads"], c["intermediate_size"], c["max_position_embeddings"]))
        for piece in model.vocab:
            b = piece.encode("utf-8")
            f.write(struct.pack("<B", len(b)) + b)
        f.write(struct.pack("<I", len(tensors)))
        for name, data, scale in tensors:
            b = name.encode("utf-8")
            f.write(struct.pack("<B", len(b)) + b)
            if scale is None:
                f.write(struct.pack("<BI", 0, data.shape[0]))
                f.write(data.astype("<f4").tobytes())
            else:
                f.write(struct.pack("<BII", 1, data.shape[0], data.shape[1]))
                f.write(scale.astype("<f4").tobytes())
        for _, data, scale in tensors:
            if scale is not None:
                f.write(data.tobytes())


# BERT's uncased tokenizer: lower case, accents stripped, punctuation split off, then WordPiece.
def _is_punct(c):
    o = ord(c)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def _is_cjk(o):
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF or 0x2A700 <= o <= 0x2B73F
            or 0x2B740 <= o <= 0x2B81F or 0x2B820 <= o <= 0x2CEAF or 0xF900 <= o <= 0xFAFF or 0x2F800 <= o <= 0x2FA1F)


def basic_words(text):
    out, cur = [], ""
    text = unicodedata.normalize("NFD", text.lower())
    for c in text:
        o = ord(c)
        if o == 0 or o == 0xFFFD or (unicodedata.category(c) in ("Cc", "Cf") and c not in "\t\n\r"):
            continue
        if unicodedata.category(c) == "Mn":
            continue
        if c.isspace():
            if cur:
                out.append(cur)
            cur = ""
        elif _is_punct(c) or _is_cjk(o):
            if cur:
                out.append(cur)
            out.append(c)
            cur = ""
        else:
            cur += c
    if cur:
        out.append(cur)
    return out


def word_pieces(ids, word):
    if len(word) > 100:
        return [ids["[UNK]"]]
    out, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in ids:
                found = ids[piece]
                break
            end -= 1
        if found is None:
            return [ids["[UNK]"]]
        out.append(found)
        start = end
    return out


def pieces(model, text):
    out = [model.ids["[CLS]"]]
    for w in basic_words(text):
        out += word_pieces(model.ids, w)
    return out[: MAX_PIECES - 1] + [model.ids["[SEP]"]]


def embed(model, texts, batch=16):
    out = []
    for i in range(0, len(texts), batch):
        out.append(model.embed_ids([pieces(model, t) for t in texts[i : i + batch]]))
    return np.concatenate(out) if out else np.zeros((0, model.config["hidden_size"]), np.float32)


def normalized(text):
    """As the gateway: split at whitespace and ASCII digits, the first MAX_PIECES words
    joined by single spaces, at most 4 096 characters."""
    words = [w for w in re.split(r"[\s0-9]", text) if w][:MAX_PIECES]
    return " ".join(words)[:4096]


def entry_text(title, description):
    """How the gateway joins a title and a description into one text to encode."""
    return normalized(f"{title}. {description}" if description else title)


def known_texts():
    with open(EXAMPLES, encoding="utf-8") as f:
        examples = json.load(f)
    with open(FRAMEWORK, encoding="utf-8") as f:
        items = json.load(f)["items"]
    texts = [normalized(t) for ts in examples["items"].values() for t in ts]
    texts += [normalized(t) for t in examples["off_topic"]]
    texts += [entry_text(i["name"], i.get("description", "")) for i in items]
    return sorted(set(texts))


def write_known(path, model):
    texts = known_texts()
    vectors = embed(model, texts)
    with open(path, "wb") as f:
        f.write(MAGIC_KNOWN)
        f.write(struct.pack("<III", KNOWN_VERSION, len(texts), vectors.shape[1]))
        for text, v in zip(texts, vectors):
            b = text.encode("utf-8")
            f.write(struct.pack("<H", len(b)) + b)
            f.write(np.clip(np.rint(v * 127.0), -127, 127).astype(np.int8).tobytes())


def main():
    model, tensors = quantised_model()
    write_model(sys.argv[1], model, tensors)
    write_known(sys.argv[2], model)


if __name__ == "__main__":
    main()
