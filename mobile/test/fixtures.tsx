import { render, type RenderOptions } from "@testing-library/react-native";
import type { ReactElement } from "react";

import type { CognitoConfig } from "../app/config";
import { AppProviders } from "../app/context/AuthContext";
import type { ApiClient, ApiResult, ChatAnswer, ChatRequest, ChatStreamOptions, DocumentInfo, FineTuneJob, Invitation, Me, Member, ModelList, ModelVersion, Notice, SignedIn } from "../app/services/api";
import type { NotificationEvents, OpenedNotification } from "../app/services/push/notificationEvents";
import type { PushTokenSource } from "../app/services/push/types";
import { type Session, sessionFromToken } from "../app/services/auth/jwt";
import { type KeyValueStorage, memoryStorage } from "../app/services/auth/storageTypes";

const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

export function makeToken(claims: Record<string, unknown> = {}): string {
  const payload = {
    sub: "dev-editor",
    "cognito:username": "dev-editor",
    "cognito:groups": ["editors"],
    "custom:workspace": "demo",
    exp: Math.floor(Date.now() / 1000) + 3600,
    ...claims,
  };
  return `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(payload)}.signature`;
}

export function makeSession(claims: Record<string, unknown> = {}): Session {
  const r = sessionFromToken(makeToken(claims));
  if (!r.ok) throw new Error(r.reason);
  return r.session;
}

export const editorSession = () => makeSession();
export const memberSession = () => makeSession({ sub: "sam", "cognito:username": "sam", "cognito:groups": [] });

export const ok = <T,>(data: T): ApiResult<T> => ({ kind: "ok", data });

export function notice(over: Partial<Notice> = {}): Notice {
  return {
    notice_id: "n1",
    title: "Summer party",
    body: "Saturday at the boathouse.",
    pinned: false,
    expires_at: null,
    expired: false,
    author: "dev-editor",
    created_at: "2026-06-01T10:00:00Z",
    updated_at: "2026-06-01T10:00:00Z",
    ...over,
  };
}

export function doc(over: Partial<DocumentInfo> = {}): DocumentInfo {
  return {
    document_id: "d1",
    filename: "handbook.pdf",
    title: "Club handbook",
    content_type: "application/pdf",
    size_bytes: 2048,
    status: "indexed",
    error: null,
    chunk_count: 4,
    page_count: 2,
    uploaded_by: "dev-editor",
    created_at: "2026-06-01T10:00:00Z",
    updated_at: "2026-06-01T10:00:00Z",
    ...over,
  };
}

export function answer(over: Partial<ChatAnswer> = {}): ChatAnswer {
  return {
    answer: "The party is on Saturday.",
    citations: [
      { document_id: "d1", title: "Club handbook", page: 3, snippet: "The summer party is on Saturday at six.", score: 0.9 },
      { document_id: "n1", title: "Summer party", page: null, snippet: "Saturday at the boathouse.", score: 0.5 },
    ],
    conversation_id: "c1",
    model: "SmolLM2",
    usage: {},
    grounded: true,
    answer_check: null,
    warning: null,
    support: "supported",
    ...over,
  };
}

export function fineTuneJob(over: Partial<FineTuneJob> = {}): FineTuneJob {
  return {
    job_id: "job-1",
    status: "running",
    stage: "training",
    progress: null,
    metrics: {},
    error: null,
    model_id: null,
    dataset: { train: 21, validation: 2 },
    parameters: { epochs: 3, learning_rate: 0.0002 },
    created_at: "2026-07-01T10:00:00Z",
    updated_at: "2026-07-01T10:00:00Z",
    finished_at: null,
    ...over,
  };
}

export function modelVersion(over: Partial<ModelVersion> = {}): ModelVersion {
  return {
    model_id: "m1",
    name: "demo v1",
    base_model: "SmolLM2",
    status: "available",
    active: false,
    job_id: "job-1",
    metrics: {},
    reason: "",
    created_at: "2026-07-01T12:00:00Z",
    updated_at: "2026-07-01T12:00:00Z",
    ...over,
  };
}

/** `GET /api/models`; `active_model_id` follows the versions' `active` flag unless given. */
export function modelList(models: ModelVersion[] = [], over: Partial<ModelList> = {}): ModelList {
  return { models, active_model_id: models.find((m) => m.active)?.model_id ?? null, base_model: "SmolLM2", ...over };
}

export function me(over: Partial<Me> = {}): Me {
  return {
    user_id: "dev-editor",
    workspace_id: "demo",
    role: "editor",
    email: "ed@club.test",
    personal_workspace: false,
    joined_at: "2026-01-01T00:00:00Z",
    invited_by: "operator",
    unread_notices: null,
    push_muted: null,
    ...over,
  };
}

export function member(over: Partial<Member> = {}): Member {
  return { user_id: "u2", role: "member", email: "sam@club.test", joined_at: "2026-02-01T00:00:00Z", invited_by: "dev-editor", ...over };
}

export function invitation(over: Partial<Invitation> = {}): Invitation {
  return {
    invitation_id: "i1",
    email: "kim@club.test",
    role: "member",
    status: "pending",
    invited_by: "dev-editor",
    created_at: "2026-03-01T00:00:00Z",
    expires_at: "2026-03-08T00:00:00Z",
    accepted_at: null,
    revoked_at: null,
    ...over,
  };
}

