import { useState } from "react";
import { StyleSheet, Text, View } from "react-native";

import { AppButton } from "../components/AppButton";
import { Banner, ProblemBanner } from "../components/Banner";
import { Badge, Card } from "../components/Card";
import { EmptyState, Loading, Screen } from "../components/Screen";
import { TextField } from "../components/TextField";
import { useAuth } from "../context/AuthContext";
import { useDocuments } from "../hooks/useDocuments";
import { useFilePicker } from "../hooks/useFilePicker";
import type { ApiProblem, DocumentInfo, UploadFile } from "../services/api";
import { colors, spacing } from "../theme";
import { formatBytes, formatDateTime } from "../utils/format";

const STATUS_TONE = { queued: "neutral", processing: "info", indexed: "success", failed: "danger" } as const;

export function DocumentsScreen() {
  const { session } = useAuth();
  const { documents, problem, loading, refreshing, reload, upload, uploading } = useDocuments();
  const pickFile = useFilePicker();
  const [file, setFile] = useState<UploadFile | null>(null);
  const [title, setTitle] = useState("");
  const [uploadProblem, setUploadProblem] = useState<ApiProblem | null>(null);
  const [uploadedNote, setUploadedNote] = useState<string | null>(null);

  const choose = async () => {
    const picked = await pickFile();
    if (picked) {
      setFile(picked);
      setUploadedNote(null);
      setUploadProblem(null);
    }
  };

  const send = async () => {
    if (!file) return;
    const r = await upload(file, title);
    if (r.kind === "ok") {
      setUploadedNote(r.data.duplicate ? `${file.name} was already uploaded.` : `${file.name} is queued for indexing.`);
      setFile(null);
      setTitle("");
    } else {
      setUploadProblem(r);
    }
  };

  return (
    <Screen
      title="Documents"
      testID="documents-screen"
      actions={<AppButton label="Refresh" accessibilityLabel="Refresh documents" variant="secondary" busy={refreshing} onPress={() => void reload("refresh")} />}
    >
      {session?.isEditor ? (
        <Card>
          <Text style={styles.sectionTitle} accessibilityRole="header">
            Upload a document
          </Text>
          <Text style={styles.help}>PDF, Word, HTML, Markdown or text, up to 10 MB. The chatbot can answer from it once it is indexed.</Text>
          <View style={styles.pickRow}>
            <AppButton label={file ? "Choose another file" : "Choose a file"} variant="secondary" onPress={() => void choose()} />
            <Text style={styles.fileName} testID="picked-file">
              {file ? `${file.name}${file.size ? ` (${formatBytes(file.size)})` : ""}` : "No file chosen"}
            </Text>
          </View>
          {file ? (
            <>
              <TextField label="Document title (optional)" value={title} onChangeText={setTitle} placeholder={file.name} maxLength={200} />
              <View style={styles.uploadRow}>
                <AppButton label="Upload" accessibilityLabel="Upload document" busy={uploading} onPress={() => void send()} />
              </View>
            </>
          ) : null}
          {uploadProblem ? <ProblemBanner problem={uploadProblem} /> : null}
          {uploadedNote ? <Banner tone="success" message={uploadedNote} /> : null}
        </Card>
      ) : (
        <Banner tone="info" message="Editors upload documents; you can ask the chatbot about them." />
      )}
      {problem ? <ProblemBanner problem={problem} onRetry={() => void reload("refresh")} /> : null}
      {loading && !documents ? <Loading label="Loading documents" /> : null}
      {documents && documents.length === 0 ? <EmptyState title="No documents yet" message="Uploaded documents and their indexing status show up here." /> : null}
      <View accessibilityLabel="Documents list">
        {(documents ?? []).map((d) => (
          <DocumentRow key={d.document_id} doc={d} />
        ))}
      </View>
    </Screen>
  );
}

function DocumentRow({ doc }: { doc: DocumentInfo }) {
  const statusText = { queued: "Queued", processing: "Indexing", indexed: "Indexed", failed: "Failed" }[doc.status] ?? doc.status;
  const details = [
    doc.filename !== doc.title ? doc.filename : "",
    formatBytes(doc.size_bytes),
    doc.status === "indexed" ? `${doc.chunk_count} passage${doc.chunk_count === 1 ? "" : "s"}` : "",
    doc.page_count ? `${doc.page_count} pages` : "",
    formatDateTime(doc.created_at),
  ].filter(Boolean);
  return (
    <Card testID={`document-${doc.document_id}`}>
      <View style={styles.docHead} accessibilityLabel={`${doc.title}: ${statusText}`}>
        <Text style={styles.docTitle}>{doc.title}</Text>
        <Badge label={statusText} tone={STATUS_TONE[doc.status] ?? "neutral"} />
      </View>
      <Text style={styles.docMeta}>{details.join(" · ")}</Text>
      {doc.status === "failed" ? <Text style={styles.docError} accessibilityRole="alert">Could not index it: {doc.error || "no reason given"}</Text> : null}
    </Card>
  );
}

const styles = StyleSheet.create({
  sectionTitle: { fontSize: 18, fontWeight: "700", color: colors.text, marginBottom: spacing.xs },
  help: { fontSize: 14, color: colors.muted, marginBottom: spacing.md },
  pickRow: { flexDirection: "row", alignItems: "center", gap: spacing.md, flexWrap: "wrap", marginBottom: spacing.md },
  fileName: { color: colors.text, fontSize: 15, flexShrink: 1 },
  uploadRow: { flexDirection: "row", justifyContent: "flex-end", marginBottom: spacing.sm },
  docHead: { flexDirection: "row", alignItems: "center", justifyContent: "space-between", gap: spacing.sm, flexWrap: "wrap" },
  docTitle: { fontSize: 17, fontWeight: "700", color: colors.text, flexShrink: 1 },
  docMeta: { color: colors.muted, fontSize: 13, marginTop: spacing.xs },
  docError: { color: colors.danger, fontSize: 14, marginTop: spacing.xs },
});
