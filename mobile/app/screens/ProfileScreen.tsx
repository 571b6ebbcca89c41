import { useState } from "react";
import { StyleSheet, Switch, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner, ProblemBanner } from "../components/Banner";
import { Card } from "../components/Card";
import { Loading, Screen } from "../components/Screen";
import { useAuth } from "../context/AuthContext";
import { useMe } from "../context/MeContext";
import { useDevices } from "../hooks/useDevices";
import type { Device } from "../services/api";
import { colors, spacing } from "../theme";
import { formatDate } from "../utils/format";

/** Who is signed in, in which workspace and role; mute pushes; the phones pushes go to; sign out. */
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
      <DevicesSection />
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

const PLATFORMS: Record<string, string> = { ios: "iPhone or iPad", android: "Android", web: "Web browser" };

/** The member's registered devices in this workspace, this one marked, each removable. */
function DevicesSection() {
  const { devices, isThisDevice, remove, removing } = useDevices();
  const [removeProblem, setRemoveProblem] = useState<string | null>(null);
  const list = devices.data;

  const onRemove = async (d: Device) => {
    setRemoveProblem(null);
    const r = await remove(d.device_id);
    if (r.kind !== "ok" && r.kind !== "not-found") setRemoveProblem(r.message);
  };

  return (
    <Card testID="profile-devices">
      <Text style={styles.label} accessibilityRole="header">
        Devices
      </Text>
      <Text style={[styles.help, styles.spaced]}>New notices are pushed to these phones. Removing one stops that until you next sign in on it.</Text>
      {devices.problem?.kind === "not-found" ? (
        <Text style={styles.help}>This server does not send push notifications.</Text>
      ) : devices.problem ? (
        <ProblemBanner problem={devices.problem} onRetry={() => void devices.reload("refresh")} testID="devices-problem" />
      ) : null}
      {devices.loading ? <Loading label="Loading your devices" /> : null}
      {list && list.length === 0 ? <Text style={styles.help}>No phone is registered yet: sign in with the app on your phone to get new notices there.</Text> : null}
      {list?.map((d) => {
        const mine = isThisDevice(d);
        const platform = PLATFORMS[d.platform] ?? d.platform;
        return (
          <View key={d.device_id} style={styles.device} testID={`device-${d.device_id}`}>
            <View style={styles.grow}>
              <Text style={styles.value}>
                {platform}
                {mine ? " (this device)" : ""}
              </Text>
              {d.created_at ? <Text style={styles.help}>Registered {formatDate(d.created_at)}</Text> : null}
            </View>
            <AppButton
              label="Remove"
              variant="danger"
              accessibilityLabel={mine ? "Remove this device" : `Remove ${platform} device${d.created_at ? ` registered ${formatDate(d.created_at)}` : ""}`}
              busy={removing === d.device_id}
              disabled={removing !== null}
              onPress={() => void onRemove(d)}
            />
          </View>
        );
      })}
      {removeProblem ? <Banner message={removeProblem} testID="device-remove-problem" /> : null}
    </Card>
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
  spaced: { marginBottom: spacing.sm },
  device: { flexDirection: "row", alignItems: "center", gap: spacing.md, paddingVertical: spacing.sm, borderTopWidth: 1, borderTopColor: colors.border },
  actions: { flexDirection: "row", justifyContent: "flex-end", marginTop: spacing.md },
});
