"""The SQLite MetadataStore's fine-tuning tables: jobs, the per-workspace training slot, model
versions and the active model. Mixed into ``SqliteMetadataStore``; its schema is migration 2.

Records are stored as JSON (``FineTuneJob.to_dict``) beside the columns queries need, so a
field added to a record needs no migration.
"""

from __future__ import annotations

import json
import sqlite3

from noticebot.domain.models import utcnow
from noticebot.domain.tuning import FineTuneJob, JobStatus, ModelVersion

TUNING_MIGRATION = """
CREATE TABLE finetune_jobs (
    workspace_id TEXT NOT NULL, job_id TEXT NOT NULL, status TEXT NOT NULL,
    record TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, job_id)
);
CREATE TABLE tuning_slots (
    workspace_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, claimed_at TEXT NOT NULL
);
CREATE TABLE model_versions (
    workspace_id TEXT NOT NULL, model_id TEXT NOT NULL, record TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, model_id)
);
CREATE TABLE active_models (
    workspace_id TEXT PRIMARY KEY, model_id TEXT, updated_at TEXT NOT NULL
);
"""


class SqliteTuningMixin:
    """Needs ``self._exec(sql, params)`` and ``self._lock`` from the store."""

    # ------------------------------------------------------------ training slot
    def claim_tuning_slot(self, workspace_id: str, job_id: str) -> str | None:
        with self._lock:
            try:
                self._exec("INSERT INTO tuning_slots VALUES (?,?,?)",
                           (workspace_id, job_id, utcnow().isoformat()))
                return None
            except sqlite3.IntegrityError:
                row = self._exec("SELECT job_id FROM tuning_slots WHERE workspace_id=?",
                                 (workspace_id,)).fetchone()
                return row["job_id"] if row else self.claim_tuning_slot(workspace_id, job_id)

    def release_tuning_slot(self, workspace_id: str, job_id: str) -> bool:
        cur = self._exec("DELETE FROM tuning_slots WHERE workspace_id=? AND job_id=?",
                         (workspace_id, job_id))
        return cur.rowcount == 1

    # --------------------------------------------------------------------- jobs
    def put_job(self, job: FineTuneJob) -> None:
        self._exec("INSERT OR REPLACE INTO finetune_jobs VALUES (?,?,?,?,?)",
                   (job.workspace_id, job.job_id, job.status.value, json.dumps(job.to_dict()),
                    job.created_at.isoformat()))

    def update_job(self, job: FineTuneJob, *, allowed_from: tuple[JobStatus, ...]) -> bool:
        if not allowed_from:
            return False
        marks = ",".join("?" for _ in allowed_from)
        cur = self._exec(
            f"UPDATE finetune_jobs SET status=?, record=? WHERE workspace_id=? AND job_id=? "
            f"AND status IN ({marks})",
            (job.status.value, json.dumps(job.to_dict()), job.workspace_id, job.job_id,
             *(JobStatus(s).value for s in allowed_from)))
        return cur.rowcount == 1

    def get_job(self, workspace_id: str, job_id: str) -> FineTuneJob | None:
        row = self._exec("SELECT record FROM finetune_jobs WHERE workspace_id=? AND job_id=?",
                         (workspace_id, job_id)).fetchone()
        return FineTuneJob.from_dict(json.loads(row["record"])) if row else None

    def list_jobs(self, workspace_id: str) -> list[FineTuneJob]:
        rows = self._exec("SELECT record FROM finetune_jobs WHERE workspace_id=? "
                          "ORDER BY created_at DESC, job_id", (workspace_id,)).fetchall()
        return [FineTuneJob.from_dict(json.loads(r["record"])) for r in rows]

    # ------------------------------------------------------------------- models
    def put_model(self, version: ModelVersion) -> None:
        self._exec("INSERT OR REPLACE INTO model_versions VALUES (?,?,?,?)",
                   (version.workspace_id, version.model_id, json.dumps(version.to_dict()),
                    version.created_at.isoformat()))

    def get_model(self, workspace_id: str, model_id: str) -> ModelVersion | None:
        row = self._exec("SELECT record FROM model_versions WHERE workspace_id=? AND model_id=?",
                         (workspace_id, model_id)).fetchone()
        return ModelVersion.from_dict(json.loads(row["record"])) if row else None

    def list_models(self, workspace_id: str) -> list[ModelVersion]:
        rows = self._exec("SELECT record FROM model_versions WHERE workspace_id=? "
                          "ORDER BY created_at DESC, model_id", (workspace_id,)).fetchall()
        return [ModelVersion.from_dict(json.loads(r["record"])) for r in rows]

    def get_active_model(self, workspace_id: str) -> str | None:
        row = self._exec("SELECT model_id FROM active_models WHERE workspace_id=?",
                         (workspace_id,)).fetchone()
        return row["model_id"] if row else None

    def set_active_model(self, workspace_id: str, model_id: str | None) -> None:
        self._exec("INSERT OR REPLACE INTO active_models VALUES (?,?,?)",
                   (workspace_id, model_id, utcnow().isoformat()))
