/**
 * The one typed client of the noticebot HTTP API. Every method returns an `ApiResult<T>`:
 * `{kind: "ok", data}` or an `ApiProblem`; nothing throws. A 401 also calls `onUnauthorized`,
 * which the auth context uses to go back to sign-in. Screens never call this directly: they use
 * the hooks in `app/hooks`, which get the client from `ApiContext`.
 *
 * `chatStream` reads the answer as Server-Sent Events with `expo/fetch`, whose response bodies
 * stream on iOS, Android and the web alike (React Native's own fetch buffers the whole body).
 */
import { fetch as expoFetch, type FetchRequestInit } from "expo/fetch";

import type { ApiProblem, ApiResult } from "./apiProblem";
import { problemFromResponse, problemFromStreamError } from "./apiProblem";
import { type SseEvent, SseParser } from "./sse";
import { parseDevice, parseDevices, parseInvitationCreated, parseInvitations, parseMe, parseMember, parseMembers, parseMuted, parseSignedIn } from "./parseMembers";
import { parseChatAnswer, parseFineTuneJob, parseFineTuneJobs, parseFineTuneStarted, parseModelList, parseModelVersion } from "./parse";
import type {
  ChatAnswer,
  ChatRequest,
  Conversation,
  Device,
  DocumentInfo,
  InvitationCreated,
  Invitation,
  InvitationStatus,
  Me,
  Member,
  PushPlatform,
  Role,
  SignedIn,
  FineTuneJob,
  FineTuneParameters,
  FineTuneStarted,
  ModelList,
  ModelVersion,
  Notice,
  NoticeInput,
  NoticePatch,
  Passage,
  UploadFile,
  UploadResult,
} from "./types";

/** The part of `fetch` the client uses (tests pass a fake). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface ApiOptions {
  /** API origin without the `/api` prefix. */
  baseUrl: string;
  /** Default time a request may take, ms. */
  timeoutMs?: number;
  fetch?: FetchLike;
  /** A fetch whose response body can be read as it arrives (`response.body.getReader()`). */
  streamFetch?: FetchLike;
  /** Reports whether the device believes it is online (web: navigator.onLine). */
  isOnline?: () => boolean;
}

interface RequestOptions {
  body?: unknown;
  form?: FormData;
  timeoutMs?: number;
  /** Public routes send no token. */
  auth?: boolean;
  /** Statuses that are success without a JSON body. */
  empty?: boolean;
  /** Success may come with or without a JSON body (null when without). */
  optionalBody?: boolean;
}

const CHAT_TIMEOUT_MS = 180_000;
const UPLOAD_TIMEOUT_MS = 120_000;
/** A streamed answer may take long in all; this is how long it may stay silent. */
const STREAM_IDLE_MS = CHAT_TIMEOUT_MS;

export interface ChatStreamOptions {
  /** Each piece of the model's text as it is written. It is not yet checked against the
   * sources: the answer the call returns replaces it. */
  onToken?: (text: string) => void;
  /** Aborting it stops the answer (the server stops the model); the call returns `aborted`. */
  signal?: AbortSignal;
}

const STOPPED: ApiProblem = { kind: "aborted", message: "You stopped this answer." };
const CUT_OFF = "The connection was lost before the answer was complete. Try again.";

function defaultIsOnline(): boolean {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return nav?.onLine !== false;
}

export class Api {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: FetchLike;
  private readonly streamFetchImpl: FetchLike;
  private readonly isOnline: () => boolean;
  private token: string | null = null;
  private unauthorizedHandler: ((problem: ApiProblem) => void) | null = null;
  private forbiddenHandler: ((problem: ApiProblem) => void) | null = null;

  constructor(options: ApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.fetchImpl = options.fetch ?? ((url, init) => fetch(url, init));
    this.streamFetchImpl = options.streamFetch ?? ((url, init) => expoFetch(url, init as FetchRequestInit));
    this.isOnline = options.isOnline ?? defaultIsOnline;
  }

  setToken(token: string | null): void {
    this.token = token;
  }

  /** Called on every 401 from a request that carried a token. */
  setUnauthorizedHandler(handler: ((problem: ApiProblem) => void) | null): void {
    this.unauthorizedHandler = handler;
  }

