import { act, fireEvent, screen, waitFor, within } from "@testing-library/react-native";

import type { ApiResult, ChatAnswer, ChatRequest, ChatStreamOptions } from "../services/api";
import { answer, fakeApi, ok, renderWithApp, streamedChat } from "../../test/fixtures";
import { AskScreen } from "./AskScreen";

function ask(text: string) {
  fireEvent.changeText(screen.getByLabelText("Your question"), text);
  fireEvent.press(screen.getByRole("button", { name: "Send question" }));
}

/** A streamed answer the test drives: `token()` sends a piece, `finish()` ends it; aborting the
 * request's signal ends it as the real client does. */
function controlledStream() {
  const calls: { request: ChatRequest; options: ChatStreamOptions }[] = [];
  let finishCurrent: ((r: ApiResult<ChatAnswer>) => void) | null = null;
  const chatStream = jest.fn(
    (request: ChatRequest, options: ChatStreamOptions = {}) =>
      new Promise<ApiResult<ChatAnswer>>((resolve) => {
        calls.push({ request, options });
        finishCurrent = resolve;
        options.signal?.addEventListener("abort", () => resolve({ kind: "aborted", message: "You stopped this answer." }));
      }),
  );
  const last = () => calls[calls.length - 1];
  return {
    chatStream,
    calls,
    token: (text: string) => act(() => last().options.onToken?.(text)),
    finish: async (r: ApiResult<ChatAnswer>) => {
      await act(async () => finishCurrent?.(r));
    },
  };
}

