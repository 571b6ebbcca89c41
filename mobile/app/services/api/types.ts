/** Shapes of the HTTP API (../shared/ARCHITECTURE.md, GET /api/openapi.json). */

export type DocumentStatus = "queued" | "processing" | "indexed" | "failed";

export interface Notice {
  notice_id: string;
  title: string;
  body: string;
  pinned: boolean;
  expires_at: string | null;
  expired: boolean;
  author: string;
  created_at: string;
  updated_at: string;
  /** Not yet seen by the caller (servers with unread tracking; absent on older ones). */
  unread?: boolean;
}

export interface NoticeInput {
  title: string;
  body: string;
  pinned?: boolean;
  expires_at?: string | null;
}

export type NoticePatch = Partial<NoticeInput>;

export interface DocumentInfo {
  document_id: string;
  filename: string;
  title: string;
  content_type: string;
  size_bytes: number;
  status: DocumentStatus;
  error: string | null;
  chunk_count: number;
  page_count: number | null;
  uploaded_by: string;
  created_at: string;
  updated_at: string;
}

export interface UploadResult {
  document_id: string;
  status: DocumentStatus;
  duplicate?: boolean;
}

/** A file to upload: a File/Blob on the web, a local `uri` on native. */
export interface UploadFile {
  name: string;
  mimeType?: string | null;
  size?: number | null;
  uri?: string;
  file?: Blob;
}

export interface Passage {
  document_id: string;
  title: string;
  page: number | null;
  heading?: string | null;
  snippet: string;
  score: number;
}

export interface Citation {
  document_id: string;
  title: string;
  page: number | null;
  snippet: string;
  score: number;
}

export interface ChatRequest {
  query: string;
  conversation_id?: string;
  top_k?: number;
}

/** What the server's support check concluded about the answer it shows:
 * - `supported`: every sentence is backed by a cited source;
 * - `partly_supported`: sentences no source backs were dropped, the rest is backed;
 * - `evidence`: nothing the model wrote was backed, so the best passages are quoted instead;
 * - `not_found`: no source was good enough to answer from.
 * Another string is a verdict of a newer server, shown as "check the sources". */
export type SupportVerdict = "supported" | "partly_supported" | "evidence" | "not_found" | (string & {});

export interface ChatAnswer {
  answer: string;
  citations: Citation[];
  conversation_id: string;
  model: string;
  usage: Record<string, number>;
  /** false: the workspace's notices and documents do not contain the answer. */
  grounded: boolean;
  answer_check?: string | null;
  /** Set when something went wrong but an answer still came, e.g. the workspace's fine-tuned model
   * failed and the shared base model answered instead. */
  warning: string | null;
  /** The group's fine-tuned version's name ("Fine-tune 2") when it answered; `model` is its id. */
  model_name?: string | null;
  /** The support check's verdict; `answer_check` says why when it is not `supported`. */
  support: SupportVerdict;
}

export interface ConversationTurn {
  role: "user" | "assistant" | string;
  content: string;
  citations: Citation[];
  created_at: string;
}

export interface Conversation {
  conversation_id: string;
  title: string;
  turns: ConversationTurn[];
  created_at: string;
  updated_at: string;
}

// ---- fine-tuning and model versions (POST/GET /api/fine-tune, /api/models) ----

/** `POST /api/models/base/activate` rolls the workspace back to the shared base model. */
export const BASE_MODEL_ID = "base";

/** Every field is optional: the server fills in train.py's defaults and checks the ranges (422). */
export interface FineTuneParameters {
  epochs?: number;
  learning_rate?: number;
  lora_r?: number;
  lora_alpha?: number;
  lora_dropout?: number;
  max_seq_length?: number;
  per_device_batch_size?: number;
  gradient_accumulation_steps?: number;
  max_steps?: number;
  seed?: number;
}

/** `queued` → `running` → `deploying` → `completed`, or `failed` / `stopped`. Other strings are
 * kept as they come (a newer server) and treated as still in progress. */
export type FineTuneStatus = "queued" | "running" | "deploying" | "completed" | "failed" | "stopped" | (string & {});

/** 202 answer of `POST /api/fine-tune`. */
export interface FineTuneStarted {
  job_id: string;
  status: FineTuneStatus;
  /** Counts of the built dataset: train, validation, qa_pairs, text_passages, duplicates... */
  dataset: Record<string, number>;
}

export interface FineTuneJob {
  job_id: string;
  status: FineTuneStatus;
  /** What it is doing now, e.g. "training". */
  stage: string;
  /** 0..1 where known. */
  progress: number | null;
  /** Numbers only: train_loss, eval_loss, base_eval_loss, epoch, step... */
  metrics: Record<string, number>;
  error: string | null;
  model_id: string | null;
  dataset: Record<string, number>;
  parameters: Record<string, unknown>;
  created_at: string | null;
  updated_at: string | null;
  finished_at: string | null;
}

export type ModelStatus = "available" | "failed" | (string & {});

export interface ModelVersion {
  model_id: string;
  name: string;
  base_model: string;
  /** `available` (deployed, can be activated) or `failed` (see `reason`). */
  status: ModelStatus;
  active: boolean;
  job_id: string;
  metrics: Record<string, number>;
  /** Why it is (not) active, or why it failed. */
  reason: string;
  created_at: string | null;
  updated_at: string | null;
}

/** `GET /api/models`. */
export interface ModelList {
  models: ModelVersion[];
  /** null: the shared base model answers. */
  active_model_id: string | null;
  /** The shared base model's name. */
  base_model: string;
}

// ---- members, invitations, accounts, notifications (GET /api/me, /api/members, /api/invitations,
// /api/auth/*, /api/notices/seen, /api/me/notifications, /api/devices) ----

export type Role = "editor" | "member";

/** `GET /api/me`: the caller as the workspace's member record sees them. */
export interface Me {
  user_id: string;
  workspace_id: string;
  role: Role;
  email: string | null;
  /** The user's own workspace (`user-<id>`), which has no other members. */
  personal_workspace: boolean;
  joined_at: string | null;
  invited_by: string | null;
  /** Notices the caller has not seen; null where the server does not track them. */
  unread_notices: number | null;
  /** Pushes muted for the caller; null where the server has no pushes. */
  push_muted: boolean | null;
}

export interface Member {
  user_id: string;
  role: Role;
  /** Shown to editors only. */
  email: string | null;
  joined_at: string;
  invited_by: string | null;
}

export type InvitationStatus = "pending" | "accepted" | "revoked" | "expired";

export interface Invitation {
  invitation_id: string;
  email: string;
  role: Role;
  status: InvitationStatus;
  invited_by: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

/** `POST /api/invitations` 201: locally `code` is the one-time code, shown this once. */
export interface InvitationCreated extends Invitation {
  code: string | null;
}

/** `POST /api/auth/sign-in` and `/api/invitations/accept`: signed in. */
export interface SignedIn {
  token: string;
  expires_at: string;
  user_id: string;
  workspace_id: string;
  role: Role;
  email: string;
}

export type PushPlatform = "ios" | "android" | "web";

/** `GET /api/devices`. */
export interface Device {
  device_id: string;
  platform: PushPlatform | (string & {});
  expo_push_token: string | null;
  created_at: string | null;
}