  /** Called on every 403 from a request that carried a token (the auth context asks `/api/me`
   * whether the caller is still a member: one removed from the workspace gets 403 everywhere). */
  setForbiddenHandler(handler: ((problem: ApiProblem) => void) | null): void {
    this.forbiddenHandler = handler;
  }

  // ---- health ----
  health(): Promise<ApiResult<{ status: string; version?: string }>> {
    return this.request("GET", "/api/health", { auth: false });
  }

  // ---- notices ----
  async listNotices(includeExpired = false): Promise<ApiResult<Notice[]>> {
    const q = includeExpired ? "?include_expired=true" : "";
    const r = await this.request<{ notices: Notice[] }>("GET", `/api/notices${q}`);
    return r.kind === "ok" ? this.ok(r.data?.notices, "notices") : r;
  }
  getNotice(id: string): Promise<ApiResult<Notice>> {
    return this.request("GET", `/api/notices/${encodeURIComponent(id)}`);
  }
  createNotice(input: NoticeInput): Promise<ApiResult<Notice>> {
    return this.request("POST", "/api/notices", { body: input });
  }
  updateNotice(id: string, patch: NoticePatch): Promise<ApiResult<Notice>> {
    return this.request("PATCH", `/api/notices/${encodeURIComponent(id)}`, { body: patch });
  }
  deleteNotice(id: string): Promise<ApiResult<null>> {
    return this.request("DELETE", `/api/notices/${encodeURIComponent(id)}`, { empty: true });
  }

  /** 204: every notice is seen by the caller now (the unread count goes to 0). */
  markNoticesSeen(): Promise<ApiResult<null>> {
    return this.request("POST", "/api/notices/seen", { empty: true });
  }

  // ---- the caller, accounts ----
  async getMe(): Promise<ApiResult<Me>> {
    return this.parsed(await this.request<unknown>("GET", "/api/me"), parseMe, "profile");
  }
  /** Local accounts: e-mail + password (no token). 401 wrong, 403 removed, 404 passwords live
   * elsewhere (Cognito), 429 too many failed attempts (`retryAfterSeconds`). */
  async signIn(email: string, password: string): Promise<ApiResult<SignedIn>> {
    const r = await this.request<unknown>("POST", "/api/auth/sign-in", { body: { email, password }, auth: false });
    return this.parsed(r, parseSignedIn, "sign-in");
  }
  /** 204: this token and every earlier one of the caller's are refused from now on. */
  signOut(): Promise<ApiResult<null>> {
    return this.request("POST", "/api/auth/sign-out", { empty: true });
  }
  /** Public: the invitation's one-time code and a new password; 404 no open invitation has it,
   * 409 revoked/expired meanwhile, 422 password too short. */
  async acceptInvitation(code: string, password: string): Promise<ApiResult<SignedIn>> {
    const r = await this.request<unknown>("POST", "/api/invitations/accept", { body: { code, password }, auth: false });
    return this.parsed(r, parseSignedIn, "sign-in");
  }

  // ---- members and invitations (editors, but anyone may list members or leave) ----
  async listMembers(): Promise<ApiResult<Member[]>> {
    return this.parsed(await this.request<unknown>("GET", "/api/members"), parseMembers, "members list");
  }
  /** 409: the workspace would have no editor left. */
  async changeRole(userId: string, role: Role): Promise<ApiResult<Member>> {
    const r = await this.request<unknown>("PATCH", `/api/members/${encodeURIComponent(userId)}`, { body: { role } });
    return this.parsed(r, parseMember, "member");
  }
  /** 204: removed (their next request is refused); 409 the last editor. */
  removeMember(userId: string): Promise<ApiResult<null>> {
    return this.request("DELETE", `/api/members/${encodeURIComponent(userId)}`, { empty: true });
  }
  async invite(email: string, role: Role): Promise<ApiResult<InvitationCreated>> {
    const r = await this.request<unknown>("POST", "/api/invitations", { body: { email, role } });
    return this.parsed(r, parseInvitationCreated, "invitation");
  }
  async listInvitations(status?: InvitationStatus): Promise<ApiResult<Invitation[]>> {
    const q = status ? `?status=${encodeURIComponent(status)}` : "";
    return this.parsed(await this.request<unknown>("GET", `/api/invitations${q}`), parseInvitations, "invitations list");
  }
  revokeInvitation(invitationId: string): Promise<ApiResult<null>> {
    return this.request("DELETE", `/api/invitations/${encodeURIComponent(invitationId)}`, { empty: true });
  }

