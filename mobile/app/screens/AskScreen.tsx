import { useState } from "react";
import { Pressable, StyleSheet, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner, ProblemBanner } from "../components/Banner";
import { Card } from "../components/Card";
import { EmptyState, Screen } from "../components/Screen";
import { TextField } from "../components/TextField";
import { type ChatTurn, useChat } from "../hooks/useChat";
import type { ChatAnswer, Citation } from "../services/api";
import { colors, spacing } from "../theme";

/** Ask the chatbot. The answer shows as the model writes it, then is replaced by the checked
 * answer with its numbered sources (each opens its snippet); Stop ends an answer under way. */
export function AskScreen() {
  const { turns, pending, ask, stop, reset } = useChat();
  const [query, setQuery] = useState("");

  const send = () => {
    const q = query.trim();
    if (!q || pending) return;
    setQuery("");
    void ask(q);
  };

  return (
    <Screen
      title="Ask"
      testID="ask-screen"
      actions={turns.length ? <AppButton label="New conversation" variant="secondary" onPress={reset} /> : undefined}
    >
      {turns.length === 0 ? (
        <EmptyState title="Ask about your notices" message="Answers come from your group's notices and documents, with the sources listed under each answer." />
      ) : (
        <View accessibilityLabel="Conversation" style={styles.thread}>
          {turns.map((t) => (
            <TurnView key={t.id} turn={t} onRetry={() => void ask(t.query)} />
          ))}
        </View>
      )}
      <Card style={styles.composer}>
        <TextField
          label="Your question"
          value={query}
          onChangeText={setQuery}
          placeholder="When is the summer party?"
          onSubmitEditing={send}
          returnKeyType="send"
          maxLength={2000}
        />
        <View style={styles.sendRow}>
          {pending ? <AppButton label="Stop" accessibilityLabel="Stop answering" variant="secondary" onPress={stop} testID="stop-answer" /> : null}
          <AppButton label="Ask" accessibilityLabel="Send question" onPress={send} busy={pending} disabled={!query.trim()} />
        </View>
      </Card>
    </Screen>
  );
}

function TurnView({ turn, onRetry }: { turn: ChatTurn; onRetry: () => void }) {
  const [open, setOpen] = useState<number | null>(null);
  const answer = turn.answer;
  return (
    <View style={styles.turn}>
      <View style={styles.question} accessibilityLabel={`You asked: ${turn.query}`}>
        <Text style={styles.questionText}>{turn.query}</Text>
      </View>
      {turn.status === "pending" ? (
        <Text style={styles.muted} accessibilityLiveRegion="polite">
          Looking through your notices…
        </Text>
      ) : null}
      {turn.status === "streaming" ? (
        <Card testID="answer-streaming">
          <Text style={styles.answer} selectable testID="answer-draft">
            {turn.draft}
          </Text>
          <Text style={styles.muted} accessibilityLiveRegion="polite">
            Writing… the answer is checked against your sources when it is done.
          </Text>
        </Card>
      ) : null}
      {turn.status === "stopped" ? (
        <Card testID="answer-stopped">
          {turn.draft ? (
            <Text style={[styles.answer, styles.unchecked]} selectable>
              {turn.draft}
            </Text>
          ) : null}
          <Banner tone="info" title="Stopped" message="You stopped this answer, so it was not checked against your sources or kept in the conversation." onRetry={onRetry} />
        </Card>
      ) : null}
      {turn.problem ? <ProblemBanner problem={turn.problem} onRetry={onRetry} /> : null}
      {answer ? (
        <Card testID="answer">
          {answer.warning ? <Banner tone="warning" title="Note" message={answer.warning} testID="answer-warning" /> : null}
          {!answer.grounded ? (
            <Banner tone="warning" title="Not in your notices" message="Your group's notices and documents do not say. Try other words, or ask an editor to post it." testID="not-grounded" />
          ) : null}
          {answer.grounded ? <SupportNote answer={answer} /> : null}
          <Text style={styles.answer} selectable accessibilityLabel={`Answer: ${answer.answer}`}>
            {answer.answer}
          </Text>
          {answer.answer_check ? <Text style={styles.check}>{answer.answer_check}</Text> : null}
          {answer.citations.length ? (
            <View style={styles.sources}>
              <Text style={styles.sourcesTitle}>Sources</Text>
              {answer.citations.map((c, i) => (
                <CitationView key={`${c.document_id}-${i}`} n={i + 1} citation={c} open={open === i} onToggle={() => setOpen(open === i ? null : i)} />
              ))}
            </View>
          ) : null}
          {answer.model ? (
            <Text style={styles.model} testID="answered-by">
              Answered by {answer.model_name ? `${answer.model_name} (your group's model)` : answer.model}
            </Text>
          ) : null}
        </Card>
      ) : null}
    </View>
  );
}

