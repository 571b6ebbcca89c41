import { Api, type FetchLike } from "./api";
import { parseChatAnswer } from "./parse";

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));
const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

const FINAL = {
  answer: "The regatta starts at 09:00 [1].",
  citations: [{ document_id: "n1", title: "Regatta", page: null, snippet: "The regatta starts at 09:00.", score: 1.2 }],
  conversation_id: "c1",
  model: "SmolLM2",
  usage: { completion_tokens: 6 },
  grounded: true,
  answer_check: null,
  warning: null,
  model_name: null,
  support: "supported",
};

/** A response whose body is read chunk by chunk, as expo/fetch gives it; `read()` can be held
 * until a test releases it, and fails once the request's signal aborts. */
function streamed(chunks: Uint8Array[], init: { status?: number; type?: string; signal?: AbortSignal | null } = {}) {
  const queue = [...chunks];
  let cancelled = false;
  const reader = {
    read: () =>
      new Promise<ReadableStreamReadResult<Uint8Array>>((resolve, reject) => {
        if (init.signal?.aborted) return reject(new Error("aborted"));
        init.signal?.addEventListener("abort", () => reject(new Error("aborted")));
        const next = queue.shift();
        if (next === undefined) {
          if (!holdAtEnd) resolve({ done: true, value: undefined });
          return;
        }
        resolve({ done: false, value: next });
      }),
    cancel: jest.fn(async () => {
      cancelled = true;
    }),
  };
  let holdAtEnd = false;
  const status = init.status ?? 200;
  return {
    response: {
      ok: status >= 200 && status < 300,
      status,
      headers: { get: (name: string) => (name.toLowerCase() === "content-type" ? (init.type ?? "text/event-stream") : null) },
      body: { getReader: () => reader },
      text: async () => Buffer.from(chunks.flatMap((c) => Array.from(c))).toString("utf8"),
    } as unknown as Response,
    reader,
    hold: () => {
      holdAtEnd = true;
    },
    wasCancelled: () => cancelled,
  };
}

function client(streamFetch: FetchLike) {
  const api = new Api({ baseUrl: "http://api.test/", fetch: jest.fn(), streamFetch, isOnline: () => true });
  api.setToken("tok");
  return api;
}

