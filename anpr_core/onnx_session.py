"""One way to open an ONNX Runtime CPU session, shared by the plate detector, the recogniser and
the person detector."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cpu_session(model: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Workers and cameras share few cores: idle ONNX threads must sleep, not spin.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
