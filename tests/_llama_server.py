"""A real inference engine for judge tests: llama-cpp-python's
OpenAI-compatible server (llama.cpp inside) on a tiny llama-architecture
GGUF with random weights, written here with the ``gguf`` package.

The model's words mean nothing, but the server decodes under a grammar
compiled from the JSON schema judgekit sends, so every structured reply is
valid JSON of the rubric's shape: exactly what a judge test needs from a
real engine (its HTTP layer, its dialect, its refusals, its logprobs).

The vocabulary is byte-level (the 256 byte tokens of GPT-2's byte encoder,
one merge for two spaces, plus BOS/EOS), so any text, Chinese included, tokenizes and any
JSON is reachable.  About 0.5 MB; written in well under a second.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _byte_tokens() -> list[str]:
    """GPT-2's byte-to-unicode table: each byte as a printable character."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, (chr(c) for c in cs)))
    return [table[b] for b in range(256)]


def write_tiny_llama(path: Path, *, n_embd: int = 64, n_layer: int = 2, n_head: int = 4, n_ff: int = 128,
                     seed: int = 0) -> Path:
    """A llama GGUF with random F32 weights and a byte-level vocabulary."""
    import gguf

    rng = np.random.default_rng(seed)
    space = _byte_tokens()[ord(" ")]
    # llama.cpp wants at least one merge: two spaces make one token
    tokens = _byte_tokens() + [space * 2, "<s>", "</s>"]
    n_vocab = len(tokens)
    types = [gguf.TokenType.NORMAL] * 257 + [gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("judgekit-tiny-random")
    w.add_context_length(16384)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([f"{space} {space}"])
    w.add_bos_token_id(257)
    w.add_eos_token_id(258)
    w.add_add_bos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    def t(name: str, *shape: int, scale: float = 0.02) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    t("token_embd.weight", n_vocab, n_embd)
    for i in range(n_layer):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{name}.weight", n_embd, n_embd)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        t(f"blk.{i}.ffn_gate.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)
    w.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    t("output.weight", n_vocab, n_embd, scale=1.0)  # spread logits: sampling varies, grammar decides the shape
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """``python -m llama_cpp.server`` on loopback, started and stopped with
    the context manager; ``base_url`` ends in ``/v1``."""

    def __init__(self, model: Path, *, model_alias: str = "tiny", n_ctx: int = 8192, log: Path | None = None):
        self.model, self.alias, self.n_ctx = model, model_alias, n_ctx
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "LlamaServer":
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        env = dict(os.environ, OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx), "--n_threads", "1",
             "--logits_all", "true"],
            stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 120
        import urllib.request

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}"
                                   + (f"; see {self.log}" if self.log else ""))
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("llama_cpp.server did not start within 120 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
