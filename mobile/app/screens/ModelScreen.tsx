import { useState } from "react";
import { StyleSheet, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner, ProblemBanner } from "../components/Banner";
import { Badge, Card } from "../components/Card";
import { EmptyState, Loading, Screen } from "../components/Screen";
import { TextField } from "../components/TextField";
import { useAuth } from "../context/AuthContext";
import { useModels } from "../hooks/useModels";
import type { ApiProblem, FineTuneJob, ModelVersion } from "../services/api";
import { colors, spacing } from "../theme";
import { formatDateTime } from "../utils/format";

/** The metrics worth a line, in this order; a server may send many more (tokens, memory...). */
const METRIC_LABELS: [string, string][] = [
  ["eval_loss", "validation loss"],
  ["base_eval_loss", "base model's validation loss"],
  ["train_loss", "train loss"],
  ["epoch", "epoch"],
  ["step", "step"],
];

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) < 0.001 ? v.toExponential(2) : v.toFixed(4);
}

function metricText(metrics: Record<string, number> | null | undefined): string {
  if (!metrics) return "";
  const known = METRIC_LABELS.filter(([k]) => typeof metrics[k] === "number").map(([k, label]) => `${label} ${formatNumber(metrics[k])}`);
  if (known.length) return known.join(" · ");
  return Object.entries(metrics)
    .slice(0, 4)
    .map(([k, v]) => `${k.replace(/_/g, " ")} ${formatNumber(v)}`)
    .join(" · ");
}

/** A base model may be named by its file path: show the file's name. */
function shortModelName(name: string): string {
  return name.split(/[\\/]/).pop() || name;
}

const STATUS_TEXT: Record<string, string> = {
  queued: "Waiting to start…",
  running: "Training on your group's notices and documents…",
  deploying: "Training finished; deploying the new version…",
  completed: "Finished.",
  failed: "The fine-tune failed.",
  stopped: "The fine-tune was stopped.",
};

/** The banner title for a refused start: 409 and 422 get their own words, the message is the server's. */
function startProblemTitle(problem: ApiProblem): string | undefined {
  if (problem.kind === "rejected" && problem.status === 409) return "A fine-tune is already running";
  if (problem.kind === "rejected" && problem.status === 422) return "Cannot start this fine-tune";
  if (problem.kind === "server") return "The fine-tune could not be started";
  return undefined;
}

