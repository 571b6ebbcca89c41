import { useState } from "react";
import { StyleSheet, Switch, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner, ProblemBanner } from "../components/Banner";
import { Card } from "../components/Card";
import { Loading, Screen } from "../components/Screen";
import { useAuth } from "../context/AuthContext";
import { useMe } from "../context/MeContext";
import { colors, spacing } from "../theme";

/** Who is signed in, in which workspace and role; mute pushes; sign out. */
export function ProfileScreen() {
  const { session, signOut, push } = useAuth();
  const { me, problem, reload, setPushMuted } = useMe();
  const [muteProblem, setMuteProblem] = useState<string | null>(null);
  const [muting, setMuting] = useState(false);
  const [signingOut, setSigningOut] = useState(false);

  const toggleMute = async (muted: boolean) => {
    setMuting(true);
    setMuteProblem(null);
    const r = await setPushMuted(muted);
    setMuting(false);
    if (r.kind !== "ok") setMuteProblem(r.kind === "not-found" ? "This server does not send push notifications yet." : r.message);
  };

  const role = me?.role ?? (session?.isEditor ? "editor" : "member");
  return (
    <Screen title="Profile" testID="profile-screen">
      {problem ? <ProblemBanner problem={problem} onRetry={() => void reload()} /> : null}
      {!me && !problem ? <Loading label="Loading your profile" /> : null}
      <Card>
        <Row label="Signed in as" value={me?.email ?? session?.username ?? "—"} testID="profile-who" />
        <Row label="Workspace" value={me?.workspace_id ?? session?.workspace ?? "—"} testID="profile-workspace" />
        <Row label="Role" value={role === "editor" ? "Editor" : "Member"} testID="profile-role" />
      </Card>
      <Card>
        <View style={styles.switchRow}>
          <View style={styles.grow}>
            <Text style={styles.label}>Mute push notifications</Text>
            <Text style={styles.help}>
              {me?.push_muted === null || me === null ? "This server does not send push notifications." : me.push_muted ? "New notices are not pushed to your phone." : "New notices are pushed to your phone."}
            </Text>
            {push?.kind === "skipped" ? <Text style={styles.help}>This device: {push.reason}</Text> : null}
            {push?.kind === "failed" ? <Text style={styles.help}>This device could not be registered: {push.problem.message}</Text> : null}
          </View>
          <Switch value={me?.push_muted === true} disabled={muting || !me || me.push_muted === null} onValueChange={(v) => void toggleMute(v)} accessibilityLabel="Mute push notifications" />
        </View>
        {muteProblem ? <Banner message={muteProblem} /> : null}
      </Card>
      <View style={styles.actions}>
        <AppButton
          label="Sign out"
          accessibilityLabel="Sign out of this device"
          variant="danger"
          busy={signingOut}
          onPress={async () => {
            setSigningOut(true);
            await signOut();
          }}
        />
      </View>
    </Screen>
  );
}

function Row({ label, value, testID }: { label: string; value: string; testID: string }) {
  return (
    <View style={styles.row}>
      <Text style={styles.help}>{label}</Text>
      <Text style={styles.value} testID={testID}>
        {value}
      </Text>
    </View>
  );
}

const styles = StyleSheet.create({
  row: { flexDirection: "row", justifyContent: "space-between", paddingVertical: spacing.xs, gap: spacing.md },
  value: { fontSize: 16, fontWeight: "600", color: colors.text },
  switchRow: { flexDirection: "row", alignItems: "center", gap: spacing.md },
  grow: { flex: 1 },
  label: { fontSize: 16, fontWeight: "600", color: colors.text },
  help: { fontSize: 14, color: colors.muted },
  actions: { flexDirection: "row", justifyContent: "flex-end", marginTop: spacing.md },
});
