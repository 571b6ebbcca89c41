import { Redirect, useLocalSearchParams } from "expo-router";
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
 * The ways in: e-mail + password for local accounts (an invitation sets the password), the
 * organisation's Cognito hosted UI where EXPO_PUBLIC_COGNITO_* is configured, and, tucked away
 * for developers, a dev token for the local stack (`noticebot serve` prints one).
 * `?invite=CODE` (the link an editor shares) goes on to accepting the invitation.
 */
export function SignInScreen() {
  const { status, signInWithToken, signInWithPassword, passwordSignIn, providers, signOutReason } = useAuth();
  const params = useLocalSearchParams<{ invite?: string }>();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [passwordError, setPasswordError] = useState<string | null>(null);
  const [passwordBusy, setPasswordBusy] = useState(false);
  const [showDev, setShowDev] = useState(!passwordSignIn && providers.length === 0);
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (typeof params.invite === "string" && params.invite) {
    return <Redirect href={{ pathname: "/accept-invite", params: { code: params.invite } }} />;
  }
  if (status === "signedIn") return <Redirect href="/board" />;

  const submitPassword = async () => {
    if (!email.trim() || !password) return;
    setPasswordBusy(true);
    setPasswordError(null);
    const result = await signInWithPassword(email, password);
    setPasswordBusy(false);
    if (!result.ok) setPasswordError(result.reason);
  };

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
      {signOutReason ? <Banner tone="warning" message={signOutReason} testID="sign-out-reason" /> : null}
      {providers.map((p) => (
        <Card key={p.id}>
          <AppButton
            label={p.label}
            onPress={async () => {
              const r = await p.start();
              if (!r.ok) setError(r.reason);
            }}
          />
          {p.id === "cognito" ? (
            // Invited users get a temporary password by e-mail; the hosted UI asks for a new one itself.
            <Text style={styles.help} testID="cognito-first-time">
              First time? Use the temporary password from your invitation e-mail; you'll be asked to choose your own.
            </Text>
          ) : null}
        </Card>
      ))}
      {passwordSignIn ? (
        <Card>
          <Text style={styles.sectionTitle} accessibilityRole="header">
            Sign in with your e-mail
          </Text>
          <TextField
            label="E-mail"
            value={email}
            onChangeText={setEmail}
            placeholder="you@example.org"
            autoCapitalize="none"
            autoCorrect={false}
            keyboardType="email-address"
            autoComplete="email"
            testID="email-input"
          />
          <TextField
            label="Password"
            value={password}
            onChangeText={setPassword}
            secureTextEntry
            autoCapitalize="none"
            autoCorrect={false}
            autoComplete="current-password"
            error={passwordError}
            onSubmitEditing={() => void submitPassword()}
            testID="password-input"
          />
          <View style={styles.row}>
            <AppButton label="Sign in" onPress={() => void submitPassword()} busy={passwordBusy} disabled={!email.trim() || !password} />
          </View>
          <Text style={styles.help}>New here? Open the invitation link an editor sent you to choose your password.</Text>
        </Card>
      ) : null}
      {showDev ? (
        <Card>
          <Text style={styles.sectionTitle} accessibilityRole="header">
            Sign in with a dev token
          </Text>
          <Text style={styles.help}>For developers on the local stack: `make run` prints a token for the editor of workspace “demo”.</Text>
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
      ) : (
        <View style={styles.row}>
          <AppButton label="Developer: sign in with a token" variant="link" onPress={() => setShowDev(true)} />
        </View>
      )}
      {!showDev && error ? <Banner message={error} /> : null}
    </Screen>
  );
}

const styles = StyleSheet.create({
  lead: { fontSize: 16, color: colors.muted, marginBottom: spacing.lg },
  sectionTitle: { fontSize: 18, fontWeight: "700", color: colors.text, marginBottom: spacing.xs },
  help: { fontSize: 14, color: colors.muted, marginTop: spacing.sm, marginBottom: spacing.md },
  row: { flexDirection: "row", justifyContent: "flex-end" },
});
