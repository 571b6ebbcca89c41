import type { ReactNode } from "react";
import { StyleSheet, Text, View, type ViewStyle } from "react-native";

import { colors, spacing } from "../theme";

export function Card({ children, style, testID }: { children: ReactNode; style?: ViewStyle; testID?: string }) {
  return (
    <View style={[styles.card, style]} testID={testID}>
      {children}
    </View>
  );
}

export function Badge({ label, tone = "neutral" }: { label: string; tone?: "neutral" | "pin" | "success" | "danger" | "info" }) {
  const [bg, fg] = {
    neutral: [colors.background, colors.muted],
    pin: [colors.warnBg, colors.pin],
    success: [colors.successBg, colors.success],
    danger: [colors.dangerBg, colors.danger],
    info: [colors.infoBg, colors.info],
  }[tone];
  return (
    <View style={[styles.badge, { backgroundColor: bg }]}>
      <Text style={[styles.badgeText, { color: fg }]}>{label}</Text>
    </View>
  );
}

const styles = StyleSheet.create({
  card: { backgroundColor: colors.surface, borderRadius: 12, borderWidth: 1, borderColor: colors.border, padding: spacing.lg, marginBottom: spacing.md },
  badge: { borderRadius: 999, paddingHorizontal: spacing.sm, paddingVertical: 2, alignSelf: "flex-start" },
  badgeText: { fontSize: 12, fontWeight: "700", textTransform: "uppercase", letterSpacing: 0.5 },
});