  // ---- pushes ----
  async setPushMuted(muted: boolean): Promise<ApiResult<{ muted: boolean }>> {
    const r = await this.request<unknown>("PUT", "/api/me/notifications", { body: { muted } });
    return this.parsed(r, parseMuted, "notification setting");
  }
  /** 201; the registered device when the server describes it, else null. */
  async registerDevice(expoPushToken: string, platform: PushPlatform): Promise<ApiResult<Device | null>> {
    const r = await this.request<unknown>("POST", "/api/devices", { body: { expo_push_token: expoPushToken, platform }, optionalBody: true });
    if (r.kind !== "ok" || r.data === null) return r as ApiResult<Device | null>;
    return this.parsed(r, parseDevice, "device");
  }
  async listDevices(): Promise<ApiResult<Device[]>> {
    return this.parsed(await this.request<unknown>("GET", "/api/devices"), parseDevices, "devices list");
  }
  removeDevice(deviceId: string): Promise<ApiResult<null>> {
    return this.request("DELETE", `/api/devices/${encodeURIComponent(deviceId)}`, { empty: true });
  }

  // ---- documents ----
  async listDocuments(): Promise<ApiResult<DocumentInfo[]>> {
    const r = await this.request<{ documents: DocumentInfo[] }>("GET", "/api/documents");
    return r.kind === "ok" ? this.ok(r.data?.documents, "documents") : r;
  }
  getDocument(id: string): Promise<ApiResult<DocumentInfo>> {
    return this.request("GET", `/api/documents/${encodeURIComponent(id)}`);
  }
  deleteDocument(id: string): Promise<ApiResult<null>> {
    return this.request("DELETE", `/api/documents/${encodeURIComponent(id)}`, { empty: true });
  }
  uploadDocument(file: UploadFile, metadata: Record<string, unknown> = {}): Promise<ApiResult<UploadResult>> {
    const form = new FormData();
    if (file.file) {
      // Web: a File/Blob from the file input.
      form.append("file", file.file, file.name);
    } else if (file.uri) {
      // Native: React Native's FormData takes {uri, name, type}.
      form.append("file", { uri: file.uri, name: file.name, type: file.mimeType || "application/octet-stream" } as unknown as Blob);
    } else {
      return Promise.resolve({ kind: "rejected", status: 0, code: "no_file", message: "Choose a file first." });
    }
    form.append("metadata", JSON.stringify(metadata));
    return this.request("POST", "/api/upload", { form, timeoutMs: UPLOAD_TIMEOUT_MS });
  }