/** The workspace's own model: start a fine-tune, watch it, and activate or roll back a version. */
export function ModelScreen() {
  const { session } = useAuth();
  const editor = !!session?.isEditor;
  const {
    models,
    activeModelId,
    baseModel,
    problem,
    loading,
    unavailable,
    reload,
    refreshing,
    job,
    jobRunning,
    jobProblem,
    starting,
    activating,
    startFineTune,
    activate,
    rollBack,
  } = useModels();
  const [epochs, setEpochs] = useState("3");
  const [rate, setRate] = useState("0.0002");
  const [errors, setErrors] = useState<{ epochs?: string; rate?: string }>({});
  const [startProblem, setStartProblem] = useState<ApiProblem | null>(null);
  const [activateProblem, setActivateProblem] = useState<ApiProblem | null>(null);

  if (loading) return <Screen title="Model"><Loading label="Loading models" /></Screen>;

  if (unavailable) {
    return (
      <Screen title="Model" testID="model-screen">
        <Banner
          tone="info"
          title="Not available on this server"
          message="This server does not offer fine-tuning, so your group's chatbot answers with the shared base model."
          testID="model-unavailable"
        />
      </Screen>
    );
  }

  const start = async () => {
    // Only the form is checked here; the server checks the ranges and answers 422 with the reason.
    const e = Number(epochs.trim());
    const lr = Number(rate.trim());
    const next: typeof errors = {};
    if (!epochs.trim() || !Number.isInteger(e) || e < 1) next.epochs = "A whole number, 1 or more.";
    if (!rate.trim() || !Number.isFinite(lr) || lr <= 0) next.rate = "A positive number, e.g. 0.0002.";
    setErrors(next);
    if (Object.keys(next).length) return;
    setStartProblem(null);
    const r = await startFineTune({ epochs: e, learning_rate: lr });
    if (r.kind !== "ok") setStartProblem(r);
  };

  const onActivate = async (modelId: string | null) => {
    setActivateProblem(null);
    const r = modelId === null ? await rollBack() : await activate(modelId);
    if (r.kind !== "ok") setActivateProblem(r);
  };

  const active = models?.find((m) => m.model_id === activeModelId) ?? null;

  return (
    <Screen
      title="Model"
      testID="model-screen"
      actions={<AppButton label="Refresh" accessibilityLabel="Refresh models" variant="secondary" busy={refreshing} onPress={() => void reload("refresh")} />}
    >
      {problem ? <ProblemBanner problem={problem} onRetry={() => void reload("refresh")} /> : null}
      {activateProblem ? <ProblemBanner problem={activateProblem} title="Could not change the model" testID="activate-problem" /> : null}

      <Card testID="answering-with">
        <Text style={styles.label}>Answering with</Text>
        <Text style={styles.activeName} testID="active-model">
          {active ? active.name : activeModelId ?? "The shared base model"}
        </Text>
        <Text style={styles.meta}>
          {activeModelId
            ? `A fine-tune of ${shortModelName(active?.base_model || baseModel) || "the base model"}`
            : baseModel
              ? `${baseModel}, not fine-tuned`
              : "Not fine-tuned"}
        </Text>
        {editor && activeModelId ? (
          <View style={styles.right}>
            <AppButton
              label="Roll back to the base model"
              accessibilityHint="Your group's chatbot answers with the shared base model again"
              variant="secondary"
              busy={activating === "base"}
              disabled={!!activating}
              onPress={() => void onActivate(null)}
            />
          </View>
        ) : null}
      </Card>

      {editor ? (
        <Card testID="fine-tune-form">
          <Text style={styles.sectionTitle} accessibilityRole="header">
            Fine-tune on your group's data
          </Text>
          <Text style={styles.help}>
            Trains a version of the base model on your notices, documents and question/answer tables. It takes a while; you can leave this screen.
          </Text>
          {startProblem ? <ProblemBanner problem={startProblem} title={startProblemTitle(startProblem)} testID="start-problem" /> : null}
          <View style={styles.formRow}>
            <View style={styles.formField}>
              <TextField label="Epochs" value={epochs} onChangeText={setEpochs} keyboardType="number-pad" error={errors.epochs} />
            </View>
            <View style={styles.formField}>
              <TextField label="Learning rate" value={rate} onChangeText={setRate} keyboardType="decimal-pad" autoCapitalize="none" error={errors.rate} />
            </View>
          </View>
          {jobRunning ? <Text style={styles.help}>A fine-tune is running; you can start another when it has finished.</Text> : null}
          <View style={styles.right}>
            <AppButton label="Start fine-tune" busy={starting} disabled={jobRunning} onPress={() => void start()} />
          </View>
        </Card>
      ) : (
        <Banner tone="info" message="Editors start fine-tunes and choose the version your group uses." />
      )}

      {job ? <JobCard job={job} problem={jobProblem} versionName={models?.find((m) => m.model_id === job.model_id)?.name ?? job.model_id} /> : null}

      <Text style={styles.sectionTitle} accessibilityRole="header">
        Versions
      </Text>
      {models && models.length === 0 ? <EmptyState title="No fine-tuned versions yet" message="Your group uses the shared base model until a fine-tune finishes." /> : null}
      {(models ?? []).map((m) => (
        <VersionCard
          key={m.model_id}
          model={m}
          active={active}
          editor={editor}
          busy={activating === m.model_id}
          disabled={!!activating}
          onActivate={() => void onActivate(m.model_id)}
        />
      ))}
    </Screen>
  );
}

function VersionCard({
  model: m,
  active,
  editor,
  busy,
  disabled,
  onActivate,
}: {
  model: ModelVersion;
  active: ModelVersion | null;
  editor: boolean;
  busy: boolean;
  disabled: boolean;
  onActivate: () => void;
}) {
  const failed = m.status === "failed";
  const older = !!active && !!m.created_at && !!active.created_at && m.created_at < active.created_at;
  const metrics = metricText(m.metrics);
  return (
    <Card testID={`model-${m.model_id}`}>
      <View style={styles.modelHead} accessibilityLabel={`${m.name}: ${m.active ? "active" : failed ? "failed" : "not active"}`}>
        <Text style={styles.modelName}>{m.name}</Text>
        {m.active ? <Badge label="Active" tone="success" /> : failed ? <Badge label="Failed" tone="danger" /> : null}
      </View>
      <Text style={styles.meta}>{[m.base_model ? `from ${shortModelName(m.base_model)}` : "", formatDateTime(m.created_at)].filter(Boolean).join(" · ")}</Text>
      {metrics ? <Text style={styles.meta}>{metrics}</Text> : null}
      {m.reason ? (
        <Text style={failed ? styles.error : styles.reason} testID={`reason-${m.model_id}`}>
          {m.reason}
        </Text>
      ) : null}
      {editor && !m.active && !failed ? (
        <View style={styles.right}>
          <AppButton
            label={older ? "Roll back to this version" : "Activate"}
            accessibilityLabel={`Activate ${m.name}`}
            variant="secondary"
            busy={busy}
            disabled={disabled}
            onPress={onActivate}
          />
        </View>
      ) : null}
    </Card>
  );
}

