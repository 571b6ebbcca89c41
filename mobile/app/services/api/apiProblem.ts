/**
 * Everything that can go wrong with a request, as a closed union (after ignite's `apiProblem.ts`).
 * Screens switch on `kind`; `message` is always safe to show to a person.
 */
export type ApiProblem =
  /** No answer within the client's timeout. */
  | { kind: "timeout"; temporary: true; message: string }
  /** The device is offline or the server cannot be reached. */
  | { kind: "offline"; temporary: true; message: string }
  /** 401: the token is missing, expired or not accepted; the app goes back to sign-in. */
  | { kind: "unauthorized"; message: string }
  /** 403: signed in, but not allowed (e.g. a member trying an editor's action). */
  | { kind: "forbidden"; message: string }
  /** 404: no such thing, or no such route on this server. */
  | { kind: "not-found"; message: string; code: string }
  /** 400/409/413/422/429 and other 4xx: the server refused the input. A 429 says how long to
   * wait before trying again (its Retry-After header) in `retryAfterSeconds`. */
  | { kind: "rejected"; status: number; code: string; message: string; retryAfterSeconds?: number }
  /** 5xx */
  | { kind: "server"; status: number; message: string }
  /** The server answered with something that is not the expected JSON. */
  | { kind: "bad-data"; message: string }
  /** The user stopped the request (a streamed answer's Stop button). */
  | { kind: "aborted"; message: string };

export type ApiResult<T> = { kind: "ok"; data: T } | ApiProblem;

export interface ErrorBody {
  error?: { code?: string; message?: string };
}

/** Turn an HTTP status and the API's `{error: {code, message}}` body into a problem. */
export function problemFromResponse(status: number, body: unknown, retryAfter?: string | null): ApiProblem {
  const err = (body as ErrorBody | null)?.error;
  const code = typeof err?.code === "string" ? err.code : `http_${status}`;
  const serverMessage = typeof err?.message === "string" ? err.message : "";
  switch (true) {
    case status === 401:
      return { kind: "unauthorized", message: serverMessage || "Please sign in again." };
    case status === 403:
      return { kind: "forbidden", message: serverMessage || "You are not allowed to do that." };
    case status === 404:
      return { kind: "not-found", code, message: serverMessage || "Not found." };
    case status >= 500:
      return { kind: "server", status, message: serverMessage || "The server had a problem; try again." };
    case status === 429: {
      const wait = retryAfterSeconds(retryAfter);
      const problem: ApiProblem = { kind: "rejected", status, code, message: serverMessage || "Too many attempts; wait a moment and try again." };
      return wait === null ? problem : { ...problem, retryAfterSeconds: wait };
    }
    default:
      return { kind: "rejected", status, code, message: serverMessage || `The request was refused (${status}).` };
  }
}

/** Retry-After in seconds (a number of seconds, or an HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Math.max(1, parseInt(trimmed, 10));
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(1, Math.ceil((at - now) / 1000));
}

/** Statuses of the error codes a streamed answer can end with, which carry no HTTP status of
 * their own (the stream had already started with 200). */
const STREAM_ERROR_STATUS: Record<string, number> = { model_unavailable: 503, internal_error: 500 };

/** The problem of an `error` event that ends a streamed answer (`{error: {code, message}}`). */
export function problemFromStreamError(body: unknown): ApiProblem {
  const code = (body as ErrorBody | null)?.error?.code;
  const status = (typeof code === "string" && STREAM_ERROR_STATUS[code]) || (code ? 400 : 500);
  return problemFromResponse(status, body);
}

export function isTemporary(problem: ApiProblem): boolean {
  return "temporary" in problem && problem.temporary === true;
}
