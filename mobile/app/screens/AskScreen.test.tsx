import { fireEvent, screen, waitFor, within } from "@testing-library/react-native";

import { answer, fakeApi, ok, renderWithApp } from "../../test/fixtures";
import { AskScreen } from "./AskScreen";

function ask(text: string) {
  fireEvent.changeText(screen.getByLabelText("Your question"), text);
  fireEvent.press(screen.getByRole("button", { name: "Send question" }));
}

describe("AskScreen", () => {
  it("shows the answer with numbered citations that open their snippet, and keeps the conversation", async () => {
    const chat = jest.fn().mockResolvedValueOnce(ok(answer())).mockResolvedValueOnce(ok(answer({ answer: "At six.", conversation_id: "c1" })));
    const api = fakeApi({ chat });
    renderWithApp(<AskScreen />, { api });
    expect(screen.getByText("Ask about your notices")).toBeTruthy();
    ask("When is the party?");
    expect(await screen.findByText("The party is on Saturday.")).toBeTruthy();
    expect(chat).toHaveBeenCalledWith({ query: "When is the party?", conversation_id: undefined });

    const first = screen.getByRole("button", { name: "Source 1: Club handbook, page 3" });
    expect(screen.getByRole("button", { name: "Source 2: Summer party" })).toBeTruthy();
    expect(screen.queryByText(/The summer party is on Saturday at six/)).toBeNull();
    fireEvent.press(first);
    expect(screen.getByText(/The summer party is on Saturday at six/)).toBeTruthy();
    fireEvent.press(first);
    expect(screen.queryByText(/The summer party is on Saturday at six/)).toBeNull();

    ask("What time?");
    expect(await screen.findByText("At six.")).toBeTruthy();
    expect(chat).toHaveBeenLastCalledWith({ query: "What time?", conversation_id: "c1" });
    expect(screen.queryByTestId("not-grounded")).toBeNull();
    expect(screen.queryByTestId("answer-warning")).toBeNull();
    expect(screen.getAllByText("Answered by SmolLM2")).toHaveLength(2);
  });

  it("shows the server's warning above the answer and which model answered", async () => {
    const warning = "Your group's fine-tuned model could not answer, so the shared base model answered instead.";
    const api = fakeApi({ chat: jest.fn(async () => ok(answer({ warning, model: "SmolLM2-135M-Instruct" }))) });
    renderWithApp(<AskScreen />, { api });
    ask("When is the party?");
    const banner = await screen.findByTestId("answer-warning");
    expect(within(banner).getByText(warning)).toBeTruthy();
    expect(within(screen.getByTestId("answer")).getByTestId("answered-by")).toHaveTextContent("Answered by SmolLM2-135M-Instruct");
    expect(screen.getByText("The party is on Saturday.")).toBeTruthy();
  });

  it("names the group's fine-tuned model by its name, not its id", async () => {
    const api = fakeApi({ chat: jest.fn(async () => ok(answer({ model: "ft-0f3c2d9a8b7e4f6a", model_name: "Fine-tune 2" }))) });
    renderWithApp(<AskScreen />, { api });
    ask("When is the party?");
    const by = await screen.findByTestId("answered-by");
    expect(by).toHaveTextContent("Answered by Fine-tune 2 (your group's model)");
    expect(screen.queryByText(/ft-0f3c2d9a8b7e4f6a/)).toBeNull();
  });

  it("says plainly when the notices do not contain the answer", async () => {
    const api = fakeApi({ chat: jest.fn(async () => ok(answer({ grounded: false, citations: [], answer: "I could not find this." }))) });
    renderWithApp(<AskScreen />, { api });
    ask("Capital of Peru?");
    expect(await screen.findByTestId("not-grounded")).toBeTruthy();
    expect(screen.getByText("Not in your notices")).toBeTruthy();
    expect(screen.queryByText("Sources")).toBeNull();
  });

  it("shows a timeout and asks again on retry", async () => {
    const chat = jest
      .fn()
      .mockResolvedValueOnce({ kind: "timeout", temporary: true, message: "The server took too long to answer. Try again." })
      .mockResolvedValueOnce(ok(answer()));
    renderWithApp(<AskScreen />, { api: fakeApi({ chat }) });
    ask("When is the party?");
    expect(await screen.findByText("No answer in time")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Try again" }));
    await waitFor(() => expect(chat).toHaveBeenCalledTimes(2));
    expect(await screen.findByText("The party is on Saturday.")).toBeTruthy();
  });
});
