"""Read an offline W&B run back: the records of its ``run-<id>.wandb`` file.

wandb (0.2x+) no longer ships a Python reader of its transaction log.  The
file is a LevelDB-style log (a 7-byte header ``:W&B``, magic 0xBEE1,
version 0; then 32 KiB blocks of records, each ``crc32c (4) | length (2) |
type (1) | data``, a record split over blocks as FIRST/MIDDLE/LAST), each
record one ``wandb_internal_pb2.Record``, decoded with wandb's own protobuf
classes.  The CRC is not checked here: a corrupt file fails to decode."""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, Iterator

_BLOCK = 32768
_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def _payloads(data: bytes) -> Iterator[bytes]:
    assert data[:4] == b":W&B" and struct.unpack("<HB", data[4:7]) == (0xBEE1, 0), "not a .wandb file"
    pos, pending = _HEADER, b""
    while pos + _HEADER <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _HEADER:  # a block's tail too short for a header is padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + _HEADER])
        if kind == 0 and length == 0:
            pos += left  # zero padding
            continue
        chunk = data[pos + _HEADER:pos + _HEADER + length]
        pos += _HEADER + length
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            pending = chunk
        elif kind == _MIDDLE:
            pending += chunk
        elif kind == _LAST:
            yield pending + chunk
            pending = b""


def read_run(run_dir: Path) -> dict[str, Any]:
    """config (key -> value), history (list of key -> value steps) and
    summary (key -> value) of an offline run, JSON values decoded."""
    from wandb.proto import wandb_internal_pb2 as pb

    (path,) = Path(run_dir).glob("run-*.wandb")
    config: dict[str, Any] = {}
    history: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    for payload in _payloads(path.read_bytes()):
        rec = pb.Record()
        rec.ParseFromString(payload)
        kind = rec.WhichOneof("record_type")
        if kind == "config":
            for item in rec.config.update:
                config[item.key] = json.loads(item.value_json)
        elif kind == "history":
            history.append({"/".join(item.nested_key) or item.key: json.loads(item.value_json)
                            for item in rec.history.item})
        elif kind == "summary":
            for item in rec.summary.update:
                summary["/".join(item.nested_key) or item.key] = json.loads(item.value_json)
    return {"config": config, "history": history, "summary": summary}
