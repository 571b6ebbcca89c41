import { notice } from "../../test/fixtures";
import { boardOrder } from "./board";
import { expiryInput, parseExpiry } from "./format";

describe("boardOrder", () => {
  it("puts pinned first, newest next, and hides expired notices", () => {
    const now = new Date("2026-07-01T00:00:00Z");
    const list = [
      notice({ notice_id: "old", created_at: "2026-01-01T00:00:00Z" }),
      notice({ notice_id: "new", created_at: "2026-06-01T00:00:00Z" }),
      notice({ notice_id: "pinned-old", pinned: true, created_at: "2025-01-01T00:00:00Z" }),
      notice({ notice_id: "gone", created_at: "2026-06-30T00:00:00Z", expires_at: "2026-06-30T12:00:00Z" }),
      notice({ notice_id: "flagged", expired: true }),
    ];
    expect(boardOrder(list, now).map((n) => n.notice_id)).toEqual(["pinned-old", "new", "old"]);
  });
});

describe("expiry input", () => {
  it("parses YYYY-MM-DD and round-trips", () => {
    const iso = parseExpiry("2026-12-24");
    expect(typeof iso).toBe("string");
    expect(expiryInput(iso!)).toBe("2026-12-24");
    expect(parseExpiry("")).toBeNull();
    expect(parseExpiry("24/12/2026")).toBeUndefined();
    expect(parseExpiry("2026-02-31")).toBeUndefined();
  });
});
