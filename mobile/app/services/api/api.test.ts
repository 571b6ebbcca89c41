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

  it("speaks the fine-tune contract of ARCHITECTURE.md", async () => {
    const fetchImpl = jest.fn(async (url: string) =>
      url.endsWith("/api/models") ? response(200, { models: [{ model_id: "m1", active: true }] }) : response(202, { job_id: "j1" }),
    );
    const api = client(fetchImpl as FetchLike);
    expect(await api.startFineTune({ epochs: 2, learning_rate: 0.001 })).toEqual({ kind: "ok", data: { job_id: "j1" } });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://api.test/api/fine-tune");
    expect(JSON.parse(init.body as string)).toEqual({ parameters: { epochs: 2, learning_rate: 0.001 } });
    expect(await api.listModels()).toEqual({ kind: "ok", data: [{ model_id: "m1", active: true }] });
    await api.activateModel("m 1");
    expect(fetchImpl.mock.calls[2][0]).toBe("http://api.test/api/models/m%201/activate");
  });
});
