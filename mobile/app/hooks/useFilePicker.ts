import * as DocumentPicker from "expo-document-picker";
import { useCallback } from "react";

import type { UploadFile } from "../services/api";

/**
 * Opens the system's file picker (a file input on the web) and returns the chosen file, or null
 * when the user cancels.
 */
export function useFilePicker(): () => Promise<UploadFile | null> {
  return useCallback(async () => {
    const result = await DocumentPicker.getDocumentAsync({ multiple: false, copyToCacheDirectory: true, type: "*/*" });
    if (result.canceled || !result.assets?.length) return null;
    const a = result.assets[0];
    return { name: a.name, mimeType: a.mimeType ?? null, size: a.size ?? null, uri: a.uri, file: a.file };
  }, []);
}
