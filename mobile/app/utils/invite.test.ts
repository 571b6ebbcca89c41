import { INVITE_CODE, inviteLink } from "./invite";

describe("inviteLink", () => {
  it("is ?invite= on the web and a deep link on native", () => {
    expect(inviteLink("abc_DEF-123", "http://127.0.0.1:8080/", () => "unused")).toBe("http://127.0.0.1:8080/?invite=abc_DEF-123");
    const native = jest.fn((path: string, params: Record<string, string>) => `noticebot:/${path}?code=${params.code}`);
    expect(inviteLink("abc", null, native)).toBe("noticebot://accept-invite?code=abc");
  });
  it("checks codes as the API does", () => {
    expect(INVITE_CODE.test("r2eiEvBN4_XaPWECUZ4ev8Yb0e8G6E42ZBNNQ3349mQ")).toBe(true);
    expect(INVITE_CODE.test("short")).toBe(false);
    expect(INVITE_CODE.test("has spaces in it here")).toBe(false);
  });
});
