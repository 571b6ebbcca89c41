import { Api, type FetchLike } from "./api";

function response(status: number, body: unknown): Response {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  return { ok: status >= 200 && status < 300, status, text: async () => text } as unknown as Response;
}

function client(fetchImpl: FetchLike, extra: Partial<ConstructorParameters<typeof Api>[0]> = {}) {
  const api = new Api({ baseUrl: "http://api.test/", fetch: fetchImpl, isOnline: () => true, ...extra });
  api.setToken("tok");
  return api;
}

describe("Api", () => {
  it("returns ok with the list and sends the bearer token", async () => {
    const fetchImpl = jest.fn(async () => response(200, { notices: [{ notice_id: "n1" }] }));
    const r = await client(fetchImpl).listNotices();
    expect(r).toEqual({ kind: "ok", data: [{ notice_id: "n1" }] });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://api.test/api/notices");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tok");
  });

  it("sends JSON bodies and no token to public routes", async () => {
    const fetchImpl = jest.fn(async () => response(201, { notice_id: "n2" }));
    const api = client(fetchImpl);
    await api.createNotice({ title: "T", body: "B", pinned: true });
    let init = (fetchImpl.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect(init.method).toBe("POST");
    expect(JSON.parse(init.body as string)).toEqual({ title: "T", body: "B", pinned: true });
    expect((init.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
    fetchImpl.mockResolvedValueOnce(response(200, { status: "ok" }));
    await api.health();
    init = (fetchImpl.mock.calls[1] as unknown as [string, RequestInit])[1];
    expect((init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it("turns a 401 into 'unauthorized' and tells the sign-in handler", async () => {
    const api = client(async () => response(401, { error: { code: "unauthorized", message: "token expired" } }));
    const handler = jest.fn();
    api.setUnauthorizedHandler(handler);
    const r = await api.listDocuments();
    expect(r).toEqual({ kind: "unauthorized", message: "token expired" });
    expect(handler).toHaveBeenCalledWith(r);
  });

  it.each([
    [403, { error: { code: "forbidden", message: "editors only" } }, { kind: "forbidden", message: "editors only" }],
    [404, { error: { code: "not_found", message: "no route" } }, { kind: "not-found", code: "not_found", message: "no route" }],
    [422, { error: { code: "validation_error", message: "title: too short" } }, { kind: "rejected", status: 422, code: "validation_error", message: "title: too short" }],
    [500, { error: { code: "internal_error", message: "oops" } }, { kind: "server", status: 500, message: "oops" }],
    [502, "<html>bad gateway</html>", { kind: "server", status: 502, message: "The server had a problem; try again." }],
  ])("maps HTTP %s to a problem", async (status, body, expected) => {
    const r = await client(async () => response(status, body)).getNotice("x");
    expect(r).toEqual(expected);
  });

  it("reports offline when fetch fails, and when the device says so without calling fetch", async () => {
    const r = await client(async () => {
      throw new TypeError("Network request failed");
    }).listNotices();
    expect(r.kind).toBe("offline");
    const fetchImpl = jest.fn();
    const r2 = await client(fetchImpl, { isOnline: () => false }).listNotices();
    expect(r2.kind).toBe("offline");
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it("gives up after the timeout", async () => {
    const never: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
    const r = await client(never, { timeoutMs: 20 }).listNotices();
    expect(r.kind).toBe("timeout");
  });

  it("flags answers that are not the expected JSON", async () => {
    expect((await client(async () => response(200, "<html>")).getNotice("x")).kind).toBe("bad-data");
    expect((await client(async () => response(200, { items: [] })).listNotices()).kind).toBe("bad-data");
  });

  it("accepts an empty 204 for deletes", async () => {
    expect(await client(async () => response(204, undefined)).deleteNotice("n1")).toEqual({ kind: "ok", data: null });
  });

  it("uploads multipart with the file and the metadata JSON", async () => {
    const fetchImpl = jest.fn(async () => response(202, { document_id: "d1", status: "queued" }));
    const blob = new Blob(["hello"], { type: "text/plain" });
    const r = await client(fetchImpl).uploadDocument({ name: "a.txt", file: blob }, { title: "A" });
    expect(r).toEqual({ kind: "ok", data: { document_id: "d1", status: "queued" } });
    const init = (fetchImpl.mock.calls[0] as unknown as [string, RequestInit])[1];
    const form = init.body as FormData;
    expect(form).toBeInstanceOf(FormData);
    expect(form.get("metadata")).toBe(JSON.stringify({ title: "A" }));
    expect(form.get("file")).toBeTruthy();
    expect((init.headers as Record<string, string>)["Content-Type"]).toBeUndefined();
  });

  it("refuses an upload without a file before sending anything", async () => {
    const fetchImpl = jest.fn();
    const r = await client(fetchImpl).uploadDocument({ name: "x" });
    expect(r.kind).toBe("rejected");
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it("starts a fine-tune with only the given parameters and parses the 202", async () => {
    const fetchImpl = jest.fn(async () => response(202, { job_id: "j1", status: "running", dataset: { train: 21, validation: 2, note: "x" } }));
    const api = client(fetchImpl);
    expect(await api.startFineTune({ epochs: 2, learning_rate: 0.001 })).toEqual({ kind: "ok", data: { job_id: "j1", status: "running", dataset: { train: 21, validation: 2 } } });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://api.test/api/fine-tune");
    expect(init.method).toBe("POST");
    expect(JSON.parse(init.body as string)).toEqual({ parameters: { epochs: 2, learning_rate: 0.001 } });
    await api.startFineTune();
    expect(JSON.parse((fetchImpl.mock.calls[1] as unknown as [string, RequestInit])[1].body as string)).toEqual({ parameters: {} });
    expect((await client(async () => response(202, { status: "queued" })).startFineTune({})).kind).toBe("bad-data");
  });

  it.each([
    [422, { error: { code: "unprocessable", message: "invalid fine-tune parameters: epochs must be between 1 and 20 (got 0)" } }, { kind: "rejected", status: 422, code: "unprocessable", message: "invalid fine-tune parameters: epochs must be between 1 and 20 (got 0)" }],
    [409, { error: { code: "conflict", message: "fine-tune j0 is still running" } }, { kind: "rejected", status: 409, code: "conflict", message: "fine-tune j0 is still running" }],
    [403, { error: { code: "forbidden", message: "editors only" } }, { kind: "forbidden", message: "editors only" }],
    [503, { error: { code: "model_unavailable", message: "the training job could not be started; try again later" } }, { kind: "server", status: 503, message: "the training job could not be started; try again later" }],
  ])("maps a refused fine-tune (%s) to a problem with the server's message", async (status, body, expected) => {
    expect(await client(async () => response(status, body)).startFineTune({ epochs: 0 })).toEqual(expected);
  });

  it("parses a fine-tune job and the list of jobs, filling in what is missing", async () => {
    const job = {
      job_id: "j1",
      status: "deploying",
      stage: "deploying",
      progress: 1.2,
      metrics: { train_loss: 1.5, eval_loss: null, epoch: 1 },
      error: null,
      model_id: null,
      dataset: { train: 21 },
      parameters: { epochs: 1 },
      created_at: "2026-07-01T10:00:00Z",
      updated_at: "2026-07-01T10:05:00Z",
      finished_at: null,
    };
    const fetchImpl = jest.fn(async (url: string) => (url.endsWith("/api/fine-tune") ? response(200, { jobs: [job, { job_id: "j0", status: "failed" }] }) : response(200, job)));
    const api = client(fetchImpl as FetchLike);
    const r = await api.getFineTune("j 1");
    expect(fetchImpl.mock.calls[0][0]).toBe("http://api.test/api/fine-tune/j%201");
    expect(r).toEqual({ kind: "ok", data: { ...job, progress: 1, metrics: { train_loss: 1.5, epoch: 1 } } });
    const list = await api.listFineTunes();
    expect(list.kind === "ok" && list.data.map((j) => [j.job_id, j.status, j.stage, j.progress, j.metrics, j.error])).toEqual([
      ["j1", "deploying", "deploying", 1, { train_loss: 1.5, epoch: 1 }, null],
      ["j0", "failed", "", null, {}, null],
    ]);
    expect((await client(async () => response(200, { job_id: "j1" })).getFineTune("j1")).kind).toBe("bad-data");
    expect((await client(async () => response(200, { items: [] })).listFineTunes()).kind).toBe("bad-data");
  });

  it("parses the model list and activates a version or the base model with an empty body", async () => {
    const version = {
      model_id: "m1",
      name: "demo v1",
      base_model: "SmolLM2",
      status: "available",
      active: true,
      job_id: "j1",
      metrics: { eval_loss: 1.2 },
      reason: "active",
      created_at: "2026-07-01T10:00:00Z",
      updated_at: "2026-07-01T10:00:00Z",
    };
    const fetchImpl = jest.fn(async (url: string) =>
      url.endsWith("/api/models")
        ? response(200, { models: [version, { ...version, model_id: "m0", active: false, reason: "replaced" }], active_model_id: "m1", base_model: "SmolLM2" })
        : response(200, { ...version, model_id: url.includes("/base/") ? "base" : "m 1" }),
    );
    const api = client(fetchImpl as FetchLike);
    const r = await api.listModels();
    expect(r.kind).toBe("ok");
    if (r.kind !== "ok") return;
    expect(r.data.active_model_id).toBe("m1");
    expect(r.data.base_model).toBe("SmolLM2");
    expect(r.data.models.map((m) => [m.model_id, m.active, m.reason])).toEqual([
      ["m1", true, "active"],
      ["m0", false, "replaced"],
    ]);
    expect((await api.activateModel("m 1")).kind).toBe("ok");
    const [url, init] = fetchImpl.mock.calls[1] as unknown as [string, RequestInit];
    expect(url).toBe("http://api.test/api/models/m%201/activate");
    expect(init.method).toBe("POST");
    expect(JSON.parse(init.body as string)).toEqual({});
    await api.activateModel("base");
    expect(fetchImpl.mock.calls[2][0]).toBe("http://api.test/api/models/base/activate");
    expect((await client(async () => response(200, { active_model_id: null })).listModels()).kind).toBe("bad-data");
    expect(await client(async () => response(404, { error: { code: "not_found", message: "no route" } })).listModels()).toEqual({ kind: "not-found", code: "not_found", message: "no route" });
  });

  it("reads the chat answer's warning and the model that answered", async () => {
    const body = { answer: "A", citations: [], conversation_id: "c1", model: "SmolLM2", usage: {}, grounded: true, answer_check: null };
    const withWarning = await client(async () => response(200, { ...body, warning: "the base model answered" })).chat({ query: "q" });
    expect(withWarning.kind === "ok" && [withWarning.data.warning, withWarning.data.model]).toEqual(["the base model answered", "SmolLM2"]);
    const older = await client(async () => response(200, body)).chat({ query: "q" });
    expect(older.kind === "ok" && [older.data.warning, older.data.model_name]).toEqual([null, null]);
    const tuned = await client(async () => response(200, { ...body, model: "ft-1", model_name: "Fine-tune 1" })).chat({ query: "q" });
    expect(tuned.kind === "ok" && [tuned.data.model, tuned.data.model_name]).toEqual(["ft-1", "Fine-tune 1"]);
    expect((await client(async () => response(200, { answer: "A" })).chat({ query: "q" })).kind).toBe("bad-data");
  });
});
