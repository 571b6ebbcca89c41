export const colors = {
  background: "#f4f5f7",
  surface: "#ffffff",
  text: "#1d2330",
  muted: "#5b6475",
  border: "#d8dce3",
  primary: "#1f5fbf",
  primaryText: "#ffffff",
  danger: "#b3261e",
  dangerBg: "#fdecea",
  info: "#0b5394",
  infoBg: "#e8f0fb",
  warnBg: "#fff4e0",
  warn: "#8a5a00",
  success: "#1e7b34",
  successBg: "#e6f4ea",
  pin: "#b36b00",
};

export const spacing = { xs: 4, sm: 8, md: 12, lg: 16, xl: 24, xxl: 32 };

/** Windows at least this wide get the desktop layout (side navigation, wider content). */
export const DESKTOP_MIN_WIDTH = 768;
export const CONTENT_MAX_WIDTH = 880;
