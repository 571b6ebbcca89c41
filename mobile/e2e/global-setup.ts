/**
 * Starts the real local API (`noticebot serve`, from the repository's .venv) on a free port with a
 * fresh data folder, and the web app server (scripts/serve-web.mjs: dist/ plus /api passed through)
 * on another. Tests read E2E_BASE_URL and E2E_TOKEN. Returns the teardown.
 */
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const MOBILE = path.resolve(__dirname, "..");
const REPO = path.resolve(MOBILE, "..");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function waitForLine(child: ChildProcess, test: (line: string, lines: string[]) => string | null, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${timeoutMs} ms:\n${lines.join("\n")}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        const found = test(line, lines);
        if (found !== null) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => lines.push(c.toString().trimEnd()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${lines.join("\n")}`));
    });
  });
}

async function waitForHealth(url: string, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms`);
}

/**
 * A stand-in for the Expo push API on 127.0.0.1: records every POST body (a JSON array of
 * `{to, title, body, data, sound}`) and answers as Expo does; `GET /records` lists them.
 */
function startFakePushServer(port: number): Promise<http.Server> {
  const records: unknown[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/records") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(records));
      return;
    }
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      let messages: unknown;
      try {
        messages = JSON.parse(body);
      } catch {
        messages = body;
      }
      records.push({ path: req.url, messages });
      const count = Array.isArray(messages) ? messages.length : 1;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ data: Array.from({ length: count }, (_, i) => ({ status: "ok", id: `ticket-${records.length}-${i}` })) }));
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

export default async function globalSetup() {
  const noticebot = process.env.NOTICEBOT_BIN || path.join(REPO, ".venv", "bin", "noticebot");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "noticebot-e2e-"));
  const apiPort = await freePort();
  const webPort = await freePort();
  const pushPort = await freePort();
  const push = await startFakePushServer(pushPort);

  const api = spawn(noticebot, ["--data", dataDir, "serve", "--host", "127.0.0.1", "--port", String(apiPort), "--no-sample"], {
    cwd: REPO,
    env: { ...process.env, HF_HUB_OFFLINE: "1", PYTHONUNBUFFERED: "1", NOTICEBOT_PUSH_URL: `http://127.0.0.1:${pushPort}/--/api/v2/push/send` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const token = await waitForLine(
    api,
    (line, lines) => (lines.length >= 2 && lines[lines.length - 2].startsWith("dev token") ? line.trim() : null),
    "noticebot serve",
    120_000,
  );
  await waitForHealth(`http://127.0.0.1:${apiPort}/api/health`, 30_000);

  const web = spawn(process.execPath, [path.join(MOBILE, "scripts", "serve-web.mjs"), "--dir", path.join(MOBILE, "dist"), "--port", String(webPort), "--api", `http://127.0.0.1:${apiPort}`], {
    cwd: MOBILE,
    stdio: ["ignore", "pipe", "pipe"],
  });
  await waitForLine(web, (line) => (line.startsWith("serving web app") ? line : null), "web server", 15_000);

  process.env.E2E_BASE_URL = `http://127.0.0.1:${webPort}`;
  process.env.E2E_API_URL = `http://127.0.0.1:${apiPort}`;
  process.env.E2E_TOKEN = token;
  // For the members test: the CLI invites the first editor into the same data folder.
  process.env.E2E_NOTICEBOT_BIN = noticebot;
  process.env.E2E_DATA_DIR = dataDir;
  process.env.E2E_PUSH_RECORDS = `http://127.0.0.1:${pushPort}/records`;
  console.log(`e2e: API http://127.0.0.1:${apiPort} (data ${dataDir}), web ${process.env.E2E_BASE_URL}`);

  return async () => {
    for (const child of [web, api]) {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            child.kill("SIGKILL");
            resolve();
          }, 5000);
          child.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
    await new Promise<void>((resolve) => push.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  };
}
