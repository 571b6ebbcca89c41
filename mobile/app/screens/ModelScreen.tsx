import { useState } from "react";
import { StyleSheet, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner, ProblemBanner } from "../components/Banner";
import { Badge, Card } from "../components/Card";
import { EmptyState, Loading, Screen } from "../components/Screen";
import { TextField } from "../components/TextField";
import { useAuth } from "../context/AuthContext";
import { isJobDone, useModels } from "../hooks/useModels";
import type { ApiProblem, FineTuneJob, ModelVersion } from "../services/api";
import { colors, spacing } from "../theme";
import { formatDateTime } from "../utils/format";

function metricText(metrics: Record<string, number | null> | null | undefined): string {
  if (!metrics) return "";
  return Object.entries(metrics)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k.replace(/_/g, " ")} ${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(4) : v}`)
    .join(" · ");
}

/** The workspace's own model: start a fine-tune, watch it, and activate or roll back a version. */
export function ModelScreen() {
  const { session } = useAuth();
  const editor = !!session?.isEditor;
  const { models, problem, loading, unavailable, reload, refreshing, job, jobProblem, busy, startFineTune, activate } = useModels();
  const [epochs, setEpochs] = useState("3");
  const [rate, setRate] = useState("0.0002");
  const [errors, setErrors] = useState<{ epochs?: string; rate?: string }>({});
  const [actionProblem, setActionProblem] = useState<ApiProblem | null>(null);

  if (loading) return <Screen title="Model"><Loading label="Loading models" /></Screen>;

  if (unavailable) {
    return (
      <Screen title="Model" testID="model-screen">
        <Banner
          tone="info"
          title="Not available on this server"
          message="This server does not offer fine-tuning yet, so your group's chatbot answers with the shared base model. The cloud deployment trains and serves a model per group."
          testID="model-unavailable"
        />
      </Screen>
    );
  }

  const start = async () => {
    const e = Number(epochs);
    const lr = Number(rate);
    const next: typeof errors = {};
    if (!Number.isInteger(e) || e < 1 || e > 20) next.epochs = "A whole number from 1 to 20.";
    if (!Number.isFinite(lr) || lr <= 0 || lr >= 1) next.rate = "A number between 0 and 1, e.g. 0.0002.";
    setErrors(next);
    if (Object.keys(next).length) return;
    setActionProblem(null);
    const r = await startFineTune({ epochs: e, learning_rate: lr });
    if (r.kind !== "ok") setActionProblem(r);
  };

  const onActivate = async (m: ModelVersion) => {
    setActionProblem(null);
    const r = await activate(m.model_id);
    if (r.kind !== "ok") setActionProblem(r);
  };

  const active = models?.find((m) => m.active);
  const jobRunning = !!job && !isJobDone(job);

  return (
    <Screen
      title="Model"
      testID="model-screen"
      actions={<AppButton label="Refresh" accessibilityLabel="Refresh models" variant="secondary" busy={refreshing} onPress={() => void reload("refresh")} />}
    >
      {problem ? <ProblemBanner problem={problem} onRetry={() => void reload("refresh")} /> : null}
      {actionProblem ? <ProblemBanner problem={actionProblem} /> : null}
      <Card>
        <Text style={styles.label}>Answering with</Text>
        <Text style={styles.activeName} testID="active-model">
          {active ? active.name || active.model_id : "The shared base model"}
        </Text>
      </Card>

      {editor ? (
        <Card>
          <Text style={styles.sectionTitle} accessibilityRole="header">
            Fine-tune on your group's data
          </Text>
          <Text style={styles.help}>Trains a version of the base model on your notices and documents. It takes a while; you can leave this screen.</Text>
          <View style={styles.formRow}>
            <View style={styles.formField}>
              <TextField label="Epochs" value={epochs} onChangeText={setEpochs} keyboardType="number-pad" error={errors.epochs} />
            </View>
            <View style={styles.formField}>
              <TextField label="Learning rate" value={rate} onChangeText={setRate} keyboardType="decimal-pad" autoCapitalize="none" error={errors.rate} />
            </View>
          </View>
          <View style={styles.right}>
            <AppButton label="Start fine-tune" busy={busy && !jobRunning} disabled={jobRunning} onPress={() => void start()} />
          </View>
        </Card>
      ) : (
        <Banner tone="info" message="Editors start fine-tunes and choose the version your group uses." />
      )}

      {job ? <JobCard job={job} problem={jobProblem} /> : null}

      <Text style={styles.sectionTitle} accessibilityRole="header">
        Versions
      </Text>
      {models && models.length === 0 ? <EmptyState title="No fine-tuned versions yet" message="Your group uses the shared base model until a fine-tune finishes." /> : null}
      {(models ?? []).map((m) => (
        <Card key={m.model_id} testID={`model-${m.model_id}`}>
          <View style={styles.modelHead}>
            <Text style={styles.modelName}>{m.name || m.model_id}</Text>
            {m.active ? <Badge label="Active" tone="success" /> : m.status ? <Badge label={m.status} /> : null}
          </View>
          <Text style={styles.meta}>{[m.base_model ? `from ${m.base_model}` : "", formatDateTime(m.created_at), metricText(m.metrics)].filter(Boolean).join(" · ")}</Text>
          {editor && !m.active ? (
            <View style={styles.right}>
              <AppButton
                label={active && m.created_at && active.created_at && m.created_at < active.created_at ? "Roll back to this version" : "Activate"}
                accessibilityLabel={`Activate ${m.name || m.model_id}`}
                variant="secondary"
                busy={busy}
                onPress={() => void onActivate(m)}
              />
            </View>
          ) : null}
        </Card>
      ))}
    </Screen>
  );
}

function JobCard({ job, problem }: { job: FineTuneJob; problem: ApiProblem | null }) {
  const status = String(job.status).toLowerCase();
  const tone = status === "completed" ? "success" : status === "failed" ? "danger" : "info";
  return (
    <Card testID="fine-tune-job">
      <View style={styles.modelHead} accessibilityLabel={`Fine-tune ${job.job_id}: ${job.status}`}>
        <Text style={styles.modelName}>Fine-tune {job.job_id}</Text>
        <Badge label={String(job.status)} tone={tone} />
      </View>
      {metricText(job.metrics) ? <Text style={styles.meta}>{metricText(job.metrics)}</Text> : null}
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
  error: { color: colors.danger, fontSize: 14, marginTop: spacing.xs },
});