const SUPPORT_NOTES: Record<string, { title: string; message: string } | undefined> = {
  partly_supported: { title: "Partly backed by your sources", message: "Sentences your sources do not back were left out of this answer." },
  evidence: { title: "Quoted from your sources", message: "The answer could not be backed by your sources, so the passages that bear on your question are shown instead." },
  not_found: { title: "Not in your notices", message: "Your group's notices and documents do not say." },
};

/** What the support check said, when it is not "every sentence is backed by a source". */
function SupportNote({ answer }: { answer: ChatAnswer }) {
  if (answer.support === "supported") return null;
  const note = SUPPORT_NOTES[answer.support] ?? { title: "Check the sources", message: "Not every part of this answer could be checked against your sources." };
  return <Banner tone="info" title={note.title} message={note.message} testID="support-verdict" />;
}

function CitationView({ n, citation, open, onToggle }: { n: number; citation: Citation; open: boolean; onToggle: () => void }) {
  const page = citation.page ? `, page ${citation.page}` : "";
  return (
    <View style={styles.citation}>
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={`Source ${n}: ${citation.title}${page}`}
        accessibilityHint={open ? "Hides the passage" : "Shows the passage"}
        accessibilityState={{ expanded: open }}
        onPress={onToggle}
        style={styles.citationHead}
        testID={`citation-${n}`}
      >
        <Text style={styles.citationNumber}>[{n}]</Text>
        <Text style={styles.citationTitle}>
          {citation.title}
          {page}
        </Text>
      </Pressable>
      {open ? (
        <Text style={styles.snippet} selectable testID={`snippet-${n}`}>
          “{citation.snippet}”
        </Text>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  thread: { gap: spacing.lg, marginBottom: spacing.lg },
  turn: { gap: spacing.sm },
  question: { alignSelf: "flex-end", backgroundColor: colors.primary, borderRadius: 12, paddingHorizontal: spacing.md, paddingVertical: spacing.sm, maxWidth: "85%" },
  questionText: { color: colors.primaryText, fontSize: 16 },
  muted: { color: colors.muted, fontSize: 15 },
  answer: { fontSize: 16, lineHeight: 24, color: colors.text },
  check: { fontSize: 13, color: colors.warn, marginTop: spacing.xs },
  sources: { marginTop: spacing.md, borderTopWidth: 1, borderTopColor: colors.border, paddingTop: spacing.sm, gap: spacing.xs },
  sourcesTitle: { fontSize: 13, fontWeight: "700", color: colors.muted, textTransform: "uppercase" },
  citation: { gap: spacing.xs },
  citationHead: { flexDirection: "row", gap: spacing.sm, alignItems: "center", minHeight: 36 },
  citationNumber: { color: colors.primary, fontWeight: "700", fontSize: 15 },
  citationTitle: { color: colors.primary, fontSize: 15, textDecorationLine: "underline", flexShrink: 1 },
  snippet: { fontSize: 14, color: colors.text, backgroundColor: colors.background, padding: spacing.sm, borderRadius: 6, fontStyle: "italic" },
  model: { fontSize: 12, color: colors.muted, marginTop: spacing.sm },
  composer: { marginTop: spacing.sm },
  sendRow: { flexDirection: "row", justifyContent: "flex-end", gap: spacing.sm },
  unchecked: { color: colors.muted },
});
