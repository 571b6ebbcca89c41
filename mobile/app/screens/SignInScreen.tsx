import { Redirect } from "expo-router";
import { useState } from "react";
import { StyleSheet, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner } from "../components/Banner";
import { Card } from "../components/Card";
import { Screen } from "../components/Screen";
import { TextField } from "../components/TextField";
import { useAuth } from "../context/AuthContext";
import { colors, spacing } from "../theme";

/**
 * Two ways in: the organisation's Cognito hosted UI (when EXPO_PUBLIC_COGNITO_* is configured), and
 * a dev token for the local stack (`noticebot serve` prints one; `noticebot token` makes others).
 */
export function SignInScreen() {
  const { status, signInWithToken, providers, signOutReason } = useAuth();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (status === "signedIn") return <Redirect href="/board" />;

  const submit = async () => {
    setBusy(true);
    setError(null);
    const result = await signInWithToken(token);
    setBusy(false);
    if (!result.ok) setError(result.reason);
  };

  return (
    <Screen title="Sign in" testID="sign-in-screen">
      <Text style={styles.lead}>Your group's notice board, and a chatbot that answers from it.</Text>
      {signOutReason ? <Banner tone="warning" message={signOutReason} /> : null}
      {providers.map((p) => (
        <Card key={p.id}>
          <AppButton
            label={p.label}
            onPress={async () => {
              const r = await p.start();
              if (!r.ok) setError(r.reason);
            }}
          />
        </Card>
      ))}
      <Card>
        <Text style={styles.sectionTitle} accessibilityRole="header">
          Sign in with a dev token
        </Text>
        <Text style={styles.help}>
          For the local stack: `make run` prints a token for the editor of workspace “demo”.
        </Text>
        <TextField
          label="Dev token"
          value={token}
          onChangeText={setToken}
          placeholder="eyJhbGciOi…"
          autoCapitalize="none"
          autoCorrect={false}
          secureTextEntry
          error={error}
          onSubmitEditing={() => void submit()}
          testID="dev-token-input"
        />
        <View style={styles.row}>
          <AppButton label="Sign in" accessibilityLabel="Sign in with token" onPress={() => void submit()} busy={busy} disabled={!token.trim()} />
        </View>
      </Card>
    </Screen>
  );
}

const styles = StyleSheet.create({
  lead: { fontSize: 16, color: colors.muted, marginBottom: spacing.lg },
  sectionTitle: { fontSize: 18, fontWeight: "700", color: colors.text, marginBottom: spacing.xs },
  help: { fontSize: 14, color: colors.muted, marginBottom: spacing.md },
  row: { flexDirection: "row", justifyContent: "flex-end" },
});