describe("AskScreen", () => {
  it("shows the answer with numbered citations that open their snippet, and keeps the conversation", async () => {
    const chatStream = jest
      .fn()
      .mockImplementationOnce(streamedChat(ok(answer())))
      .mockImplementationOnce(streamedChat(ok(answer({ answer: "At six.", conversation_id: "c1" }))));
    const api = fakeApi({ chatStream });
    renderWithApp(<AskScreen />, { api });
    expect(screen.getByText("Ask about your notices")).toBeTruthy();
    ask("When is the party?");
    expect(await screen.findByText("The party is on Saturday.")).toBeTruthy();
    expect(chatStream.mock.calls[0][0]).toEqual({ query: "When is the party?", conversation_id: undefined });

    const first = screen.getByRole("button", { name: "Source 1: Club handbook, page 3" });
    expect(screen.getByRole("button", { name: "Source 2: Summer party" })).toBeTruthy();
    expect(screen.queryByText(/The summer party is on Saturday at six/)).toBeNull();
    fireEvent.press(first);
    expect(screen.getByText(/The summer party is on Saturday at six/)).toBeTruthy();
    fireEvent.press(first);
    expect(screen.queryByText(/The summer party is on Saturday at six/)).toBeNull();

    ask("What time?");
    expect(await screen.findByText("At six.")).toBeTruthy();
    expect(chatStream.mock.calls[1][0]).toEqual({ query: "What time?", conversation_id: "c1" });
    expect(screen.queryByTestId("not-grounded")).toBeNull();
    expect(screen.queryByTestId("answer-warning")).toBeNull();
    expect(screen.queryByTestId("support-verdict")).toBeNull();
    expect(screen.getAllByText("Answered by SmolLM2")).toHaveLength(2);
  });

  it("shows the text as it is written, then swaps in the checked answer with its sources", async () => {
    const stream = controlledStream();
    renderWithApp(<AskScreen />, { api: fakeApi({ chatStream: stream.chatStream }) });
    ask("When is the party?");
    expect(screen.getByText("Looking through your notices…")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Stop answering" })).toBeTruthy();

    stream.token("The party ");
    const draft = screen.getByTestId("answer-streaming");
    expect(within(draft).getByText("The party")).toBeTruthy();
    expect(screen.queryByText("Looking through your notices…")).toBeNull();
    stream.token("is on Saturday, probably");
    expect(within(screen.getByTestId("answer-streaming")).getByText("The party is on Saturday, probably")).toBeTruthy();
    expect(screen.queryByTestId("answer")).toBeNull();

    await stream.finish(ok(answer()));
    expect(screen.queryByTestId("answer-streaming")).toBeNull();
    expect(screen.queryByText(/probably/)).toBeNull(); // the checked answer replaced the draft
    expect(within(screen.getByTestId("answer")).getByText("The party is on Saturday.")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Source 1: Club handbook, page 3" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Stop answering" })).toBeNull();
  });

  it.each([
    ["partly_supported", "Partly backed by your sources"],
    ["evidence", "Quoted from your sources"],
    ["a_newer_verdict", "Check the sources"],
  ])("says when the support check is not satisfied (%s)", async (support, title) => {
    const api = fakeApi({ chatStream: streamedChat(ok(answer({ support, answer_check: "One sentence was not in the sources." }))) });
    renderWithApp(<AskScreen />, { api });
    ask("When is the party?");
    const verdict = await screen.findByTestId("support-verdict");
    expect(within(verdict).getByText(title)).toBeTruthy();
    expect(screen.getByText("One sentence was not in the sources.")).toBeTruthy();
  });

  it("stops an answer under way: the request is aborted, the draft stays marked unchecked, the conversation goes on", async () => {
    const stream = controlledStream();
    renderWithApp(<AskScreen />, { api: fakeApi({ chatStream: stream.chatStream }) });
    ask("When is the party?");
    await stream.finish(ok(answer({ conversation_id: "c1" })));
    ask("And the time?");
    stream.token("At si");
    fireEvent.press(screen.getByRole("button", { name: "Stop answering" }));
    expect(stream.calls[1].options.signal?.aborted).toBe(true);
    const stopped = await screen.findByTestId("answer-stopped");
    expect(within(stopped).getByText("At si")).toBeTruthy();
    expect(within(stopped).getByText("Stopped")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Stop answering" })).toBeNull();

    ask("What time does it start?");
    await waitFor(() => expect(stream.calls).toHaveLength(3));
    expect(stream.calls[2].request).toEqual({ query: "What time does it start?", conversation_id: "c1" });
  });

  it("shows the server's warning above the answer and which model answered", async () => {
    const warning = "Your group's fine-tuned model could not answer, so the shared base model answered instead.";
    const api = fakeApi({ chatStream: streamedChat(ok(answer({ warning, model: "SmolLM2-135M-Instruct" }))) });
    renderWithApp(<AskScreen />, { api });
    ask("When is the party?");
    const banner = await screen.findByTestId("answer-warning");
    expect(within(banner).getByText(warning)).toBeTruthy();
    expect(within(screen.getByTestId("answer")).getByTestId("answered-by")).toHaveTextContent("Answered by SmolLM2-135M-Instruct");
    expect(screen.getByText("The party is on Saturday.")).toBeTruthy();
  });

  it("names the group's fine-tuned model by its name, not its id", async () => {
    const api = fakeApi({ chatStream: streamedChat(ok(answer({ model: "ft-0f3c2d9a8b7e4f6a", model_name: "Fine-tune 2" }))) });
    renderWithApp(<AskScreen />, { api });
    ask("When is the party?");
    const by = await screen.findByTestId("answered-by");
    expect(by).toHaveTextContent("Answered by Fine-tune 2 (your group's model)");
    expect(screen.queryByText(/ft-0f3c2d9a8b7e4f6a/)).toBeNull();
  });

  it("says plainly when the notices do not contain the answer", async () => {
    const api = fakeApi({
      chatStream: streamedChat(ok(answer({ grounded: false, support: "not_found", citations: [], answer: "I could not find this." })), []),
    });
    renderWithApp(<AskScreen />, { api });
    ask("Capital of Peru?");
    expect(await screen.findByTestId("not-grounded")).toBeTruthy();
    expect(screen.getByText("Not in your notices")).toBeTruthy();
    expect(screen.queryByText("Sources")).toBeNull();
    expect(screen.queryByTestId("support-verdict")).toBeNull();
  });

  it("shows a failure that ends the stream, and asks again on retry", async () => {
    const chatStream = jest
      .fn()
      .mockImplementationOnce(streamedChat({ kind: "server", status: 503, message: "the model server went away" }, ["The par"]))
      .mockImplementationOnce(streamedChat(ok(answer())));
    renderWithApp(<AskScreen />, { api: fakeApi({ chatStream }) });
    ask("When is the party?");
    expect(await screen.findByText("Server problem")).toBeTruthy();
    expect(screen.getByText("the model server went away")).toBeTruthy();
    expect(screen.queryByTestId("answer-streaming")).toBeNull();
    fireEvent.press(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(chatStream).toHaveBeenCalledTimes(2));
    expect(await screen.findByText("The party is on Saturday.")).toBeTruthy();
  });

  it("shows a timeout and asks again on retry", async () => {
    const chatStream = jest
      .fn()
      .mockImplementationOnce(streamedChat({ kind: "timeout", temporary: true, message: "The server took too long to answer. Try again." }, []))
      .mockImplementationOnce(streamedChat(ok(answer())));
    renderWithApp(<AskScreen />, { api: fakeApi({ chatStream }) });
    ask("When is the party?");
    expect(await screen.findByText("No answer in time")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(chatStream).toHaveBeenCalledTimes(2));
    expect(await screen.findByText("The party is on Saturday.")).toBeTruthy();
  });
});