  // ---- search and chat ----
  async search(query: string, topK = 5): Promise<ApiResult<Passage[]>> {
    const r = await this.request<{ results: Passage[] }>("POST", "/api/search", { body: { query, top_k: topK } });
    return r.kind === "ok" ? this.ok(r.data?.results, "results") : r;
  }
  async chat(request: ChatRequest): Promise<ApiResult<ChatAnswer>> {
    const r = await this.request<unknown>("POST", "/api/chat", { body: request, timeoutMs: CHAT_TIMEOUT_MS });
    return this.parsed(r, parseChatAnswer, "answer");
  }
  /**
   * The same question as `chat`, answered as Server-Sent Events: `onToken` sees the model's text
   * as it is written, and the result is the final, checked answer (or the problem that ended it).
   */
  async chatStream(request: ChatRequest, options: ChatStreamOptions = {}): Promise<ApiResult<ChatAnswer>> {
    const { onToken, signal } = options;
    if (signal?.aborted) return STOPPED;
    if (!this.isOnline()) {
      return { kind: "offline", temporary: true, message: "You are offline. Check your connection and try again." };
    }
    const headers: Record<string, string> = { Accept: "text/event-stream", "Content-Type": "application/json" };
    const sendsToken = !!this.token;
    if (sendsToken) headers.Authorization = `Bearer ${this.token}`;

    const controller = new AbortController();
    const stop = () => controller.abort();
    signal?.addEventListener("abort", stop);
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const quietFor = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, STREAM_IDLE_MS);
    };
    const failed = (message: string): ApiProblem =>
      signal?.aborted
        ? STOPPED
        : timedOut
          ? { kind: "timeout", temporary: true, message: "The server took too long to answer. Try again." }
          : { kind: "offline", temporary: true, message };

    try {
      quietFor();
      let response: Response;
      try {
        response = await this.streamFetchImpl(`${this.baseUrl}/api/chat`, {
          method: "POST",
          headers,
          body: JSON.stringify({ ...request, stream: true }),
          signal: controller.signal,
        });
      } catch {
        return failed("Cannot reach the server. Check your connection and try again.");
      }
      const type = response.headers?.get("content-type") ?? "";
      if (!response.ok || !type.toLowerCase().startsWith("text/event-stream")) {
        // An error before the stream began, or a server that answers in one piece: JSON.
        let text = "";
        try {
          text = await response.text();
        } catch {
          return failed("The connection was lost. Try again.");
        }
        return this.answerOf(response.status, response.ok, text, sendsToken);
      }

      const parser = new SseParser();
      const reader = response.body?.getReader();
      if (!reader) {
        // No readable body on this platform's fetch: the events all at once.
        let text = "";
        try {
          text = await response.text();
        } catch {
          return failed(CUT_OFF);
        }
        for (const event of [...parser.feed(text), ...parser.end()]) {
          const outcome = this.streamEvent(event, onToken);
          if (outcome) return outcome;
        }
        return failed(CUT_OFF);
      }
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch {
          return failed(CUT_OFF);
        }
        if (chunk.done) break;
        quietFor();
        for (const event of parser.feed(chunk.value)) {
          const outcome = this.streamEvent(event, onToken);
          if (outcome) {
            reader.cancel().catch(() => undefined);
            return outcome;
          }
        }
      }
      for (const event of parser.end()) {
        const outcome = this.streamEvent(event, onToken);
        if (outcome) return outcome;
      }
      return failed(CUT_OFF);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
    }
  }

  getConversation(id: string): Promise<ApiResult<Conversation>> {
    return this.request("GET", `/api/conversations/${encodeURIComponent(id)}`);
  }

  // ---- fine-tuning and models ----
  /** 202 `{job_id, status, dataset}`; 422 bad/unknown parameter or too little data, 403 members,
   * 409 a job already runs in this workspace, 503 training could not be launched. */
  async startFineTune(parameters: FineTuneParameters = {}): Promise<ApiResult<FineTuneStarted>> {
    const r = await this.request<unknown>("POST", "/api/fine-tune", { body: { parameters } });
    return this.parsed(r, parseFineTuneStarted, "fine-tune job");
  }
  async getFineTune(jobId: string): Promise<ApiResult<FineTuneJob>> {
    const r = await this.request<unknown>("GET", `/api/fine-tune/${encodeURIComponent(jobId)}`);
    return this.parsed(r, parseFineTuneJob, "fine-tune job");
  }
  /** The workspace's fine-tune jobs, newest first. */
  async listFineTunes(): Promise<ApiResult<FineTuneJob[]>> {
    const r = await this.request<unknown>("GET", "/api/fine-tune");
    return this.parsed(r, parseFineTuneJobs, "jobs list");
  }
  async listModels(): Promise<ApiResult<ModelList>> {
    const r = await this.request<unknown>("GET", "/api/models");
    return this.parsed(r, parseModelList, "models list");
  }
  /** Roll forward or back to a version; `BASE_MODEL_ID` ("base") goes back to the shared base model. */
  async activateModel(modelId: string): Promise<ApiResult<ModelVersion>> {
    const r = await this.request<unknown>("POST", `/api/models/${encodeURIComponent(modelId)}/activate`, { body: {} });
    return this.parsed(r, parseModelVersion, "model");
  }

  // ---- transport ----
  /** What one event of a streamed answer means: a token (null: read on), or the end. */
  private streamEvent(event: SseEvent, onToken?: (text: string) => void): ApiResult<ChatAnswer> | null {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return { kind: "bad-data", message: "The server's answer is not valid." };
    }
    switch (event.event) {
      case "token": {
        const text = (data as { text?: unknown } | null)?.text;
        if (typeof text !== "string") return { kind: "bad-data", message: "The server's answer is not valid." };
        onToken?.(text);
        return null;
      }
      case "final": {
        const answer = parseChatAnswer(data);
        return answer ? { kind: "ok", data: answer } : { kind: "bad-data", message: "The server's answer is not a valid answer." };
      }
      case "error":
        return problemFromStreamError(data);
      default:
        return null; // an event a newer server sends that this app does not know
    }
  }

  private answerOf(status: number, ok: boolean, text: string, sendsToken: boolean): ApiResult<ChatAnswer> {
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      if (ok) return { kind: "bad-data", message: "The server's answer is not JSON." };
    }
    if (ok) return this.parsed({ kind: "ok", data: json }, parseChatAnswer, "answer");
    const problem = problemFromResponse(status, json);
    if (problem.kind === "unauthorized" && sendsToken) this.unauthorizedHandler?.(problem);
    return problem;
  }

  private ok<T>(value: T[] | undefined, field: string): ApiResult<T[]> {
    return Array.isArray(value)
      ? { kind: "ok", data: value }
      : { kind: "bad-data", message: `The server's answer has no '${field}' list.` };
  }

  private parsed<T>(r: ApiResult<unknown>, parse: (v: unknown) => T | null, what: string): ApiResult<T> {
    if (r.kind !== "ok") return r;
    const data = parse(r.data);
    return data === null ? { kind: "bad-data", message: `The server's answer is not a valid ${what}.` } : { kind: "ok", data };
  }

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResult<T>> {
    if (!this.isOnline()) {
      return { kind: "offline", temporary: true, message: "You are offline. Check your connection and try again." };
    }
    const headers: Record<string, string> = { Accept: "application/json" };
    const sendsToken = options.auth !== false && !!this.token;
    if (sendsToken) headers.Authorization = `Bearer ${this.token}`;
    let body: BodyInit | undefined;
    if (options.form) {
      body = options.form; // fetch sets the multipart boundary itself
    } else if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.timeoutMs ?? this.timeoutMs);

    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, { method, headers, body, signal: controller.signal });
    } catch {
      clearTimeout(timer);
      return timedOut
        ? { kind: "timeout", temporary: true, message: "The server took too long to answer. Try again." }
        : { kind: "offline", temporary: true, message: "Cannot reach the server. Check your connection and try again." };
    }

    let text = "";
    try {
      text = await response.text();
    } catch {
      clearTimeout(timer);
      return timedOut
        ? { kind: "timeout", temporary: true, message: "The server took too long to answer. Try again." }
        : { kind: "offline", temporary: true, message: "The connection was lost. Try again." };
    }
    clearTimeout(timer);

    let json: unknown = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        if (response.ok) return { kind: "bad-data", message: "The server's answer is not JSON." };
      }
    }

    if (response.ok) {
      if (options.empty) return { kind: "ok", data: null as T };
      if (json === null) return options.optionalBody ? { kind: "ok", data: null as T } : { kind: "bad-data", message: "The server's answer is empty." };
      return { kind: "ok", data: json as T };
    }
    const problem = problemFromResponse(response.status, json, response.headers?.get?.("retry-after") ?? null);
    if (problem.kind === "unauthorized" && sendsToken) this.unauthorizedHandler?.(problem);
    if (problem.kind === "forbidden" && sendsToken) this.forbiddenHandler?.(problem);
    return problem;
  }
}

/** What screens' hooks need from a client; tests pass a fake with the same shape. */
export type ApiClient = Pick<
  Api,
  | "setToken"
  | "setUnauthorizedHandler"
  | "setForbiddenHandler"
  | "health"
  | "markNoticesSeen"
  | "getMe"
  | "signIn"
  | "signOut"
  | "acceptInvitation"
  | "listMembers"
  | "changeRole"
  | "removeMember"
  | "invite"
  | "listInvitations"
  | "revokeInvitation"
  | "setPushMuted"
  | "registerDevice"
  | "listDevices"
  | "removeDevice"
  | "listNotices"
  | "getNotice"
  | "createNotice"
  | "updateNotice"
  | "deleteNotice"
  | "listDocuments"
  | "getDocument"
  | "deleteDocument"
  | "uploadDocument"
  | "search"
  | "chat"
  | "chatStream"
  | "getConversation"
  | "startFineTune"
  | "getFineTune"
  | "listFineTunes"
  | "listModels"
  | "activateModel"
>;