function JobCard({ job, problem, versionName }: { job: FineTuneJob; problem: ApiProblem | null; versionName: string | null }) {
  const status = String(job.status).toLowerCase();
  const tone = status === "completed" ? "success" : status === "failed" ? "danger" : status === "stopped" ? "neutral" : "info";
  const percent = job.progress === null ? null : Math.round(job.progress * 100);
  const metrics = metricText(job.metrics);
  const { train, validation } = job.dataset;
  return (
    <Card testID="fine-tune-job">
      <View style={styles.modelHead} accessibilityLabel={`Fine-tune ${job.job_id}: ${job.status}`}>
        <Text style={styles.modelName} numberOfLines={1}>
          Fine-tune {job.job_id.slice(0, 8)}
        </Text>
        <Badge label={String(job.status)} tone={tone} />
      </View>
      <Text style={styles.status} accessibilityLiveRegion="polite" testID="fine-tune-status">
        {STATUS_TEXT[status] ?? job.status}
        {status === "completed" && versionName ? ` New version: ${versionName}.` : ""}
      </Text>
      {job.stage && job.stage !== status ? <Text style={styles.meta}>Stage: {job.stage}</Text> : null}
      {percent !== null ? (
        <View
          style={styles.progressRow}
          accessible
          accessibilityRole="progressbar"
          accessibilityLabel="Fine-tune progress"
          accessibilityValue={{ min: 0, max: 100, now: percent, text: `${percent}%` }}
          testID="fine-tune-progress"
        >
          <View style={styles.progressTrack}>
            <View style={[styles.progressFill, { width: `${percent}%` }]} />
          </View>
          <Text style={styles.meta}>{percent}%</Text>
        </View>
      ) : null}
      {metrics ? <Text style={styles.meta}>{metrics}</Text> : null}
      {train !== undefined ? (
        <Text style={styles.meta}>
          {train} training and {validation ?? 0} validation examples
        </Text>
      ) : null}
      {job.error ? <Text style={styles.error}>{job.error}</Text> : null}
      {problem && problem.kind !== "not-found" ? <Text style={styles.error}>Could not check the status: {problem.message}</Text> : null}
    </Card>
  );
}

const styles = StyleSheet.create({
  label: { color: colors.muted, fontSize: 13, textTransform: "uppercase", fontWeight: "700" },
  activeName: { fontSize: 18, fontWeight: "700", color: colors.text, marginTop: spacing.xs },
  sectionTitle: { fontSize: 18, fontWeight: "700", color: colors.text, marginBottom: spacing.sm },
  help: { fontSize: 14, color: colors.muted, marginBottom: spacing.md },
  formRow: { flexDirection: "row", gap: spacing.md, flexWrap: "wrap" },
  formField: { flex: 1, minWidth: 140 },
  right: { flexDirection: "row", justifyContent: "flex-end", marginTop: spacing.sm },
  modelHead: { flexDirection: "row", alignItems: "center", justifyContent: "space-between", gap: spacing.sm, flexWrap: "wrap" },
  modelName: { fontSize: 16, fontWeight: "700", color: colors.text, flexShrink: 1 },
  meta: { color: colors.muted, fontSize: 13, marginTop: spacing.xs },
  reason: { color: colors.text, fontSize: 14, marginTop: spacing.xs, fontStyle: "italic" },
  status: { color: colors.text, fontSize: 15, marginTop: spacing.sm },
  progressRow: { flexDirection: "row", alignItems: "center", gap: spacing.sm, marginTop: spacing.sm },
  progressTrack: { flex: 1, height: 8, borderRadius: 4, backgroundColor: colors.background, borderWidth: 1, borderColor: colors.border, overflow: "hidden" },
  progressFill: { height: "100%", backgroundColor: colors.primary },
  error: { color: colors.danger, fontSize: 14, marginTop: spacing.xs },
});
