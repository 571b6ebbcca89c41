import { useLocalSearchParams, useRouter } from "expo-router";
import { useEffect, useState } from "react";
import { StyleSheet, Switch, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner, ProblemBanner } from "../components/Banner";
import { Card } from "../components/Card";
import { Loading, Screen } from "../components/Screen";
import { TextField } from "../components/TextField";
import { useAuth } from "../context/AuthContext";
import { useNotice, useNoticeActions } from "../hooks/useNotices";
import type { ApiProblem } from "../services/api";
import { colors, spacing } from "../theme";
import { expiryInput, parseExpiry } from "../utils/format";

/** Post a new notice (no id) or edit one (id from the route). Editors only. */
export function NoticeEditScreen() {
  const { id } = useLocalSearchParams<{ id?: string }>();
  const editing = !!id;
  const router = useRouter();
  const { session } = useAuth();
  const existing = useNotice(id);
  const { create, update, busy } = useNoticeActions();
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [pinned, setPinned] = useState(false);
  const [expires, setExpires] = useState("");
  const [errors, setErrors] = useState<{ title?: string; body?: string; expires?: string }>({});
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const loaded = existing.data;

  useEffect(() => {
    if (!loaded) return;
    setTitle(loaded.title);
    setBody(loaded.body);
    setPinned(loaded.pinned);
    setExpires(expiryInput(loaded.expires_at));
  }, [loaded]);

  const heading = editing ? "Edit notice" : "Post a notice";
  if (!session?.isEditor) {
    return (
      <Screen title={heading}>
        <Banner tone="info" message="Only editors can post and edit notices. Ask an editor of your group." />
      </Screen>
    );
  }
  if (editing && existing.loading) return <Screen title={heading}><Loading label="Loading the notice" /></Screen>;
  if (editing && !loaded && existing.problem) return <Screen title={heading}><ProblemBanner problem={existing.problem} /></Screen>;

  const save = async () => {
    const expiresAt = parseExpiry(expires);
    const next: typeof errors = {};
    if (!title.trim()) next.title = "Give the notice a title.";
    if (!body.trim()) next.body = "Write what the notice says.";
    if (expiresAt === undefined) next.expires = "Use the form YYYY-MM-DD, or leave it empty.";
    setErrors(next);
    if (Object.keys(next).length) return;
    setProblem(null);
    const input = { title: title.trim(), body: body.trim(), pinned, expires_at: expiresAt ?? null };
    const r = editing ? await update(id!, input) : await create(input);
    if (r.kind === "ok") router.replace({ pathname: "/notices/[id]", params: { id: r.data.notice_id } });
    else setProblem(r);
  };

  return (
    <Screen title={heading} testID="notice-edit-screen">
      {problem ? <ProblemBanner problem={problem} /> : null}
      <Card>
        <TextField label="Title" value={title} onChangeText={setTitle} maxLength={200} error={errors.title} />
        <TextField label="Notice text" value={body} onChangeText={setBody} multiline maxLength={20000} error={errors.body} />
        <TextField label="Show until (optional)" value={expires} onChangeText={setExpires} placeholder="YYYY-MM-DD" hint="After this day the notice leaves the board." error={errors.expires} autoCapitalize="none" />
        <View style={styles.switchRow}>
          <Switch value={pinned} onValueChange={setPinned} accessibilityLabel="Pin to the top of the board" />
          <Text style={styles.switchLabel}>Pin to the top of the board</Text>
        </View>
      </Card>
      <View style={styles.actions}>
        <AppButton label="Cancel" variant="secondary" onPress={() => (router.canGoBack() ? router.back() : router.navigate("/board"))} />
        <AppButton label={editing ? "Save changes" : "Post notice"} busy={busy} onPress={() => void save()} />
      </View>
    </Screen>
  );
}

const styles = StyleSheet.create({
  switchRow: { flexDirection: "row", alignItems: "center", gap: spacing.md },
  switchLabel: { fontSize: 16, color: colors.text },
  actions: { flexDirection: "row", justifyContent: "flex-end", gap: spacing.sm },
});
