import { type SseEvent, SseParser, Utf8StreamDecoder } from "./sse";

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

function parseChunks(chunks: (Uint8Array | string)[]): SseEvent[] {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...parser.feed(c));
  out.push(...parser.end());
  return out;
}

const ev = (event: string, data: string, id: string | null = null): SseEvent => ({ event, data, id });

// What the server writes (handlers/api/sse.py): event line, data line(s), blank line.
const STREAM = utf8(
  'event: token\ndata: {"text":"Grüße ✓ 🎉"}\n\n' +
    "event: token\ndata: line one\ndata: line two\n\n" +
    ": keep-alive\n\n" +
    'event: final\ndata: {"answer":"ok"}\n\n',
);
const EVENTS = [ev("token", '{"text":"Grüße ✓ 🎉"}'), ev("token", "line one\nline two"), ev("final", '{"answer":"ok"}')];

describe("SseParser", () => {
  it("reads whole events from one chunk", () => {
    expect(parseChunks([STREAM])).toEqual(EVENTS);
  });

  it("reads the same events wherever the bytes are cut (inside lines, blank lines and UTF-8 characters)", () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      expect([cut, parseChunks([STREAM.slice(0, cut), STREAM.slice(cut)])]).toEqual([cut, EVENTS]);
    }
  });

  it("reads the same events one byte at a time", () => {
    const bytes = Array.from(STREAM, (b) => new Uint8Array([b]));
    expect(parseChunks(bytes)).toEqual(EVENTS);
  });

  it("gives each event as soon as its blank line arrives", () => {
    const parser = new SseParser();
    expect(parser.feed(utf8("event: token\ndata: {}\n"))).toEqual([]);
    expect(parser.feed(utf8("\n"))).toEqual([ev("token", "{}")]);
  });

  it("treats CRLF, CR and LF as line breaks, a CRLF cut between chunks as one", () => {
    const text = "event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r";
    for (let cut = 0; cut <= text.length; cut++) {
      expect(parseChunks([text.slice(0, cut), text.slice(cut)])).toEqual([ev("a", "1"), ev("b", "2")]);
    }
  });

  it("keeps other characters that look like line breaks inside the data", () => {
    expect(parseChunks(["data: a\u2028b\u0085c\n\n"])).toEqual([ev("message", "a\u2028b\u0085c")]);
  });

  it("drops an event the stream ends in the middle of, and events with no data", () => {
    expect(parseChunks(["event: a\ndata: 1\n\nevent: b\n\nevent: c\ndata: 2\n"])).toEqual([ev("a", "1")]);
  });

  it("strips one space after the colon, a leading BOM, and remembers the last id", () => {
    expect(parseChunks(["\ufeffdata:x\nid: 7\n\ndata:  two spaces\n\n"])).toEqual([ev("message", "x", "7"), ev("message", " two spaces", "7")]);
  });
});

describe("Utf8StreamDecoder", () => {
  it("decodes characters cut between chunks", () => {
    const bytes = utf8("a€b🎉c");
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new Utf8StreamDecoder();
      expect(d.decode(bytes.slice(0, cut)) + d.decode(bytes.slice(cut), true)).toBe("a€b🎉c");
    }
  });

  it("replaces invalid bytes as TextDecoder does", () => {
    const d = new Utf8StreamDecoder();
    expect(d.decode(new Uint8Array([0x61, 0xff, 0x62, 0xc3, 0x28, 0xed, 0xa0, 0x80]), true)).toBe("a\ufffdb\ufffd(\ufffd\ufffd\ufffd");
    // a sequence the stream ends in the middle of
    expect(new Utf8StreamDecoder().decode(new Uint8Array([0x61, 0xe2, 0x82]), true)).toBe("a\ufffd");
  });
});
