import { render, type RenderOptions } from "@testing-library/react-native";
import type { ReactElement } from "react";

import { AppProviders } from "../app/context/AuthContext";
import type { ApiClient, ApiResult, ChatAnswer, DocumentInfo, Notice } from "../app/services/api";
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
    ...over,
  };
}

export type FakeApi = { [K in keyof ApiClient]: jest.Mock };

/** A client whose every method is a jest.fn; unset ones answer with empty but valid data. */
export function fakeApi(over: Partial<Record<keyof ApiClient, jest.Mock>> = {}): FakeApi {
  const base: FakeApi = {
    setToken: jest.fn(),
    setUnauthorizedHandler: jest.fn(),
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
    getConversation: jest.fn(),
    startFineTune: jest.fn(async () => ok({ job_id: "job-1" })),
    getFineTune: jest.fn(async () => ok({ job_id: "job-1", status: "running" })),
    listModels: jest.fn(async () => ok([])),
    activateModel: jest.fn(async () => ok({ model_id: "m1", active: true })),
  };
  return { ...base, ...over } as FakeApi;
}

export interface RenderWithAppOptions extends RenderOptions {
  api?: FakeApi;
  session?: Session | null;
  storage?: KeyValueStorage;
}

export function renderWithApp(ui: ReactElement, { api = fakeApi(), session = editorSession(), storage = memoryStorage(), ...options }: RenderWithAppOptions = {}) {
  const utils = render(
    <AppProviders api={api} initialSession={session} storage={storage} cognito={null}>
      {ui}
    </AppProviders>,
    options,
  );
  return { ...utils, api, storage };
}
