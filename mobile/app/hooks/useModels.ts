import { useCallback, useEffect, useRef, useState } from "react";

import { useApi } from "../context/AuthContext";
import { type ApiProblem, type ApiResult, BASE_MODEL_ID, type FineTuneJob, type FineTuneParameters, type FineTuneStarted, type ModelVersion } from "../services/api";
import { useResource } from "./useResource";

export const JOB_POLL_MS = 3000;

/** A job in one of these holds the workspace's training slot (one at a time). */
export const ACTIVE_JOB_STATUSES = ["queued", "running", "deploying"];
export const FINISHED_JOB_STATUSES = ["completed", "failed", "stopped"];

/** Finished: completed, failed or stopped (or a status this app does not know, once `finished_at` is set). */
export function isJobDone(job: Pick<FineTuneJob, "status" | "finished_at"> | null): boolean {
  if (!job) return false;
  const status = String(job.status).toLowerCase();
  if (FINISHED_JOB_STATUSES.includes(status)) return true;
  return !ACTIVE_JOB_STATUSES.includes(status) && !!job.finished_at;
}

/** What a job looks like the moment `POST /api/fine-tune` accepted it, until the first poll. */
function startedJob(started: FineTuneStarted, parameters: FineTuneParameters): FineTuneJob {
  const now = new Date().toISOString();
  return {
    job_id: started.job_id,
    status: started.status,
    stage: "",
    progress: null,
    metrics: {},
    error: null,
    model_id: null,
    dataset: started.dataset,
    parameters: { ...parameters },
    created_at: now,
    updated_at: now,
    finished_at: null,
  };
}

/** Poll again after these (the job may still be running); stop after the others. */
function worthRetrying(problem: ApiProblem): boolean {
  return ["timeout", "offline", "server", "bad-data"].includes(problem.kind);
}

/**
 * The workspace's model versions and its latest fine-tune job, polled while it is queued, running
 * or deploying. A 404 on /api/models means this server does not offer fine-tuning: `unavailable`
 * is then true and the screen says so.
 */
export function useModels(pollMs: number = JOB_POLL_MS) {
  const api = useApi();
  const resource = useResource(() => api.listModels(), [api]);
  const { data, problem, reload: reloadModels, setData } = resource;
  const unavailable = problem?.kind === "not-found" && !data;

  const [job, setJob] = useState<FineTuneJob | null>(null);
  const [jobProblem, setJobProblem] = useState<ApiProblem | null>(null);
  const [retry, setRetry] = useState(0);
  const [starting, setStarting] = useState(false);
  const [activating, setActivating] = useState<string | null>(null);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  /** The newest job, e.g. one started earlier or by another editor (it keeps being polled). */
  const loadLatestJob = useCallback(async () => {
    const r = await api.listFineTunes();
    if (!mounted.current || r.kind !== "ok") return; // a 404 here is the same "not available" as /api/models
    const latest = r.data[0] ?? null;
    if (!latest) return;
    // Keep a different job this screen is already following while it is still active.
    setJob((prev) => (prev && prev.job_id !== latest.job_id && !isJobDone(prev) ? prev : latest));
  }, [api]);

  useEffect(() => {
    void loadLatestJob();
  }, [loadLatestJob]);

  useEffect(() => {
    if (!job || isJobDone(job)) return;
    const timer = setTimeout(async () => {
      const r = await api.getFineTune(job.job_id);
      if (!mounted.current) return;
      if (r.kind === "ok") {
        setJobProblem(null);
        setJob(r.data);
        // deploying -> completed adds a version (and may activate it): list them again.
        if (r.data.status !== job.status || isJobDone(r.data)) void reloadModels("quiet");
      } else if (r.kind === "not-found") {
        setJobProblem(r);
        setJob({ ...job, status: "failed", error: r.message, finished_at: new Date().toISOString() });
      } else {
        setJobProblem(r);
        if (worthRetrying(r)) setRetry((n) => n + 1);
      }
    }, pollMs);
    return () => clearTimeout(timer);
  }, [api, job, pollMs, reloadModels, retry]);

  const startFineTune = useCallback(
    async (parameters: FineTuneParameters): Promise<ApiResult<FineTuneStarted>> => {
      setStarting(true);
      const r = await api.startFineTune(parameters);
      if (!mounted.current) return r;
      setStarting(false);
      if (r.kind === "ok") {
        setJob(startedJob(r.data, parameters));
        setJobProblem(null);
      } else if ((r.kind === "rejected" && r.status === 409) || r.kind === "server") {
        // 409: show the job that holds the slot; 503: the launch failed and was recorded as failed.
        void loadLatestJob();
      }
      return r;
    },
    [api, loadLatestJob],
  );

  /** Activate a version; `BASE_MODEL_ID` rolls back to the shared base model. */
  const activate = useCallback(
    async (modelId: string): Promise<ApiResult<ModelVersion>> => {
      setActivating(modelId);
      const r = await api.activateModel(modelId);
      if (!mounted.current) return r;
      setActivating(null);
      if (r.kind === "ok") {
        const activeId = modelId === BASE_MODEL_ID ? null : r.data.model_id;
        setData((prev) => (prev ? { ...prev, active_model_id: activeId, models: prev.models.map((m) => ({ ...m, active: m.model_id === activeId })) } : prev));
        await reloadModels("quiet");
      }
      return r;
    },
    [api, reloadModels, setData],
  );
  const rollBack = useCallback(() => activate(BASE_MODEL_ID), [activate]);

  const reload = useCallback(
    async (mode?: "refresh" | "quiet") => {
      await Promise.all([reloadModels(mode), loadLatestJob()]);
    },
    [reloadModels, loadLatestJob],
  );

  return {
    ...resource,
    reload,
    models: data?.models ?? null,
    activeModelId: data?.active_model_id ?? null,
    baseModel: data?.base_model ?? "",
    unavailable,
    job,
    jobRunning: !!job && !isJobDone(job),
    jobProblem,
    starting,
    activating,
    startFineTune,
    activate,
    rollBack,
  };
}
