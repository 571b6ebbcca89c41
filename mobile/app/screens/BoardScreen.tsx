import { useRouter } from "expo-router";
import { useEffect, useRef } from "react";
import { FlatList, Pressable, RefreshControl, StyleSheet, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { ProblemBanner } from "../components/Banner";
import { Badge } from "../components/Card";
import { EmptyState, Loading, Screen } from "../components/Screen";
import { useAuth } from "../context/AuthContext";
import { useMe } from "../context/MeContext";
import { useBoard } from "../hooks/useNotices";
import type { Notice } from "../services/api";
import { colors, spacing } from "../theme";
import { formatDate } from "../utils/format";

export function BoardScreen() {
  const router = useRouter();
  const { session } = useAuth();
  const { notices, problem, loading, refreshing, reload } = useBoard();
  const editor = !!session?.isEditor;
  const { me, markNoticesSeen } = useMe();

  // Once unread notices are on screen, they count as seen: the badge clears, the markers stay
  // until the board is loaded again.
  const anyUnread = !!notices?.some((n) => n.unread === true) || (me?.unread_notices ?? 0) > 0;
  const markedFor = useRef<unknown>(null);
  useEffect(() => {
    if (!notices || !anyUnread || markedFor.current === notices) return;
    markedFor.current = notices;
    void markNoticesSeen();
  }, [notices, anyUnread, markNoticesSeen]);

  const actions = (
    <>
      <AppButton label="Refresh" accessibilityLabel="Refresh the board" variant="secondary" onPress={() => void reload("refresh")} busy={refreshing} />
      {editor ? <AppButton label="Post a notice" onPress={() => router.push("/notices/new")} /> : null}
    </>
  );

  return (
    <Screen title="Notice board" actions={actions} scroll={false} testID="board-screen">
      {problem ? <ProblemBanner problem={problem} onRetry={() => void reload("refresh")} /> : null}
      {loading && !notices ? (
        <Loading label="Loading the board" />
      ) : (
        <FlatList
          data={notices ?? []}
          keyExtractor={(n) => n.notice_id}
          accessibilityLabel="Notices"
          refreshControl={<RefreshControl refreshing={refreshing} onRefresh={() => void reload("refresh")} />}
          renderItem={({ item }) => <NoticeRow notice={item} onOpen={() => router.push({ pathname: "/notices/[id]", params: { id: item.notice_id } })} />}
          ListEmptyComponent={
            notices ? (
              <EmptyState
                title="No notices yet"
                message={editor ? "Post the first notice for your group." : "When an editor posts a notice it shows up here."}
              />
            ) : null
          }
          contentContainerStyle={styles.list}
        />
      )}
    </Screen>
  );
}

function NoticeRow({ notice, onOpen }: { notice: Notice; onOpen: () => void }) {
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={`${notice.unread ? "New: " : ""}${notice.pinned ? "Pinned: " : ""}${notice.title}`}
      accessibilityHint="Opens the notice"
      onPress={onOpen}
      style={({ pressed }) => [styles.row, notice.pinned && styles.pinned, notice.unread && styles.unread, pressed && styles.pressed]}
      testID={`notice-${notice.notice_id}`}
    >
      <View style={styles.rowHead}>
        {notice.unread ? <Badge label="New" tone="danger" /> : null}
        {notice.pinned ? <Badge label="Pinned" tone="pin" /> : null}
        <Text style={styles.date}>{formatDate(notice.created_at)}</Text>
      </View>
      <Text style={styles.title}>{notice.title}</Text>
      <Text style={styles.body} numberOfLines={2}>
        {notice.body}
      </Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  list: { paddingBottom: spacing.xxl, gap: spacing.md },
  row: { backgroundColor: colors.surface, borderRadius: 12, borderWidth: 1, borderColor: colors.border, padding: spacing.lg, gap: spacing.xs },
  pinned: { borderColor: colors.pin, borderLeftWidth: 4 },
  unread: { backgroundColor: colors.infoBg },
  pressed: { opacity: 0.85 },
  rowHead: { flexDirection: "row", alignItems: "center", gap: spacing.sm },
  date: { color: colors.muted, fontSize: 13 },
  title: { fontSize: 18, fontWeight: "700", color: colors.text },
  body: { fontSize: 15, color: colors.text },
});