export function signedIn(over: Partial<SignedIn> = {}, claims: Record<string, unknown> = {}): SignedIn {
  return { token: makeToken(claims), expires_at: "2026-12-31T00:00:00Z", user_id: "dev-editor", workspace_id: "demo", role: "editor", email: "ed@club.test", ...over };
}

/** The web's push source (no token): the default for rendered screens. */
export const webPush: PushTokenSource = { platform: "web", getExpoPushToken: async () => ({ kind: "unavailable", reason: "web" }) };

/** Pushes that never come: the default for rendered screens. */
export const noNotifications: NotificationEvents = { showWhileOpen: () => undefined, onOpen: () => () => undefined };

/** Pushes a test taps by hand: `tap(data)` reports an opened notification to the app. */
export function tappableNotifications() {
  const listeners = new Set<(opened: OpenedNotification) => void>();
  let count = 0;
  const events: NotificationEvents & { showWhileOpen: jest.Mock } = {
    showWhileOpen: jest.fn(),
    onOpen: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    events,
    listening: () => listeners.size,
    tap: (data: unknown) => listeners.forEach((l) => l({ id: `n${++count}`, data })),
  };
}

export type FakeApi = { [K in keyof ApiClient]: jest.Mock };

/** A fake `chatStream`: sends `tokens` to `onToken`, then answers with `result`. */
export function streamedChat(result: ApiResult<ChatAnswer> = ok(answer()), tokens: string[] = ["The party ", "is on ", "Saturday."]): jest.Mock {
  return jest.fn(async (_request: ChatRequest, options: ChatStreamOptions = {}) => {
    for (const t of tokens) options.onToken?.(t);
    return result;
  });
}

/** A client whose every method is a jest.fn; unset ones answer with empty but valid data. */
export function fakeApi(over: Partial<Record<keyof ApiClient, jest.Mock>> = {}): FakeApi {
  const base: FakeApi = {
    setToken: jest.fn(),
    setUnauthorizedHandler: jest.fn(),
    setForbiddenHandler: jest.fn(),
    markNoticesSeen: jest.fn(async () => ok(null)),
    getMe: jest.fn(async () => ok(me())),
    signIn: jest.fn(async () => ok(signedIn())),
    signOut: jest.fn(async () => ok(null)),
    acceptInvitation: jest.fn(async () => ok(signedIn())),
    listMembers: jest.fn(async () => ok([])),
    changeRole: jest.fn(async () => ok(member())),
    removeMember: jest.fn(async () => ok(null)),
    invite: jest.fn(async () => ok({ ...invitation(), code: null })),
    listInvitations: jest.fn(async () => ok([])),
    revokeInvitation: jest.fn(async () => ok(null)),
    setPushMuted: jest.fn(async (muted: boolean) => ok({ muted })),
    registerDevice: jest.fn(async () => ok(null)),
    listDevices: jest.fn(async () => ok([])),
    removeDevice: jest.fn(async () => ok(null)),
    health: jest.fn(async () => ok({ status: "ok" })),
    listNotices: jest.fn(async () => ok([])),
    getNotice: jest.fn(async () => ok(notice())),
    createNotice: jest.fn(async () => ok(notice())),
    updateNotice: jest.fn(async () => ok(notice())),
    deleteNotice: jest.fn(async () => ok(null)),
    listDocuments: jest.fn(async () => ok([])),
    getDocument: jest.fn(async () => ok(doc())),
    deleteDocument: jest.fn(async () => ok(null)),
    uploadDocument: jest.fn(async () => ok({ document_id: "d9", status: "queued" })),
    search: jest.fn(async () => ok([])),
    chat: jest.fn(async () => ok(answer())),
    chatStream: streamedChat(),
    getConversation: jest.fn(),
    startFineTune: jest.fn(async () => ok({ job_id: "job-1", status: "queued", dataset: { train: 21, validation: 2 } })),
    getFineTune: jest.fn(async () => ok(fineTuneJob())),
    listFineTunes: jest.fn(async () => ok([])),
    listModels: jest.fn(async () => ok(modelList())),
    activateModel: jest.fn(async () => ok(modelVersion({ active: true }))),
  };
  return { ...base, ...over } as FakeApi;
}

export interface RenderWithAppOptions extends RenderOptions {
  api?: FakeApi;
  session?: Session | null;
  storage?: KeyValueStorage;
  pushTokens?: PushTokenSource;
  notifications?: NotificationEvents;
  /** The Cognito hosted UI's settings; none (local accounts) unless given. */
  cognito?: CognitoConfig | null;
}

export function renderWithApp(
  ui: ReactElement,
  { api = fakeApi(), session = editorSession(), storage = memoryStorage(), pushTokens = webPush, notifications = noNotifications, cognito = null, ...options }: RenderWithAppOptions = {},
) {
  const utils = render(
    <AppProviders api={api} initialSession={session} storage={storage} cognito={cognito} pushTokens={pushTokens} notifications={notifications}>
      {ui}
    </AppProviders>,
    options,
  );
  return { ...utils, api, storage };
}
