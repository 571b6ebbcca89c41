"""ModelRegistry: where a workspace's fine-tuned adapters are recorded and served from.

AWS: a SageMaker model package (in the deployment's model package group, visible in Studio
with its metrics) and an adapter inference component on the shared base endpoint
(``BaseInferenceComponentName``: the base model is never copied per tenant). Locally: a
folder per version, registered with the local model server by name.

Every method is idempotent: the deploy handler may see the same completion event twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from noticebot.domain.tuning import ModelVersion


class ModelRegistry(ABC):
    @abstractmethod
    def adapter_name(self, version: ModelVersion) -> str:
        """The name chat requests target (the inference component name): unique per version."""

    @abstractmethod
    def register(self, version: ModelVersion) -> str:
        """Records the version with its metrics; returns its registry id (package ARN)."""

    @abstractmethod
    def deploy(self, version: ModelVersion) -> str:
        """Makes the adapter servable; returns the adapter name. Already deployed is fine."""

    @abstractmethod
    def approve(self, version: ModelVersion, note: str) -> None:
        """Marks the version approved in the registry (an editor activated it by hand), so
        what ML engineers see there matches what serves the workspace. ``note`` says who."""

    @abstractmethod
    def delete(self, version: ModelVersion) -> None:
        """Removes the served adapter (the registry record stays for the audit trail)."""
