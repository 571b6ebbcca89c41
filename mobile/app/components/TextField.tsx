import { StyleSheet, Text, TextInput, type TextInputProps, View } from "react-native";

import { colors, spacing } from "../theme";

export interface TextFieldProps extends Omit<TextInputProps, "style"> {
  label: string;
  hint?: string;
  error?: string | null;
}

/** A labelled input; the label is also its accessible name. */
export function TextField({ label, hint, error, multiline, ...input }: TextFieldProps) {
  return (
    <View style={styles.wrap}>
      <Text style={styles.label} nativeID={`label-${label}`}>
        {label}
      </Text>
      <TextInput
        accessibilityLabel={label}
        accessibilityHint={hint}
        placeholderTextColor={colors.muted}
        multiline={multiline}
        style={[styles.input, multiline && styles.multiline, !!error && styles.invalid]}
        {...input}
      />
      {hint ? <Text style={styles.hint}>{hint}</Text> : null}
      {error ? (
        <Text style={styles.error} accessibilityRole="alert">
          {error}
        </Text>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  wrap: { gap: spacing.xs, marginBottom: spacing.md },
  label: { fontSize: 14, fontWeight: "600", color: colors.text },
  input: {
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 8,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.sm,
    fontSize: 16,
    minHeight: 44,
    backgroundColor: colors.surface,
    color: colors.text,
  },
  multiline: { minHeight: 120, textAlignVertical: "top" },
  invalid: { borderColor: colors.danger },
  hint: { fontSize: 12, color: colors.muted },
  error: { fontSize: 13, color: colors.danger },
});
