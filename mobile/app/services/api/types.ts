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

export interface ChatAnswer {
  answer: string;
  citations: Citation[];
  conversation_id: string;
  model: string;
  usage: Record<string, number>;
  /** false: the workspace's notices and documents do not contain the answer. */
  grounded: boolean;
  answer_check?: string | null;
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

// ---- fine-tuning (designed in ARCHITECTURE.md; not served by the local API yet) ----

export interface FineTuneParameters {
  epochs: number;
  learning_rate: number;
}

export type FineTuneStatus = "queued" | "running" | "completed" | "failed" | string;

export interface FineTuneJob {
  job_id: string;
  status: FineTuneStatus;
  /** e.g. {train_loss, eval_loss, epoch} */
  metrics?: Record<string, number | null> | null;
  model_id?: string | null;
  error?: string | null;
  created_at?: string;
  updated_at?: string;
}

export interface ModelVersion {
  model_id: string;
  name?: string | null;
  base_model?: string | null;
  status?: string | null;
  active: boolean;
  job_id?: string | null;
  metrics?: Record<string, number | null> | null;
  created_at?: string | null;
}
