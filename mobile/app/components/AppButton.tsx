import { ActivityIndicator, Pressable, StyleSheet, Text, type ViewStyle } from "react-native";

import { colors, spacing } from "../theme";

export interface AppButtonProps {
  label: string;
  onPress: () => void;
  /** Read by screen readers; defaults to the label. */
  accessibilityLabel?: string;
  accessibilityHint?: string;
  variant?: "primary" | "secondary" | "danger" | "link";
  disabled?: boolean;
  busy?: boolean;
  style?: ViewStyle;
  testID?: string;
}

export function AppButton({ label, onPress, accessibilityLabel, accessibilityHint, variant = "primary", disabled, busy, style, testID }: AppButtonProps) {
  const inactive = disabled || busy;
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={accessibilityLabel ?? label}
      accessibilityHint={accessibilityHint}
      accessibilityState={{ disabled: !!inactive, busy: !!busy }}
      disabled={inactive}
      onPress={onPress}
      testID={testID}
      style={({ pressed }) => [styles.base, styles[variant], inactive && styles.disabled, pressed && styles.pressed, style]}
    >
      {busy ? <ActivityIndicator size="small" color={variant === "primary" ? colors.primaryText : colors.primary} /> : null}
      <Text style={[styles.text, variant === "primary" ? styles.primaryText : variant === "danger" ? styles.dangerText : styles.secondaryText]}>{label}</Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  base: {
    minHeight: 44,
    paddingHorizontal: spacing.lg,
    paddingVertical: spacing.sm,
    borderRadius: 8,
    flexDirection: "row",
    alignItems: "center",
    justifyContent: "center",
    gap: spacing.sm,
  },
  primary: { backgroundColor: colors.primary },
  secondary: { backgroundColor: colors.surface, borderWidth: 1, borderColor: colors.border },
  danger: { backgroundColor: colors.surface, borderWidth: 1, borderColor: colors.danger },
  link: { backgroundColor: "transparent", paddingHorizontal: spacing.sm, minHeight: 36 },
  disabled: { opacity: 0.5 },
  pressed: { opacity: 0.8 },
  text: { fontSize: 16, fontWeight: "600" },
  primaryText: { color: colors.primaryText },
  secondaryText: { color: colors.primary },
  dangerText: { color: colors.danger },
});
