import { useCallback, useEffect, useState } from "react";

import { useApi } from "../context/AuthContext";
import type { ApiProblem, FineTuneJob, FineTuneParameters } from "../services/api";
import { useResource } from "./useResource";

export const JOB_POLL_MS = 3000;

export function isJobDone(job: FineTuneJob | null): boolean {
  return !!job && ["completed", "failed", "stopped"].includes(String(job.status).toLowerCase());
}

/**
 * The workspace's model versions and its fine-tune job. A 404 on /api/models means this server does
 * not offer fine-tuning (the local stack does not yet): `unavailable` is then true.
 */
export function useModels(pollMs: number = JOB_POLL_MS) {
  const api = useApi();
  const models = useResource(() => api.listModels(), [api]);
  const [job, setJob] = useState<FineTuneJob | null>(null);
  const [jobProblem, setJobProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const unavailable = models.problem?.kind === "not-found";

  const { reload } = models;
  useEffect(() => {
    if (!job || isJobDone(job)) return;
    const timer = setTimeout(async () => {
      const r = await api.getFineTune(job.job_id);
      if (r.kind === "ok") {
        setJob(r.data);
        setJobProblem(null);
        if (isJobDone(r.data)) void reload("quiet");
      } else {
        setJobProblem(r);
        if (r.kind === "not-found") setJob({ ...job, status: "failed", error: r.message });
      }
    }, pollMs);
    return () => clearTimeout(timer);
  }, [api, job, pollMs, reload]);

  const startFineTune = useCallback(
    async (parameters: FineTuneParameters) => {
      setBusy(true);
      const r = await api.startFineTune(parameters);
      setBusy(false);
      if (r.kind === "ok") {
        setJob({ job_id: r.data.job_id, status: "queued", metrics: null });
        setJobProblem(null);
      } else {
        setJobProblem(r);
      }
      return r;
    },
    [api],
  );

  const activate = useCallback(
    async (modelId: string) => {
      setBusy(true);
      const r = await api.activateModel(modelId);
      setBusy(false);
      if (r.kind === "ok") await reload("quiet");
      return r;
    },
    [api, reload],
  );

  return { ...models, models: models.data, unavailable, job, jobProblem, busy, startFineTune, activate };
}
