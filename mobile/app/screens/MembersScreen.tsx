import * as Linking from "expo-linking";
import { Redirect } from "expo-router";
import { useState } from "react";
import { Platform, StyleSheet, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner, ProblemBanner } from "../components/Banner";
import { Badge, Card } from "../components/Card";
import { Loading, Screen } from "../components/Screen";
import { TextField } from "../components/TextField";
import { useAuth } from "../context/AuthContext";
import { useMembers } from "../hooks/useMembers";
import type { ApiProblem, Invitation, InvitationCreated, Member, Role } from "../services/api";
import { colors, spacing } from "../theme";
import { formatDate } from "../utils/format";
import { inviteLink } from "../utils/invite";

function shareLink(code: string): string {
  const origin = Platform.OS === "web" && typeof window !== "undefined" ? window.location.origin : null;
  return inviteLink(code, origin, (path, queryParams) => {
    try {
      return Linking.createURL(path, { queryParams });
    } catch {
      return `noticebot://${path.replace(/^\//, "")}?code=${encodeURIComponent(queryParams.code ?? "")}`; // the app.json scheme
    }
  });
}

/** A refusal said plainly: the last editor (409), not allowed (403), or the server's words. */
function problemText(problem: ApiProblem): string {
  if (problem.kind === "forbidden") return `Not allowed: ${problem.message}`;
  return problem.message;
}

/** Editors only: who belongs (with roles), pending invitations, and inviting by e-mail. */
export function MembersScreen() {
  const { session } = useAuth();
  const editor = !!session?.isEditor;
  if (!editor) return <Redirect href="/board" />;
  return <MembersForEditors selfId={session?.userId ?? ""} />;
}

