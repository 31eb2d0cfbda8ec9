"""The manifest written beside every model file: what it is, what it was trained on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigil.errors import StoreError


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ModelManifest:
    """Metadata of one stored model version; round-trips through ``to_dict``/``from_dict``.

    ``sha256`` is of ``model.onnx`` and is checked on every load; ``feature_spec`` is the
    :class:`~vigil.features.base.FeatureSpec` id the model was trained on; ``threshold`` is
    the alerting cut-off chosen at training time (see ``metrics`` for how).
    """

    detection: str
    version: int
    sha256: str
    feature_spec: str
    threshold: float
    metrics: Mapping[str, float] = field(default_factory=dict)
    training_data: str = ""
    created_at: str = field(default_factory=utc_now)
    vigil_version: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise StoreError(
                f"manifest for {self.detection}@{self.version}: threshold {self.threshold} "
                "is outside [0, 1]"
            )
        if len(self.sha256) != 64:
            raise StoreError(
                f"manifest for {self.detection}@{self.version}: sha256 must be 64 hex digits"
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = dict(self.metrics)
        data["params"] = dict(self.params)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelManifest:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        missing = {"detection", "version", "sha256", "feature_spec", "threshold"} - set(data)
        if missing:
            raise StoreError(f"manifest is missing {sorted(missing)}; it is not a vigil manifest")
        # Unknown keys come from newer vigil versions: ignore them rather than refuse to load.
        kwargs = {k: v for k, v in data.items() if k not in unknown}
        kwargs["version"] = int(kwargs["version"])
        kwargs["threshold"] = float(kwargs["threshold"])
        return cls(**kwargs)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelManifest:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StoreError(f"manifest is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise StoreError("manifest must be a JSON object")
        return cls.from_dict(data)

    @property
    def ref(self) -> str:
        return f"{self.detection}@{self.version}"
