import { fireEvent, screen, waitFor } from "@testing-library/react-native";
import * as DocumentPicker from "expo-document-picker";

import { doc, fakeApi, memberSession, ok, renderWithApp } from "../../test/fixtures";
import { DocumentsScreen } from "./DocumentsScreen";

jest.mock("expo-document-picker", () => ({ getDocumentAsync: jest.fn() }));
const pick = DocumentPicker.getDocumentAsync as jest.Mock;

describe("DocumentsScreen", () => {
  it("uploads a picked file and follows it from queued to indexed", async () => {
    const listDocuments = jest
      .fn()
      .mockResolvedValueOnce(ok([]))
      .mockResolvedValueOnce(ok([doc({ document_id: "d9", title: "Rules", filename: "rules.txt", status: "queued", chunk_count: 0 })]))
      .mockResolvedValue(ok([doc({ document_id: "d9", title: "Rules", filename: "rules.txt", status: "indexed", chunk_count: 3 })]));
    const api = fakeApi({ listDocuments });
    pick.mockResolvedValue({ canceled: false, assets: [{ name: "rules.txt", mimeType: "text/plain", size: 120, uri: "file:///tmp/rules.txt" }] });
    renderWithApp(<DocumentsScreen />, { api });
    expect(await screen.findByText("No documents yet")).toBeTruthy();

    fireEvent.press(screen.getByRole("button", { name: "Choose a file" }));
    expect(await screen.findByText("rules.txt (120 B)")).toBeTruthy();
    fireEvent.changeText(screen.getByLabelText("Document title (optional)"), "Rules");
    fireEvent.press(screen.getByRole("button", { name: "Upload document" }));
    expect(await screen.findByText("rules.txt is queued for indexing.")).toBeTruthy();
    expect(api.uploadDocument).toHaveBeenCalledWith(
      { name: "rules.txt", mimeType: "text/plain", size: 120, uri: "file:///tmp/rules.txt", file: undefined },
      { title: "Rules" },
    );
    expect(await screen.findByLabelText("Rules: Queued")).toBeTruthy();
    expect(await screen.findByLabelText("Rules: Indexed", {}, { timeout: 5000 })).toBeTruthy();
    expect(screen.getByText(/3 passages/)).toBeTruthy();
  });

  it("shows why a document failed", async () => {
    const api = fakeApi({ listDocuments: jest.fn(async () => ok([doc({ title: "Scan", status: "failed", error: "the PDF has no text layer" })])) });
    renderWithApp(<DocumentsScreen />, { api });
    expect(await screen.findByLabelText("Scan: Failed")).toBeTruthy();
    expect(screen.getByText("Could not index it: the PDF has no text layer")).toBeTruthy();
  });

  it("shows a refused upload and a list error", async () => {
    const api = fakeApi({
      listDocuments: jest.fn(async () => ({ kind: "server", status: 500, message: "something went wrong on our side" })),
      uploadDocument: jest.fn(async () => ({ kind: "rejected", status: 413, code: "payload_too_large", message: "request body is larger than 10 MB" })),
    });
    pick.mockResolvedValue({ canceled: false, assets: [{ name: "big.pdf", size: 20_000_000, uri: "file:///big.pdf" }] });
    renderWithApp(<DocumentsScreen />, { api });
    expect(await screen.findByText("something went wrong on our side")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Choose a file" }));
    fireEvent.press(await screen.findByRole("button", { name: "Upload document" }));
    expect(await screen.findByText("request body is larger than 10 MB")).toBeTruthy();
  });

  it("does nothing when picking is cancelled, and offers no upload to members", async () => {
    pick.mockResolvedValue({ canceled: true, assets: null });
    const { unmount } = renderWithApp(<DocumentsScreen />);
    fireEvent.press(await screen.findByRole("button", { name: "Choose a file" }));
    await waitFor(() => expect(pick).toHaveBeenCalled());
    expect(screen.getByText("No file chosen")).toBeTruthy();
    unmount();
    renderWithApp(<DocumentsScreen />, { session: memberSession() });
    expect(await screen.findByText(/Editors upload documents/)).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Choose a file" })).toBeNull();
  });
});
