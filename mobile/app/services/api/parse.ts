/**
 * Checks and normalises the JSON of the fine-tune, model and chat routes. Each parser returns the
 * typed value, or null when a required field is missing or of the wrong type (the client then
 * answers `bad-data`). Optional fields are filled with their empty value, and maps of metrics keep
 * only finite numbers, so screens never see `undefined` where the types promise something.
 */
import type { ChatAnswer, FineTuneJob, FineTuneStarted, ModelList, ModelVersion } from "./types";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const strOrNull = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** Only the finite numbers of a `{name: number}` map. */
export function numbers(v: unknown): Record<string, number> {
  if (!isObject(v)) return {};
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(v)) if (typeof n === "number" && Number.isFinite(n)) out[k] = n;
  return out;
}

function progress(v: unknown): number | null {
  if (typeof v !== "number" || !Number.isFinite(v)) return null;
  return Math.min(1, Math.max(0, v));
}

export function parseFineTuneStarted(v: unknown): FineTuneStarted | null {
  if (!isObject(v) || typeof v.job_id !== "string" || !v.job_id) return null;
  return { job_id: v.job_id, status: str(v.status, "queued") || "queued", dataset: numbers(v.dataset) };
}

export function parseFineTuneJob(v: unknown): FineTuneJob | null {
  if (!isObject(v) || typeof v.job_id !== "string" || !v.job_id || typeof v.status !== "string" || !v.status) return null;
  return {
    job_id: v.job_id,
    status: v.status,
    stage: str(v.stage),
    progress: progress(v.progress),
    metrics: numbers(v.metrics),
    error: strOrNull(v.error),
    model_id: strOrNull(v.model_id),
    dataset: numbers(v.dataset),
    parameters: isObject(v.parameters) ? v.parameters : {},
    created_at: strOrNull(v.created_at),
    updated_at: strOrNull(v.updated_at),
    finished_at: strOrNull(v.finished_at),
  };
}

/** `{jobs: [...]}`, newest first. */
export function parseFineTuneJobs(v: unknown): FineTuneJob[] | null {
  if (!isObject(v) || !Array.isArray(v.jobs)) return null;
  const jobs = v.jobs.map(parseFineTuneJob);
  return jobs.every((j): j is FineTuneJob => j !== null) ? jobs : null;
}

export function parseModelVersion(v: unknown): ModelVersion | null {
  if (!isObject(v) || typeof v.model_id !== "string" || !v.model_id) return null;
  return {
    model_id: v.model_id,
    name: str(v.name) || v.model_id,
    base_model: str(v.base_model),
    status: str(v.status, "available") || "available",
    active: v.active === true,
    job_id: str(v.job_id),
    metrics: numbers(v.metrics),
    reason: str(v.reason),
    created_at: strOrNull(v.created_at),
    updated_at: strOrNull(v.updated_at),
  };
}

/** `{models, active_model_id, base_model}`; a bare list (an older server) is accepted too. */
export function parseModelList(v: unknown): ModelList | null {
  const raw = Array.isArray(v) ? v : isObject(v) && Array.isArray(v.models) ? v.models : null;
  if (!raw) return null;
  const models = raw.map(parseModelVersion);
  if (!models.every((m): m is ModelVersion => m !== null)) return null;
  const body: Json = isObject(v) ? v : {};
  const activeId = "active_model_id" in body ? strOrNull(body.active_model_id) : (models.find((m) => m.active)?.model_id ?? null);
  // The list's own answer wins over each entry's flag, so exactly one thing is active.
  return {
    models: models.map((m) => ({ ...m, active: activeId !== null && m.model_id === activeId })),
    active_model_id: activeId,
    base_model: str(body.base_model),
  };
}

export function parseChatAnswer(v: unknown): ChatAnswer | null {
  if (!isObject(v) || typeof v.answer !== "string" || !Array.isArray(v.citations)) return null;
  const grounded = v.grounded !== false;
  return {
    ...(v as unknown as ChatAnswer),
    model: str(v.model),
    usage: numbers(v.usage),
    grounded,
    answer_check: strOrNull(v.answer_check),
    warning: strOrNull(v.warning),
    model_name: strOrNull(v.model_name),
    // A server from before the support check says only whether the sources answered.
    support: strOrNull(v.support) ?? (grounded ? "supported" : "not_found"),
  };
}
