#!/usr/bin/env node
/**
 * Serves the exported web app (dist/) and passes /api/* through to the noticebot API, so a person
 * (or the e2e test) uses the whole product at one URL. No dependencies: Node's http only.
 *
 *   node scripts/serve-web.mjs --dir dist --port 8081 --api http://127.0.0.1:8000 [--host 127.0.0.1]
 *
 * Unknown paths that are not files get index.html (the app's client-side routes: /board, /notices/…).
 * Prints `serving web app on http://HOST:PORT` when it listens (port 0 picks a free one).
 */
import { createReadStream, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const root = path.resolve(args.dir || "dist");
const host = args.host || "127.0.0.1";
const port = Number(args.port ?? 8081);
const api = new URL(args.api || "http://127.0.0.1:8000");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".ttf": "font/ttf",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

function fileFor(urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath.split("?")[0]);
  } catch {
    return null;
  }
  const full = path.resolve(root, "." + rel);
  if (full !== root && !full.startsWith(root + path.sep)) return null;
  try {
    const st = statSync(full);
    if (st.isFile()) return full;
    if (st.isDirectory()) {
      const index = path.join(full, "index.html");
      if (statSync(index).isFile()) return index;
    }
  } catch {
    // not there
  }
  return null;
}

function proxy(req, res) {
  const upstream = http.request(
    { host: api.hostname, port: api.port || 80, method: req.method, path: req.url, headers: { ...req.headers, host: api.host } },
    (up) => {
      res.writeHead(up.statusCode || 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on("error", () => {
    if (!res.headersSent) res.writeHead(502, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: { code: "bad_gateway", message: "the API server is not reachable" } }));
  });
  req.pipe(upstream);
}

const server = http.createServer((req, res) => {
  const urlPath = (req.url || "/").split("?")[0];
  if (urlPath === "/api" || urlPath.startsWith("/api/")) return proxy(req, res);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD" });
    return res.end();
  }
  const isAsset = /\.[a-z0-9]+$/i.test(urlPath);
  const file = fileFor(urlPath) || (isAsset ? null : path.join(root, "index.html"));
  if (!file) {
    res.writeHead(404, { "Content-Type": "text/plain" });
    return res.end("not found");
  }
  const type = TYPES[path.extname(file).toLowerCase()] || "application/octet-stream";
  const cache = file.includes(`${path.sep}_expo${path.sep}`) ? "public, max-age=31536000, immutable" : "no-cache";
  res.writeHead(200, { "Content-Type": type, "Cache-Control": cache });
  if (req.method === "HEAD") return res.end();
  createReadStream(file).on("error", () => res.end()).pipe(res);
});

server.listen(port, host, () => {
  const addr = server.address();
  console.log(`serving web app on http://${host}:${addr.port} (API: ${api.origin})`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
