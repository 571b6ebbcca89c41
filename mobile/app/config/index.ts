/**
 * Configuration read once from the build environment (Expo inlines EXPO_PUBLIC_* at build time).
 *
 * EXPO_PUBLIC_API_URL is the API's origin (plus stage path in AWS), *without* the `/api` prefix,
 * e.g. `http://127.0.0.1:8000` or `https://abc.execute-api.eu-west-1.amazonaws.com/prod`.
 * Unset on the web, the app talks to the origin that served it (the local web server proxies /api).
 */
import { Platform } from "react-native";

export interface CognitoConfig {
  /** Hosted UI domain, e.g. `noticebot.auth.eu-west-1.amazoncognito.com` */
  domain: string;
  clientId: string;
  /** Where the hosted UI sends the user back; defaults to `<origin>/auth/callback` or `noticebot://auth/callback`. */
  redirectUri?: string;
  scopes: string[];
}

export interface AppConfig {
  apiUrl: string;
  timeoutMs: number;
  cognito: CognitoConfig | null;
}

function defaultApiUrl(): string {
  if (Platform.OS === "web" && typeof window !== "undefined" && window.location?.origin) {
    return window.location.origin;
  }
  return "http://127.0.0.1:8000";
}

export function readConfig(env: Record<string, string | undefined> = {
  EXPO_PUBLIC_API_URL: process.env.EXPO_PUBLIC_API_URL,
  EXPO_PUBLIC_API_TIMEOUT_MS: process.env.EXPO_PUBLIC_API_TIMEOUT_MS,
  EXPO_PUBLIC_COGNITO_DOMAIN: process.env.EXPO_PUBLIC_COGNITO_DOMAIN,
  EXPO_PUBLIC_COGNITO_CLIENT_ID: process.env.EXPO_PUBLIC_COGNITO_CLIENT_ID,
  EXPO_PUBLIC_COGNITO_REDIRECT_URI: process.env.EXPO_PUBLIC_COGNITO_REDIRECT_URI,
  EXPO_PUBLIC_COGNITO_SCOPES: process.env.EXPO_PUBLIC_COGNITO_SCOPES,
}): AppConfig {
  const apiUrl = (env.EXPO_PUBLIC_API_URL || defaultApiUrl()).replace(/\/+$/, "");
  const timeout = Number(env.EXPO_PUBLIC_API_TIMEOUT_MS);
  const cognito =
    env.EXPO_PUBLIC_COGNITO_DOMAIN && env.EXPO_PUBLIC_COGNITO_CLIENT_ID
      ? {
          domain: env.EXPO_PUBLIC_COGNITO_DOMAIN.replace(/^https?:\/\//, "").replace(/\/+$/, ""),
          clientId: env.EXPO_PUBLIC_COGNITO_CLIENT_ID,
          redirectUri: env.EXPO_PUBLIC_COGNITO_REDIRECT_URI || undefined,
          scopes: (env.EXPO_PUBLIC_COGNITO_SCOPES || "openid email profile").split(/[\s,]+/).filter(Boolean),
        }
      : null;
  return { apiUrl, timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 60_000, cognito };
}

export const config: AppConfig = readConfig();
