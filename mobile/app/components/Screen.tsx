import type { ReactNode } from "react";
import { ActivityIndicator, ScrollView, StyleSheet, Text, View } from "react-native";

import { CONTENT_MAX_WIDTH, colors, spacing } from "../theme";

export interface ScreenProps {
  title: string;
  children: ReactNode;
  /** Buttons on the title row. */
  actions?: ReactNode;
  /** false when the screen has its own list (FlatList) that scrolls. */
  scroll?: boolean;
  testID?: string;
}

/** A screen's frame: a heading and centred content no wider than a comfortable reading width. */
export function Screen({ title, children, actions, scroll = true, testID }: ScreenProps) {
  const header = (
    <View style={styles.header}>
      <Text accessibilityRole="header" style={styles.title}>
        {title}
      </Text>
      {actions ? <View style={styles.actions}>{actions}</View> : null}
    </View>
  );
  if (!scroll) {
    return (
      <View style={styles.fill} testID={testID}>
        <View style={[styles.column, styles.fill]}>
          {header}
          {children}
        </View>
      </View>
    );
  }
  return (
    <ScrollView style={styles.fill} contentContainerStyle={styles.scrollContent} testID={testID} keyboardShouldPersistTaps="handled">
      <View style={styles.column}>
        {header}
        {children}
      </View>
    </ScrollView>
  );
}

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <View style={styles.loading} accessibilityLabel={label} accessibilityRole="progressbar">
      <ActivityIndicator color={colors.primary} />
      <Text style={styles.muted}>{label}…</Text>
    </View>
  );
}

export function EmptyState({ title, message, children }: { title: string; message: string; children?: ReactNode }) {
  return (
    <View style={styles.empty} accessibilityRole="summary">
      <Text style={styles.emptyTitle}>{title}</Text>
      <Text style={styles.muted}>{message}</Text>
      {children}
    </View>
  );
}

const styles = StyleSheet.create({
  fill: { flex: 1 },
  scrollContent: { paddingBottom: spacing.xxl },
  column: { width: "100%", maxWidth: CONTENT_MAX_WIDTH, alignSelf: "center", padding: spacing.lg },
  header: { flexDirection: "row", alignItems: "center", justifyContent: "space-between", flexWrap: "wrap", gap: spacing.sm, marginBottom: spacing.lg, minHeight: 44 },
  title: { fontSize: 24, fontWeight: "700", color: colors.text },
  actions: { flexDirection: "row", gap: spacing.sm, flexWrap: "wrap" },
  loading: { padding: spacing.xl, alignItems: "center", gap: spacing.sm },
  muted: { color: colors.muted, fontSize: 15, textAlign: "center" },
  empty: { padding: spacing.xl, alignItems: "center", gap: spacing.sm, backgroundColor: colors.surface, borderRadius: 12, borderWidth: 1, borderColor: colors.border },
  emptyTitle: { fontSize: 18, fontWeight: "600", color: colors.text },
});
