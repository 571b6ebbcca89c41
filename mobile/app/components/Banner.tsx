import { StyleSheet, Text, View } from "react-native";

import type { ApiProblem } from "../services/api";
import { colors, spacing } from "../theme";
import { AppButton } from "./AppButton";

export interface BannerProps {
  tone?: "error" | "info" | "warning" | "success";
  title?: string;
  message: string;
  onRetry?: () => void;
  testID?: string;
}

export function Banner({ tone = "error", title, message, onRetry, testID }: BannerProps) {
  const palette = {
    error: [colors.dangerBg, colors.danger],
    info: [colors.infoBg, colors.info],
    warning: [colors.warnBg, colors.warn],
    success: [colors.successBg, colors.success],
  }[tone];
  return (
    <View
      testID={testID}
      accessibilityRole={tone === "error" ? "alert" : "summary"}
      accessibilityLiveRegion="polite"
      style={[styles.box, { backgroundColor: palette[0], borderColor: palette[1] }]}
    >
      <View style={styles.textCol}>
        {title ? <Text style={[styles.title, { color: palette[1] }]}>{title}</Text> : null}
        <Text style={[styles.message, { color: colors.text }]}>{message}</Text>
      </View>
      {onRetry ? <AppButton label="Try again" variant="secondary" onPress={onRetry} /> : null}
    </View>
  );
}

export function ProblemBanner({ problem, onRetry, title: override, testID = "problem-banner" }: { problem: ApiProblem; onRetry?: () => void; title?: string; testID?: string }) {
  const title = override ?? {
    offline: "You are offline",
    timeout: "No answer in time",
    unauthorized: "Signed out",
    forbidden: "Not allowed",
    "not-found": "Not found",
    rejected: "Not accepted",
    server: "Server problem",
    "bad-data": "Unexpected answer",
    aborted: "Stopped",
  }[problem.kind];
  return <Banner tone="error" title={title} message={problem.message} onRetry={onRetry} testID={testID} />;
}

const styles = StyleSheet.create({
  box: {
    borderWidth: 1,
    borderRadius: 8,
    padding: spacing.md,
    marginBottom: spacing.md,
    flexDirection: "row",
    alignItems: "center",
    flexWrap: "wrap",
    gap: spacing.md,
  },
  textCol: { flex: 1, minWidth: 200, gap: spacing.xs },
  title: { fontWeight: "700", fontSize: 15 },
  message: { fontSize: 15 },
});
