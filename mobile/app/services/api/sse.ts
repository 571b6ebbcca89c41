/**
 * Reads a `text/event-stream` body (Server-Sent Events, WHATWG HTML) as it arrives: bytes in,
 * events out, each as soon as its closing blank line is there. Network chunks may cut an
 * event, a line, a CRLF pair or a UTF-8 character anywhere; the parser keeps what is
 * unfinished until the next chunk. Line breaks are CRLF, LF and CR (nothing else), a
 * multi-line value is joined with "\n", and an event the stream ends in the middle of is dropped.
 *
 * The UTF-8 decoding is done here rather than with `TextDecoder`, which not every React Native
 * JavaScript engine has.
 */

export interface SseEvent {
  /** "message" when the block names no event. */
  event: string;
  data: string;
  /** The last event id seen, if any. */
  id: string | null;
}

const REPLACEMENT = 0xfffd;

/** UTF-8 bytes to text, one chunk at a time: a character cut between chunks is kept for the
 * next one; invalid bytes become U+FFFD, as TextDecoder's default does. */
export class Utf8StreamDecoder {
  private pending: Uint8Array = new Uint8Array(0);

  decode(chunk: Uint8Array, final = false): string {
    let bytes = chunk;
    if (this.pending.length) {
      bytes = new Uint8Array(this.pending.length + chunk.length);
      bytes.set(this.pending);
      bytes.set(chunk, this.pending.length);
      this.pending = new Uint8Array(0);
    }
    const codes: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i];
      if (b < 0x80) {
        codes.push(b);
        i += 1;
        continue;
      }
      let need: number;
      let cp: number;
      if (b >= 0xc2 && b <= 0xdf) [need, cp] = [1, b & 0x1f];
      else if (b >= 0xe0 && b <= 0xef) [need, cp] = [2, b & 0x0f];
      else if (b >= 0xf0 && b <= 0xf4) [need, cp] = [3, b & 0x07];
      else {
        codes.push(REPLACEMENT);
        i += 1;
        continue;
      }
      let j = 1;
      let truncated = false;
      for (; j <= need; j++) {
        if (i + j >= bytes.length) {
          truncated = true;
          break;
        }
        const c = bytes[i + j];
        // The second byte's range rules out overlong forms, surrogates and code points past U+10FFFF.
        let lo = 0x80;
        let hi = 0xbf;
        if (j === 1) {
          if (b === 0xe0) lo = 0xa0;
          else if (b === 0xed) hi = 0x9f;
          else if (b === 0xf0) lo = 0x90;
          else if (b === 0xf4) hi = 0x8f;
        }
        if (c < lo || c > hi) break;
        cp = (cp << 6) | (c & 0x3f);
      }
      if (j > need) {
        codes.push(cp);
        i += need + 1;
      } else if (truncated && !final) {
        this.pending = bytes.slice(i);
        break;
      } else {
        codes.push(REPLACEMENT); // the valid start of a sequence counts as one bad character
        i += j;
      }
    }
    let text = "";
    for (let k = 0; k < codes.length; k += 4096) text += String.fromCodePoint(...codes.slice(k, k + 4096));
    return text;
  }
}

const LINE_BREAK = /\r\n|\r|\n/;

export class SseParser {
  private readonly bytes = new Utf8StreamDecoder();
  private pending = "";
  private started = false;
  private eventName = "";
  private data: string[] = [];
  private id: string | null = null;
  private lastId: string | null = null;

  /** Bytes (or text already decoded) in; the events they complete out. */
  feed(chunk: Uint8Array | string): SseEvent[] {
    return this.lines(typeof chunk === "string" ? chunk : this.bytes.decode(chunk), false);
  }

  /** The stream ended: an event without its blank line is dropped, as the spec says. */
  end(): SseEvent[] {
    return this.lines(this.bytes.decode(new Uint8Array(0), true), true);
  }

  private lines(decoded: string, final: boolean): SseEvent[] {
    let text = this.pending + decoded;
    if (!this.started && text) {
      this.started = true;
      if (text.startsWith("\ufeff")) text = text.slice(1);
    }
    // A CR at the very end may be half of a CRLF still on the way.
    const held = !final && text.endsWith("\r") ? "\r" : "";
    const parts = (held ? text.slice(0, -1) : text).split(LINE_BREAK);
    this.pending = (parts.pop() ?? "") + held;
    const out: SseEvent[] = [];
    for (const line of parts) {
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "event") this.eventName = value;
    else if (name === "data") this.data.push(value);
    else if (name === "id" && !value.includes("\0")) this.id = value;
    return null;
  }

  private dispatch(): SseEvent | null {
    if (this.id !== null) this.lastId = this.id;
    const data = this.data;
    const event = this.eventName || "message";
    this.data = [];
    this.eventName = "";
    if (!data.length) return null;
    return { event, data: data.join("\n"), id: this.lastId };
  }
}
