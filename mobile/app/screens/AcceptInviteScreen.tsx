import { Redirect, useLocalSearchParams, useRouter } from "expo-router";
import { useState } from "react";
import { StyleSheet, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner } from "../components/Banner";
import { Card } from "../components/Card";
import { Screen } from "../components/Screen";
import { TextField } from "../components/TextField";
import { useAuth } from "../context/AuthContext";
import { colors, spacing } from "../theme";
import { INVITE_CODE, PASSWORD_MIN } from "../utils/invite";

/**
 * Reached by the link an editor shares (`?invite=CODE` on the web, `noticebot://accept-invite?code=`
 * on a phone): the invitee chooses a password (twice) and is signed in as a member.
 */
export function AcceptInviteScreen() {
  const { acceptInvitation, passwordSignIn } = useAuth();
  const router = useRouter();
  const params = useLocalSearchParams<{ code?: string }>();
  const fromLink = typeof params.code === "string" ? params.code : "";
  const [code, setCode] = useState(fromLink);
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  if (done) return <Redirect href="/board" />;

  const codeOk = INVITE_CODE.test(code.trim());
  const tooShort = password.length > 0 && password.length < PASSWORD_MIN;
  const mismatch = confirm.length > 0 && confirm !== password;
  const ready = codeOk && password.length >= PASSWORD_MIN && confirm === password;

  const submit = async () => {
    if (!ready) return;
    setBusy(true);
    setError(null);
    const result = await acceptInvitation(code, password);
    setBusy(false);
    if (result.ok) setDone(true);
    else setError(result.reason);
  };

  return (
    <Screen title="Join your group" testID="accept-invite-screen">
      <Text style={styles.lead}>An editor invited you to the notice board. Choose a password to finish: you sign in with it and your e-mail address from now on.</Text>
      {!passwordSignIn ? <Banner tone="info" message="This server e-mails invitations with a temporary password: sign in with your organisation account instead." /> : null}
      {error ? <Banner message={error} testID="accept-problem" /> : null}
      <Card>
        {fromLink && codeOk ? null : (
          <TextField
            label="Invitation code"
            value={code}
            onChangeText={setCode}
            autoCapitalize="none"
            autoCorrect={false}
            error={code.trim() && !codeOk ? "This is not an invitation code: copy the whole code from the link." : null}
          />
        )}
        <TextField
          label="New password"
          value={password}
          onChangeText={setPassword}
          secureTextEntry
          autoCapitalize="none"
          autoCorrect={false}
          autoComplete="new-password"
          hint={`At least ${PASSWORD_MIN} characters. A few words you will remember make a good one.`}
          error={tooShort ? `Too short: at least ${PASSWORD_MIN} characters (${password.length} now).` : null}
        />
        <TextField
          label="Confirm password"
          value={confirm}
          onChangeText={setConfirm}
          secureTextEntry
          autoCapitalize="none"
          autoCorrect={false}
          autoComplete="new-password"
          error={mismatch ? "The passwords do not match." : null}
          onSubmitEditing={() => void submit()}
        />
        <View style={styles.row}>
          <AppButton label="Cancel" variant="link" onPress={() => router.replace("/sign-in")} />
          <AppButton label="Join and sign in" onPress={() => void submit()} busy={busy} disabled={!ready} />
        </View>
      </Card>
    </Screen>
  );
}

const styles = StyleSheet.create({
  lead: { fontSize: 16, color: colors.muted, marginBottom: spacing.lg },
  row: { flexDirection: "row", justifyContent: "flex-end", gap: spacing.sm },
});
