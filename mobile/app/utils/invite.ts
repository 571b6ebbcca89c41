/** The link an invitee opens to accept: `<origin>/?invite=CODE` on the web, the app's deep link
 * (`noticebot://accept-invite?code=CODE`) on native. */
export function inviteLink(code: string, webOrigin: string | null, nativeUrl: (path: string, params: Record<string, string>) => string): string {
  if (webOrigin) return `${webOrigin.replace(/\/+$/, "")}/?invite=${encodeURIComponent(code)}`;
  return nativeUrl("/accept-invite", { code });
}

/** The API's rule for invitation codes (URL-safe base64, 16-128 characters). */
export const INVITE_CODE = /^[A-Za-z0-9_-]{16,128}$/;

/** Passwords: at least this many characters (the API's and the Cognito pool's rule). */
export const PASSWORD_MIN = 12;
