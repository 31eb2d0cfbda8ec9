"""Scoring at run time: detections, the ONNX scorer with hot reload, explanations.

Importing this package loads numpy and onnxruntime; Arrow is reached only through the
feature extractors, at the batch edges.
"""

from vigil.runtime.detection import BUILTIN_DETECTIONS, BoundDetection, Detection
from vigil.runtime.explain import Explanation
from vigil.runtime.scorer import Scorer

__all__ = ["BUILTIN_DETECTIONS", "BoundDetection", "Detection", "Explanation", "Scorer"]
