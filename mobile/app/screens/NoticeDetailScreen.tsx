import { useLocalSearchParams, useRouter } from "expo-router";
import { useState } from "react";
import { StyleSheet, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { ProblemBanner } from "../components/Banner";
import { Badge, Card } from "../components/Card";
import { Loading, Screen } from "../components/Screen";
import { useAuth } from "../context/AuthContext";
import { useNotice, useNoticeActions } from "../hooks/useNotices";
import type { ApiProblem } from "../services/api";
import { colors, spacing } from "../theme";
import { formatDate, formatDateTime } from "../utils/format";

export function NoticeDetailScreen() {
  const { id } = useLocalSearchParams<{ id: string }>();
  const router = useRouter();
  const { session } = useAuth();
  const { data: notice, problem, loading, reload } = useNotice(id);
  const { remove, busy } = useNoticeActions();
  const [actionProblem, setActionProblem] = useState<ApiProblem | null>(null);
  const [confirming, setConfirming] = useState(false);

  const back = <AppButton label="Back to the board" variant="secondary" onPress={() => router.navigate("/board")} />;

  if (loading) return <Screen title="Notice" actions={back}><Loading label="Loading the notice" /></Screen>;
  if (!notice) {
    return (
      <Screen title="Notice" actions={back} testID="notice-detail-screen">
        {problem ? <ProblemBanner problem={problem} onRetry={problem.kind === "not-found" ? undefined : () => void reload("refresh")} /> : null}
      </Screen>
    );
  }

  const doDelete = async () => {
    const r = await remove(notice.notice_id);
    if (r.kind === "ok") router.navigate("/board");
    else setActionProblem(r);
  };

  return (
    <Screen title="Notice" actions={back} testID="notice-detail-screen">
      {actionProblem ? <ProblemBanner problem={actionProblem} /> : null}
      <Card>
        <View style={styles.meta}>
          {notice.pinned ? <Badge label="Pinned" tone="pin" /> : null}
          {notice.expired ? <Badge label="Expired" tone="danger" /> : null}
        </View>
        <Text style={styles.title} accessibilityRole="header">
          {notice.title}
        </Text>
        <Text style={styles.byline}>
          Posted by {notice.author} on {formatDateTime(notice.created_at)}
          {notice.updated_at !== notice.created_at ? ` · edited ${formatDateTime(notice.updated_at)}` : ""}
        </Text>
        {notice.expires_at ? <Text style={styles.byline}>Until {formatDate(notice.expires_at)}</Text> : null}
        <Text style={styles.body} selectable>
          {notice.body}
        </Text>
      </Card>
      {session?.isEditor ? (
        <View style={styles.actions}>
          <AppButton label="Edit" accessibilityLabel="Edit this notice" variant="secondary" onPress={() => router.push({ pathname: "/notices/[id]/edit", params: { id: notice.notice_id } })} />
          {confirming ? (
            <>
              <AppButton label="Yes, delete" accessibilityLabel="Confirm delete" variant="danger" busy={busy} onPress={() => void doDelete()} />
              <AppButton label="Keep it" variant="link" onPress={() => setConfirming(false)} />
            </>
          ) : (
            <AppButton label="Delete" accessibilityLabel="Delete this notice" variant="danger" onPress={() => setConfirming(true)} />
          )}
        </View>
      ) : null}
    </Screen>
  );
}

const styles = StyleSheet.create({
  meta: { flexDirection: "row", gap: spacing.sm, marginBottom: spacing.sm },
  title: { fontSize: 22, fontWeight: "700", color: colors.text, marginBottom: spacing.xs },
  byline: { color: colors.muted, fontSize: 14, marginBottom: spacing.xs },
  body: { fontSize: 16, lineHeight: 24, color: colors.text, marginTop: spacing.md },
  actions: { flexDirection: "row", gap: spacing.sm, flexWrap: "wrap" },
});