function MembersForEditors({ selfId }: { selfId: string }) {
  const { members, invitations, busy, changeRole, remove, revoke, invite } = useMembers();
  const [actionProblem, setActionProblem] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [inviteProblem, setInviteProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<InvitationCreated | null>(null);

  const act = async (r: Promise<{ kind: string } & Partial<{ message: string }>>) => {
    setActionProblem(null);
    const result = (await r) as { kind: "ok" } | ApiProblem;
    if (result.kind !== "ok") setActionProblem(problemText(result));
  };

  const submitInvite = async () => {
    if (!email.trim()) return;
    setInviteProblem(null);
    setCreated(null);
    const r = await invite(email, role);
    if (r.kind === "ok") {
      setCreated(r.data);
      setEmail("");
    } else {
      setInviteProblem(problemText(r));
    }
  };

  return (
    <Screen title="Members" testID="members-screen">
      {actionProblem ? <Banner title="Not done" message={actionProblem} testID="members-problem" /> : null}

      <Card>
        <Text style={styles.sectionTitle} accessibilityRole="header">
          Invite someone
        </Text>
        <TextField label="E-mail address" value={email} onChangeText={setEmail} autoCapitalize="none" autoCorrect={false} keyboardType="email-address" error={inviteProblem} onSubmitEditing={() => void submitInvite()} />
        <View style={styles.row}>
          <Text style={styles.label}>Role:</Text>
          {(["member", "editor"] as Role[]).map((r) => (
            <AppButton key={r} label={r === "editor" ? "Editor" : "Member"} accessibilityLabel={`Invite as ${r}`} variant={role === r ? "primary" : "secondary"} onPress={() => setRole(r)} />
          ))}
          <View style={styles.spacer} />
          <AppButton label="Send invitation" onPress={() => void submitInvite()} busy={busy === "invite"} disabled={!email.trim()} />
        </View>
        {created ? (
          <View testID="invitation-created" style={styles.created}>
            <Banner tone="success" message={`Invited ${created.email} as ${created.role}.`} />
            {created.code ? (
              <>
                <Text style={styles.help}>Send them this link (shown once). They choose a password there:</Text>
                <Text selectable style={styles.code} testID="invitation-link">
                  {shareLink(created.code)}
                </Text>
                <Text style={styles.help}>Or the code alone:</Text>
                <Text selectable style={styles.code} testID="invitation-code">
                  {created.code}
                </Text>
              </>
            ) : (
              <Text style={styles.help}>They get an e-mail with a temporary password.</Text>
            )}
          </View>
        ) : null}
      </Card>

      <Text style={styles.sectionTitle} accessibilityRole="header">
        Members
      </Text>
      {members.problem ? <ProblemBanner problem={members.problem} onRetry={() => void members.reload("refresh")} /> : null}
      {members.loading && !members.data ? <Loading label="Loading members" /> : null}
      {(members.data ?? []).map((m) => (
        <MemberRow
          key={m.user_id}
          member={m}
          self={m.user_id === selfId}
          busy={busy}
          confirming={confirming === m.user_id}
          onConfirm={(on) => setConfirming(on ? m.user_id : null)}
          onRole={(r) => void act(changeRole(m.user_id, r))}
          onRemove={() => {
            setConfirming(null);
            void act(remove(m.user_id));
          }}
        />
      ))}

      <Text style={styles.sectionTitle} accessibilityRole="header">
        Pending invitations
      </Text>
      {invitations.problem ? <ProblemBanner problem={invitations.problem} onRetry={() => void invitations.reload("refresh")} /> : null}
      {invitations.data && invitations.data.length === 0 ? <Text style={styles.help}>No pending invitations.</Text> : null}
      {(invitations.data ?? []).map((i) => (
        <InvitationRow key={i.invitation_id} invitation={i} busy={busy === `revoke:${i.invitation_id}`} onRevoke={() => void act(revoke(i.invitation_id))} />
      ))}
    </Screen>
  );
}

function MemberRow(props: {
  member: Member;
  self: boolean;
  busy: string | null;
  confirming: boolean;
  onConfirm(on: boolean): void;
  onRole(role: Role): void;
  onRemove(): void;
}) {
  const { member: m, self, busy, confirming } = props;
  const name = m.email ?? m.user_id;
  const other: Role = m.role === "editor" ? "member" : "editor";
  return (
    <Card testID={`member-${m.user_id}`}>
      <View style={styles.rowHead}>
        <Text style={styles.name}>{name}</Text>
        <Badge label={m.role === "editor" ? "Editor" : "Member"} tone={m.role === "editor" ? "info" : "neutral"} />
        {self ? <Badge label="You" /> : null}
      </View>
      <Text style={styles.help}>Joined {m.joined_at ? formatDate(m.joined_at) : "—"}</Text>
      {confirming ? (
        <View style={styles.row}>
          <Text style={styles.label}>Remove {name}? Their next request is refused.</Text>
          <AppButton label="Yes, remove" accessibilityLabel={`Confirm removing ${name}`} variant="danger" busy={busy === `remove:${m.user_id}`} onPress={props.onRemove} />
          <AppButton label="Keep" variant="link" onPress={() => props.onConfirm(false)} />
        </View>
      ) : (
        <View style={styles.row}>
          <AppButton label={other === "editor" ? "Make editor" : "Make member"} accessibilityLabel={`Make ${name} ${other === "editor" ? "an editor" : "a member"}`} variant="secondary" busy={busy === `role:${m.user_id}`} onPress={() => props.onRole(other)} />
          <AppButton label={self ? "Leave" : "Remove"} accessibilityLabel={`Remove ${name}`} variant="danger" onPress={() => props.onConfirm(true)} />
        </View>
      )}
    </Card>
  );
}

function InvitationRow({ invitation: i, busy, onRevoke }: { invitation: Invitation; busy: boolean; onRevoke(): void }) {
  return (
    <Card testID={`invitation-${i.invitation_id}`}>
      <View style={styles.rowHead}>
        <Text style={styles.name}>{i.email}</Text>
        <Badge label={i.role === "editor" ? "Editor" : "Member"} />
      </View>
      <Text style={styles.help}>Until {i.expires_at ? formatDate(i.expires_at) : "—"}</Text>
      <View style={styles.row}>
        <AppButton label="Revoke" accessibilityLabel={`Revoke the invitation of ${i.email}`} variant="secondary" busy={busy} onPress={onRevoke} />
      </View>
    </Card>
  );
}

const styles = StyleSheet.create({
  sectionTitle: { fontSize: 18, fontWeight: "700", color: colors.text, marginVertical: spacing.sm },
  row: { flexDirection: "row", alignItems: "center", flexWrap: "wrap", gap: spacing.sm, marginTop: spacing.xs },
  rowHead: { flexDirection: "row", alignItems: "center", gap: spacing.sm },
  spacer: { flex: 1 },
  label: { fontSize: 14, color: colors.text },
  name: { fontSize: 16, fontWeight: "600", color: colors.text },
  help: { fontSize: 14, color: colors.muted },
  created: { marginTop: spacing.md, gap: spacing.xs },
  code: { fontFamily: Platform.OS === "ios" ? "Menlo" : "monospace", fontSize: 13, color: colors.text, backgroundColor: colors.background, padding: spacing.sm, borderRadius: 6 },
});