describe("Api.chatStream", () => {
  it("asks for events, hands each token over as it arrives, and returns the final answer", async () => {
    // Chunks cut inside an event, inside a line and inside the UTF-8 of "é".
    const bytes = utf8(frame("token", { text: "The régatta " }) + frame("token", { text: "starts at 09:00." }) + frame("final", FINAL));
    const cuts = [5, 27, 40, 41, bytes.length - 3];
    const chunks = [0, ...cuts].map((start, i) => bytes.slice(start, [...cuts, bytes.length][i]));
    const streamFetch = jest.fn(async () => streamed(chunks).response);
    const tokens: string[] = [];
    const r = await client(streamFetch).chatStream({ query: "When?", conversation_id: "c0" }, { onToken: (t) => tokens.push(t) });

    expect(tokens).toEqual(["The régatta ", "starts at 09:00."]);
    expect(r).toEqual({ kind: "ok", data: FINAL });
    const [url, init] = streamFetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://api.test/api/chat");
    expect(init.method).toBe("POST");
    expect(JSON.parse(init.body as string)).toEqual({ query: "When?", conversation_id: "c0", stream: true });
    const headers = init.headers as Record<string, string>;
    expect(headers.Accept).toBe("text/event-stream");
    expect(headers.Authorization).toBe("Bearer tok");
  });

  it("ends with the problem an error event carries", async () => {
    const body = utf8(frame("token", { text: "The " }) + frame("error", { error: { code: "model_unavailable", message: "the model server went away" } }));
    const r = await client(async () => streamed([body]).response).chatStream({ query: "q" });
    expect(r).toEqual({ kind: "server", status: 503, message: "the model server went away" });
  });

  it("answers a refusal before the stream from its JSON, and tells the sign-in handler about a 401", async () => {
    const refused = (status: number, code: string, message: string) => async () =>
      streamed([utf8(JSON.stringify({ error: { code, message } }))], { status, type: "application/json" }).response;
    expect(await client(refused(422, "validation_error", "query: too short")).chatStream({ query: "" })).toEqual({
      kind: "rejected",
      status: 422,
      code: "validation_error",
      message: "query: too short",
    });
    expect((await client(refused(404, "not_found", "conversation x not found")).chatStream({ query: "q" })).kind).toBe("not-found");
    const api = client(refused(401, "unauthorized", "token expired"));
    const handler = jest.fn();
    api.setUnauthorizedHandler(handler);
    expect((await api.chatStream({ query: "q" })).kind).toBe("unauthorized");
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("takes a server that answers in one JSON piece", async () => {
    const r = await client(async () => streamed([utf8(JSON.stringify(FINAL))], { type: "application/json" }).response).chatStream({ query: "q" });
    expect(r).toEqual({ kind: "ok", data: FINAL });
  });

  it("reads the events at once where the platform's fetch has no readable body", async () => {
    const { response } = streamed([utf8(frame("token", { text: "Hi" }) + frame("final", FINAL))]);
    (response as unknown as { body: null }).body = null;
    const tokens: string[] = [];
    expect(await client(async () => response).chatStream({ query: "q" }, { onToken: (t) => tokens.push(t) })).toEqual({ kind: "ok", data: FINAL });
    expect(tokens).toEqual(["Hi"]);
  });

  it("says the connection was lost when the stream ends without its final event", async () => {
    const r = await client(async () => streamed([utf8(frame("token", { text: "The " }) + "event: final\ndata: {")]).response).chatStream({ query: "q" });
    expect(r).toEqual({ kind: "offline", temporary: true, message: "The connection was lost before the answer was complete. Try again." });
  });

  it("stops when the caller aborts: the request is aborted and the result says so", async () => {
    let requestSignal: AbortSignal | null | undefined;
    let stream: ReturnType<typeof streamed> | undefined;
    const streamFetch: FetchLike = async (_url, init) => {
      requestSignal = init.signal;
      stream = streamed([utf8(frame("token", { text: "The " }))], { signal: init.signal });
      stream.hold();
      return stream.response;
    };
    const controller = new AbortController();
    const tokens: string[] = [];
    const pending = client(streamFetch).chatStream({ query: "q" }, { signal: controller.signal, onToken: (t) => tokens.push(t) });
    await new Promise((r) => setTimeout(r, 10));
    expect(tokens).toEqual(["The "]);
    controller.abort();
    expect(await pending).toEqual({ kind: "aborted", message: "You stopped this answer." });
    expect(requestSignal?.aborted).toBe(true);
  });

  it("does not send a request that was stopped before it started", async () => {
    const streamFetch = jest.fn();
    const controller = new AbortController();
    controller.abort();
    expect((await client(streamFetch).chatStream({ query: "q" }, { signal: controller.signal })).kind).toBe("aborted");
    expect(streamFetch).not.toHaveBeenCalled();
  });

  it("flags events it cannot read", async () => {
    const bad = async () => streamed([utf8("event: token\ndata: not json\n\n")]).response;
    expect((await client(bad).chatStream({ query: "q" })).kind).toBe("bad-data");
    const noAnswer = async () => streamed([utf8(frame("final", { citations: [] }))]).response;
    expect((await client(noAnswer).chatStream({ query: "q" })).kind).toBe("bad-data");
  });

  it("stops reading once the final event is in", async () => {
    const stream = streamed([utf8(frame("final", FINAL))]);
    stream.hold();
    expect((await client(async () => stream.response).chatStream({ query: "q" })).kind).toBe("ok");
    expect(stream.wasCancelled()).toBe(true);
  });
});

describe("parseChatAnswer's support verdict", () => {
  const base = { answer: "A", citations: [], conversation_id: "c", model: "m", usage: {}, grounded: true };
  it.each([
    [{ support: "partly_supported" }, "partly_supported"],
    [{ support: "evidence" }, "evidence"],
    [{}, "supported"], // a server from before the support check
    [{ grounded: false }, "not_found"],
    [{ support: 5 }, "supported"],
  ])("%j -> %s", (extra, verdict) => {
    expect(parseChatAnswer({ ...base, ...extra })?.support).toBe(verdict);
  });
});
